package io.meshguard.cli.api;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code meshguard api}: what the gateway's APIs are used for. */
@Command(
        name = "api",
        mixinStandardHelpOptions = true,
        description = "Reports on the gateway's APIs and their versions.",
        subcommands = {ApiUsageCommand.class})
public final class ApiCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required: usage");
    }
}
