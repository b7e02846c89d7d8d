package io.meshguard.cli.api;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code meshguard api}: a tenant's APIs in a gateway group's draft, and what they are used for. */
@Command(
        name = "api",
        mixinStandardHelpOptions = true,
        description = "Creates a tenant's API (upstream, API, routes) in a gateway group, removes it, reports its use.",
        subcommands = {ApiCreateCommand.class, ApiDeleteCommand.class, ApiUsageCommand.class})
public final class ApiCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(
                spec.commandLine(), "a subcommand is required: create, delete or usage");
    }
}
