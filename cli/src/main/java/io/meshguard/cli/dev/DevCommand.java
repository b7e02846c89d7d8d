package io.meshguard.cli.dev;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code meshguard dev}: the local development issuer, for trying the stack without an identity provider. */
@Command(
        name = "dev",
        mixinStandardHelpOptions = true,
        description = {
            "Local development helpers: a development JWT issuer that only `up` and `dev init` trust.",
            "Never point a production server at the policy they generate."
        },
        subcommands = {DevTokenCommand.class, DevInitCommand.class})
public final class DevCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required: token or init");
    }
}
