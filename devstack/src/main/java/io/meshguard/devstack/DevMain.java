package io.meshguard.devstack;

import io.meshguard.cli.Main;
import io.meshguard.devstack.demo.DemoCommand;
import java.util.List;
import picocli.CommandLine;

/**
 * The developer's {@code meshguard} (devstack/target/meshguard-dev.jar, which {@code ./meshguard} runs): every command
 * of the shipped {@link Main} plus {@code up} (the whole stack on an embedded PostgreSQL, a Redis and optionally a
 * Keycloak of its own), {@code local backup|restore} of up's data directory, and {@code demo}.
 */
public final class DevMain {
    private static final List<Class<?>> COMMANDS = List.of(UpCommand.class, LocalCommand.class, DemoCommand.class);

    private DevMain() {}

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the command line and returns its exit code; tests call this instead of {@link #main}. */
    public static int execute(String... args) {
        return Main.commandLine(COMMANDS, args).execute(args);
    }

    /** The shipped command line with the developer's commands added, as {@link #execute} runs it. */
    public static CommandLine commandLine() {
        return Main.commandLine(COMMANDS);
    }
}
