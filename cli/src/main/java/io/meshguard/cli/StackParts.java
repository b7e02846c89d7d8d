package io.meshguard.cli;

import io.meshguard.cli.audit.AuditPart;
import io.meshguard.cli.authz.ExtAuthzStackPart;
import io.meshguard.cli.dev.DevIssuerStackPart;
import io.meshguard.cli.dlp.DlpStackPart;
import io.meshguard.cli.xds.XdsStackPart;
import java.util.List;

/** The servers {@code meshguard up} runs, in start order. Each server's issue adds its part here. */
final class StackParts {
    private StackParts() {}

    static List<StackPart> all() {
        // Audit first: the servers after it record into its writer, and it is closed after them.
        AuditPart audit = new AuditPart();
        // The dev issuer before extauthz: it writes the policy extauthz loads and serves the keys it fetches.
        DevIssuerStackPart devIssuer = new DevIssuerStackPart();
        ExtAuthzStackPart extauthz = new ExtAuthzStackPart(audit, devIssuer);
        DlpStackPart dlp = new DlpStackPart(audit);
        // The xDS controller last: the gateway config it serves points at the ports extauthz and DLP got.
        return List.of(audit, devIssuer, extauthz, dlp, new XdsStackPart(audit, extauthz, dlp));
    }
}
