package io.meshguard.cli;

import io.meshguard.db.DbSettings;
import io.meshguard.runtime.metrics.ProcessMetrics;
import java.nio.file.Path;
import javax.sql.DataSource;

/**
 * What {@code meshguard up} hands to each server it runs in its process.
 *
 * @param metrics the process's one registry; servers register through {@code metrics.forServer(name)}
 * @param dataSource pooled connections to the local database, already migrated
 * @param db the settings behind {@code dataSource}, for servers that open their own connections (LISTEN/NOTIFY)
 * @param dataDir the {@code --data-dir}; servers keep their local state (spools) below it
 * @param policiesDir the repository's {@code policies/} directory
 * @param anyPort every server listens on a free port (0) instead of its well-known one: for a stack inside a test
 *     run, where a well-known port that happens to be free now may be taken by another run a moment later
 */
public record StackContext(
        ProcessMetrics metrics, DataSource dataSource, DbSettings db, Path dataDir, Path policiesDir, boolean anyPort) {

    /** The context of {@code meshguard up}: well-known ports where free. */
    public StackContext(ProcessMetrics metrics, DataSource dataSource, DbSettings db, Path dataDir, Path policiesDir) {
        this(metrics, dataSource, db, dataDir, policiesDir, false);
    }

    /** The port a server of this stack binds: {@code wellKnown} when free ({@link LocalPorts}), or 0 with {@link #anyPort}. */
    public int port(int wellKnown) {
        return anyPort ? 0 : LocalPorts.preferred(wellKnown);
    }
}
