package io.meshguard.cli;

import java.util.List;

/** The servers {@code meshguard up} runs, in start order. Each server's issue adds its part here. */
final class StackParts {
    private StackParts() {}

    static List<StackPart> all() {
        // Audit first: the servers after it record into its writer, and it is closed after them.
        return List.of(new io.meshguard.cli.audit.AuditPart(), new io.meshguard.cli.dlp.DlpStackPart());
    }
}
