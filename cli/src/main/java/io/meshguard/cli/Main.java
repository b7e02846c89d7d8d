package io.meshguard.cli;

import io.meshguard.cli.api.ApiCommand;
import io.meshguard.cli.audit.AuditCommand;
import io.meshguard.cli.authz.ApiKeyCommand;
import io.meshguard.cli.authz.AuthzCommand;
import io.meshguard.cli.authz.ExtAuthzCommand;
import io.meshguard.cli.authz.QuotaCommand;
import io.meshguard.cli.canary.CanaryCommand;
import io.meshguard.cli.catalog.CatalogCommand;
import io.meshguard.cli.catalog.ClusterCommand;
import io.meshguard.cli.catalog.TenantCommand;
import io.meshguard.cli.common.ServerCommand;
import io.meshguard.cli.coverage.CoverageCommand;
import io.meshguard.cli.db.DbCommand;
import io.meshguard.cli.dev.DevCommand;
import io.meshguard.cli.dlp.DlpCommand;
import io.meshguard.cli.policy.PolicyCommand;
import io.meshguard.cli.xds.XdsCommand;
import io.meshguard.cli.zone.ZoneCommand;
import java.io.PrintWriter;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
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
        description = "JWT authorization, streaming DLP, audit and xDS for Istio/Envoy meshes.")
public final class Main implements Runnable {
    /**
     * The shipped top-level commands. Picocli reads a command's whole tree (annotations, option types, nested
     * commands) when it is added, which is most of a command's start time, so a run adds only the command it names;
     * help and a name that matches none get them all.
     */
    private static final List<Class<?>> COMMANDS = List.of(
            LoginCommand.class,
            ExtAuthzCommand.class,
            AuthzCommand.class,
            ApiKeyCommand.class,
            QuotaCommand.class,
            PolicyCommand.class,
            AuditCommand.class,
            DbCommand.class,
            ApiCommand.class,
            CoverageCommand.class,
            CanaryCommand.class,
            DlpCommand.class,
            XdsCommand.class,
            DevCommand.class,
            CatalogCommand.class,
            ClusterCommand.class,
            TenantCommand.class,
            ZoneCommand.class);

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the command line and returns its exit code; tests call this instead of {@link #main}. */
    public static int execute(String... args) {
        return commandLine(List.of(), args).execute(args);
    }

    /** The shipped command line with every command. */
    public static CommandLine commandLine() {
        return commandLine(List.of());
    }

    /**
     * The shipped command line plus {@code addedCommands} (classes annotated with {@code @Command}) after the shipped
     * ones: the developer's jar (module devstack, {@code DevMain}) adds {@code up}, {@code local} and {@code demo}, so
     * what the image runs carries no embedded PostgreSQL, Redis or Keycloak.
     */
    public static CommandLine commandLine(List<Class<?>> addedCommands) {
        return build(Stream.concat(COMMANDS.stream(), addedCommands.stream()).toList());
    }

    /**
     * The command line {@code args} need: only the top-level command they name, none for the version, every command
     * when none is named (help, and a mistyped name, which picocli answers with the nearest names).
     */
    public static CommandLine commandLine(List<Class<?>> addedCommands, String... args) {
        if (args.length == 1 && (args[0].equals("-V") || args[0].equals("--version"))) {
            return build(List.of());
        }
        List<Class<?>> all =
                Stream.concat(COMMANDS.stream(), addedCommands.stream()).toList();
        List<Class<?>> named = args.length == 0
                ? List.of()
                : all.stream().filter(c -> names(c).contains(args[0])).toList();
        return build(named.isEmpty() ? all : named);
    }

    private static List<String> names(Class<?> command) {
        Command annotation = command.getAnnotation(Command.class);
        return Stream.concat(Stream.of(annotation.name()), Arrays.stream(annotation.aliases()))
                .toList();
    }

    private static CommandLine build(List<Class<?>> commands) {
        CommandLine commandLine = new CommandLine(new Main());
        commands.forEach(commandLine::addSubcommand);
        commandLine.addSubcommand(CommandLine.HelpCommand.class);
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
