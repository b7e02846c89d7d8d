package io.meshguard.cli.audit;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code meshguard audit}: the read side of the audit log. */
@Command(
        name = "audit",
        mixinStandardHelpOptions = true,
        description = "Query and export the audit log; replay an orphaned spool; verify the admin trail.",
        subcommands = {
            AuditQueryCommand.class,
            AuditExportCommand.class,
            AuditReceiverCommand.class,
            AuditReplayCommand.class,
            AuditVerifyCommand.class
        })
public final class AuditCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(
                spec.commandLine(), "a subcommand is required: query, export, receiver, replay or verify");
    }
}
