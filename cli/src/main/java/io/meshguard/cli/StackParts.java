package io.meshguard.cli;

import io.meshguard.cli.audit.AuditPart;
import io.meshguard.cli.authz.ExtAuthzStackPart;
import io.meshguard.cli.dlp.DlpStackPart;
import io.meshguard.cli.xds.XdsStackPart;
import java.util.List;

/** The servers {@code meshguard up} runs, in start order. Each server's issue adds its part here. */
final class StackParts {
    private StackParts() {}

    static List<StackPart> all() {
        // Audit first: the servers after it record into its writer, and it is closed after them.
        AuditPart audit = new AuditPart();
        return List.of(audit, new ExtAuthzStackPart(audit), new DlpStackPart(audit), new XdsStackPart(audit));
    }
}
