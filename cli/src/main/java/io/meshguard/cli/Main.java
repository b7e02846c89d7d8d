package io.meshguard.cli;

import io.meshguard.cli.audit.AuditCommand;
import io.meshguard.cli.authz.ApiKeyCommand;
import io.meshguard.cli.authz.AuthzCommand;
import io.meshguard.cli.authz.ExtAuthzCommand;
import io.meshguard.cli.common.ServerCommand;
import io.meshguard.cli.dev.DevCommand;
import io.meshguard.cli.dlp.DlpCommand;
import io.meshguard.cli.policy.PolicyCommand;
import io.meshguard.cli.xds.XdsCommand;
import java.io.PrintWriter;
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
            LoginCommand.class,
            ExtAuthzCommand.class,
            AuthzCommand.class,
            ApiKeyCommand.class,
            io.meshguard.cli.authz.QuotaCommand.class,
            PolicyCommand.class,
            AuditCommand.class,
            io.meshguard.cli.db.DbCommand.class,
            io.meshguard.cli.api.ApiCommand.class,
            io.meshguard.cli.coverage.CoverageCommand.class,
            io.meshguard.cli.canary.CanaryCommand.class,
            DlpCommand.class,
            XdsCommand.class,
            DevCommand.class,
            io.meshguard.cli.catalog.CatalogCommand.class,
            io.meshguard.cli.catalog.ClusterCommand.class,
            io.meshguard.cli.catalog.TenantCommand.class,
            io.meshguard.cli.zone.ZoneCommand.class,
            CommandLine.HelpCommand.class
        })
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the command line and returns its exit code; tests call this instead of {@link #main}. */
    public static int execute(String... args) {
        return commandLine().execute(args);
    }

    /** The shipped command line, as {@link #execute} runs it. */
    public static CommandLine commandLine() {
        return commandLine(java.util.List.of());
    }

    /**
     * The shipped command line plus {@code addedCommands} (picocli command objects, each annotated with
     * {@code @Command}) after the shipped ones: the developer's jar (module devstack, {@code DevMain}) adds {@code up},
     * {@code local} and {@code demo}, so what the image runs carries no embedded PostgreSQL, Redis or Keycloak.
     */
    public static CommandLine commandLine(java.util.List<Object> addedCommands) {
        CommandLine commandLine = new CommandLine(new Main());
        addedCommands.forEach(commandLine::addSubcommand);
        return commandLine
                // Wider than picocli's 80 columns where the terminal is: examples and paths stay on one line.
                .setUsageHelpAutoWidth(true)
                .setUsageHelpWidth(100)
                .setCaseInsensitiveEnumValuesAllowed(true)
                .setExecutionExceptionHandler(Main::reportFailure)
                .setExecutionStrategy(Main::runQuietlyUnlessServer);
    }

    /** Runs the command; a tool ({@link ServerCommand} says which are not) logs warnings only while it runs. */
    private static int runQuietlyUnlessServer(CommandLine.ParseResult parsed) {
        CommandLine.ParseResult leaf = parsed;
        while (leaf.hasSubcommand()) {
            leaf = leaf.subcommand();
        }
        ch.qos.logback.classic.Logger root =
                (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        ch.qos.logback.classic.Level before = root.getLevel();
        boolean quiet = !(leaf.commandSpec().userObject() instanceof ServerCommand)
                && System.getenv("MESHGUARD_LOG_LEVEL") == null;
        if (quiet) {
            root.setLevel(ch.qos.logback.classic.Level.WARN);
        }
        try {
            return new CommandLine.RunLast().execute(parsed);
        } finally {
            if (quiet) {
                root.setLevel(before); // tests run many commands in one JVM
            }
        }
    }

    /**
     * A command that fails says what failed in one line, not with a stack trace: the messages of our exceptions
     * are written for the person at the terminal. {@code MESHGUARD_DEBUG=1} adds the stack trace.
     */
    private static int reportFailure(Exception e, CommandLine command, CommandLine.ParseResult parsed) {
        PrintWriter err = command.getErr();
        err.printf("%s: %s%n", command.getCommandSpec().qualifiedName(), e.getMessage() == null ? e : e.getMessage());
        if (System.getenv("MESHGUARD_DEBUG") != null) {
            e.printStackTrace(err);
        }
        err.flush();
        return 1;
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required");
    }
}
