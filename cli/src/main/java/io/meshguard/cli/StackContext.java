package io.meshguard.cli;

import io.meshguard.db.DbSettings;
import io.meshguard.runtime.metrics.ProcessMetrics;
import io.meshguard.runtime.tracing.Tracing;
import java.nio.file.Path;
import javax.sql.DataSource;

/**
 * What {@code meshguard up} hands to each server it runs in its process.
 *
 * @param tracing the process's one tracing (OTEL_* variables; off unless OTEL_TRACES_EXPORTER=otlp)
 * @param metrics the process's one registry; servers register through {@code metrics.forServer(name)}
 * @param dataSource pooled connections to the local database, already migrated
 * @param db the settings behind {@code dataSource}, for servers that open their own connections (LISTEN/NOTIFY)
 * @param dataDir the {@code --data-dir}; servers keep their local state (spools) below it
 * @param policiesDir the repository's {@code policies/} directory
 * @param ports the port each server listens on (0: any free one)
 */
public record StackContext(
        ProcessMetrics metrics, DataSource dataSource, DbSettings db, Path dataDir, Path policiesDir, UpPorts ports,
        Tracing tracing) {

    /** Without tracing. */
    public StackContext(ProcessMetrics metrics, DataSource dataSource, DbSettings db, Path dataDir, Path policiesDir,
            UpPorts ports) {
        this(metrics, dataSource, db, dataDir, policiesDir, ports, Tracing.disabled());
    }

    /** A context whose servers all listen on free ports (tests, a stack beside another). */
    public StackContext(ProcessMetrics metrics, DataSource dataSource, DbSettings db, Path dataDir, Path policiesDir) {
        this(metrics, dataSource, db, dataDir, policiesDir, UpPorts.ANY);
    }
}
