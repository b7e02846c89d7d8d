package io.meshguard.cli;

import java.util.List;

/** The servers {@code meshguard up} runs, in start order. Each server's issue adds its part here. */
final class StackParts {
    private StackParts() {}

    static List<StackPart> all() {
        // Audit first: the servers after it record into its writer, and it is closed after them.
        io.meshguard.cli.audit.AuditPart audit = new io.meshguard.cli.audit.AuditPart();
        return List.of(audit, new io.meshguard.cli.dlp.DlpStackPart(audit));
    }
}
