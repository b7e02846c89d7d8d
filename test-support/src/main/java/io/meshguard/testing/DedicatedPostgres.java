package io.meshguard.testing;

import com.zaxxer.hikari.HikariDataSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Optional;
import java.util.stream.Stream;
import org.jooq.DSLContext;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A PostgreSQL server owned by one test class, for tests about the database going away and coming back:
 *
 * <pre>{@code
 * @RegisterExtension
 * static final DedicatedPostgres PG = PostgresExtension.dedicated();
 * ...
 * PG.stopServer();   // connections break, new ones are refused
 * PG.startServer();  // same port, same data
 * }</pre>
 *
 * <p>It is zonky's embedded PostgreSQL regardless of what the shared fixture uses; where that cannot run
 * (for example as root without user namespaces) the class is skipped, not failed.
 */
public final class DedicatedPostgres implements PostgresDatabase, BeforeAllCallback, AfterAllCallback {

    private static final Logger LOG = LoggerFactory.getLogger(DedicatedPostgres.class);

    private final boolean migrate;
    private Path dataDirectory;
    private int port;
    private EmbeddedPostgresServer server;
    private ClassDatabase database;
    private String ownerContextId;
    private Thread shutdownHook;

    DedicatedPostgres(boolean migrate) {
        this.migrate = migrate;
    }

    /** An empty database: no tables, no Flyway history. */
    public DedicatedPostgres withoutMigrations() {
        return new DedicatedPostgres(false);
    }

    @Override
    public synchronized void beforeAll(ExtensionContext context) throws IOException {
        if (database != null) {
            return; // @Nested: shares the outer class's server
        }
        dataDirectory = Files.createTempDirectory("meshguard-dedicated-pg");
        try {
            server = EmbeddedPostgresServer.start(Optional.of(dataDirectory), 0);
        } catch (RuntimeException e) {
            deleteDataDirectory();
            Assumptions.abort("Embedded PostgreSQL cannot run here, so this class is skipped: " + e.getMessage());
        }
        port = server.port();
        shutdownHook = new Thread(this::stopQuietly, "meshguard-dedicated-postgres-stop");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
        database = ClassDatabase.create(server, context.getRequiredTestClass(), migrate);
        ownerContextId = context.getUniqueId();
    }

    @Override
    public synchronized void afterAll(ExtensionContext context) {
        if (database == null || !context.getUniqueId().equals(ownerContextId)) {
            return;
        }
        try {
            database.dataSource().close();
            stopQuietly();
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } finally {
            deleteDataDirectory();
            database = null;
            ownerContextId = null;
        }
    }

    /**
     * Stops the server (fast shutdown: open sessions are ended) and returns once it is down. Until
     * {@link #startServer()} every connection attempt fails.
     */
    public synchronized void stopServer() {
        started();
        if (server == null) {
            throw new IllegalStateException("the server is already stopped");
        }
        server.close();
        server = null;
        LOG.info("Dedicated PostgreSQL on port {} stopped", port);
    }

    /** Starts the server again on the same port and data directory, and refreshes the fixture's pool. */
    public synchronized void startServer() {
        started();
        if (server != null) {
            throw new IllegalStateException("the server is already running");
        }
        server = EmbeddedPostgresServer.start(Optional.of(dataDirectory), port);
        // Connections from before the stop are dead: let the pool replace them instead of handing them out.
        database.dataSource().getHikariPoolMXBean().softEvictConnections();
        LOG.info("Dedicated PostgreSQL on port {} started again", port);
    }

    public synchronized boolean isServerRunning() {
        return server != null;
    }

    /** The server's port; stays the same across {@link #stopServer()} and {@link #startServer()}. */
    public int port() {
        started();
        return port;
    }

    /** The server's data directory; stays the same across stop and start. */
    public Path dataDirectory() {
        started();
        return dataDirectory;
    }

    @Override
    public String jdbcUrl() {
        return started().jdbcUrl();
    }

    @Override
    public String user() {
        return "postgres";
    }

    @Override
    public String password() {
        return "";
    }

    @Override
    public String databaseName() {
        return started().name();
    }

    @Override
    public HikariDataSource dataSource() {
        return started().dataSource();
    }

    @Override
    public DSLContext dsl() {
        return started().dsl();
    }

    private synchronized ClassDatabase started() {
        if (database == null) {
            throw new IllegalStateException("DedicatedPostgres has no server: register it on a static field "
                    + "(@RegisterExtension static final DedicatedPostgres PG = PostgresExtension.dedicated();)");
        }
        return database;
    }

    private synchronized void stopQuietly() {
        if (server != null) {
            try {
                server.close();
            } catch (RuntimeException e) {
                LOG.warn("Stopping dedicated PostgreSQL failed: {}", e.getMessage());
            }
            server = null;
        }
    }

    private void deleteDataDirectory() {
        if (dataDirectory == null) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dataDirectory)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException("Could not delete " + dataDirectory, e);
        }
    }
}
