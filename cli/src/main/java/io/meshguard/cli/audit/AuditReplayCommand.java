package io.meshguard.cli.audit;

import io.meshguard.audit.AuditWriter;
import io.meshguard.audit.AuditWriterSettings;
import io.meshguard.audit.AuditWriterStatus;
import io.meshguard.audit.ConnectionSource;
import io.meshguard.audit.spool.SpoolSettings;
import io.meshguard.cli.common.DatabaseOptions;
import io.meshguard.runtime.config.ConfigType;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code meshguard audit replay --spool DIR}: writes the events waiting in an audit spool that no server will
 * replay any more (a StatefulSet replica scaled away, a volume from a dead node) into PostgreSQL, then exits.
 * Replay is idempotent (events already in the database are skipped), so running it twice, or on a spool a server
 * had partly replayed, loses and duplicates nothing. The spool must not be in use by a running server.
 */
@Command(
        name = "replay",
        mixinStandardHelpOptions = true,
        description = {
            "Replay an orphaned audit spool into PostgreSQL and exit (0: spool empty, 1: not all written).",
            "Database: --db / MESHGUARD_DB_URL, --db-user / MESHGUARD_DB_USER, password from",
            "--db-password-file / MESHGUARD_DB_PASSWORD_FILE or MESHGUARD_DB_PASSWORD (the servers' settings);",
            "without them, the database of the `meshguard up` running on --data-dir.",
            "Never point it at a spool a running server uses."
        })
public final class AuditReplayCommand implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;

    @Option(
            names = "--spool",
            required = true,
            paramLabel = "DIR",
            description = "The spool directory (audit.spool.dir of the server that wrote it).")
    Path spool;

    @CommandLine.Mixin
    DatabaseOptions database = new DatabaseOptions();

    @Option(
            names = "--timeout",
            defaultValue = "10m",
            description = "Give up when the spool is not empty after this long (default: ${DEFAULT-VALUE}).")
    String timeout;

    @Override
    public Integer call() throws Exception {
        return replay(System.getenv());
    }

    int replay(Map<String, String> env) throws Exception {
        Duration limit;
        try {
            limit = ConfigType.duration().parse(timeout.trim());
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--timeout: " + e.getMessage());
        }
        DatabaseOptions.Target target;
        try {
            target = database.target(env);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        // A mistyped path must not "succeed" by replaying a fresh, empty spool.
        if (!Files.isDirectory(spool)) {
            throw new IOException("no audit spool at " + spool + " (not a directory)");
        }
        PrintWriter out = spec.commandLine().getOut();
        long segments = segmentFiles();
        if (segments == 0) {
            out.printf("audit spool %s holds no segments: nothing to replay%n", spool);
            out.flush();
            return 0;
        }
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        AuditWriter writer = AuditWriter.start(
                AuditWriterSettings.defaults(SpoolSettings.defaults(spool)),
                ConnectionSource.forUrl(
                        target.url(),
                        target.user().orElse(""),
                        target.password().orElse(""),
                        Duration.ofSeconds(10)),
                meters);
        boolean drained;
        AuditWriterStatus status;
        try {
            drained = writer.awaitWritten(limit);
            status = writer.status();
        } finally {
            writer.close();
        }
        long replayed =
                (long) meters.get("meshguard.audit.events.replayed").counter().count();
        long duplicates =
                (long) meters.get("meshguard.audit.replay.duplicates").counter().count();
        long corrupt = (long)
                meters.get("meshguard.audit.spool.corrupt.records").counter().count();
        long rejected =
                (long) meters.get("meshguard.audit.events.rejected").counter().count();
        out.printf(
                "replayed %d event(s) from %s (%d already in the database, %d corrupt record(s) skipped, %d refused"
                        + " by the database and kept in %s)%n",
                replayed, spool, duplicates, corrupt, rejected, spool.resolve("rejected"));
        out.flush();
        if (!drained) {
            spec.commandLine()
                    .getErr()
                    .printf(
                            "%s: the spool is not empty after %s: %s; run it again%n",
                            spec.qualifiedName(), timeout, status.describe());
            spec.commandLine().getErr().flush();
            return 1;
        }
        return 0;
    }

    private long segmentFiles() throws IOException {
        try (Stream<Path> files = Files.list(spool)) {
            return files.filter(Files::isRegularFile)
                    .filter(f -> !f.getFileName().toString().startsWith("."))
                    .count();
        }
    }
}
