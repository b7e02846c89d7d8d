package io.meshguard.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code meshguard} command: one jar for running the servers, the whole stack locally, and the tools the
 * security team and operators use.
 */
@Command(
        name = "meshguard",
        mixinStandardHelpOptions = true,
        versionProvider = MeshguardVersion.class,
        description = "JWT authorization, streaming DLP, audit and xDS for Istio/Envoy meshes.",
        subcommands = {
            UpCommand.class,
            CommandLine.HelpCommand.class
        })
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns its exit code; tests call this instead of {@link #main}. */
    public static int run(String... args) {
        CommandLine commandLine = new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true);
        PlannedCommands.addTo(commandLine);
        return commandLine.execute(args);
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required");
    }
}
