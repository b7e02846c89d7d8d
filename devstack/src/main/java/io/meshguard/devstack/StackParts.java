package io.meshguard.devstack;

import io.meshguard.devstack.audit.AuditPart;
import io.meshguard.devstack.authz.ExtAuthzStackPart;
import io.meshguard.devstack.dev.DevIssuerStackPart;
import io.meshguard.devstack.dlp.DlpStackPart;
import io.meshguard.devstack.part.StackPart;
import io.meshguard.devstack.xds.XdsStackPart;
import java.util.List;

/** The servers {@code meshguard up} runs, in start order. Each server's issue adds its part here. */
public final class StackParts {
    private StackParts() {}

    /** A new set of parts (each part holds its running servers once started), in start order. */
    public static List<StackPart> all() {
        // Audit first: the servers after it record into its writer, and it is closed after them.
        AuditPart audit = new AuditPart();
        // The dev issuer before extauthz: it writes the policy extauthz loads and serves the keys it fetches.
        DevIssuerStackPart devIssuer = new DevIssuerStackPart();
        ExtAuthzStackPart extAuthz = new ExtAuthzStackPart(audit, devIssuer);
        DlpStackPart dlp = new DlpStackPart(audit);
        // The xDS controller last: the gateway config it emits points at the ports the servers before it got.
        return List.of(audit, devIssuer, extAuthz, dlp, new XdsStackPart(audit, devIssuer, extAuthz, dlp));
    }
}
