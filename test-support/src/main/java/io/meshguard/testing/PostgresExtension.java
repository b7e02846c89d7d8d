package io.meshguard.testing;

import com.zaxxer.hikari.HikariDataSource;
import org.jooq.DSLContext;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A fresh PostgreSQL database for each test class, with the meshguard schema applied:
 *
 * <pre>{@code
 * @RegisterExtension
 * static final PostgresExtension PG = new PostgresExtension();
 * }</pre>
 *
 * <p>The server behind it starts once per JVM: an external server named by {@code MESHGUARD_TEST_JDBC_URL}
 * (an admin URL), else Testcontainers when a Docker engine answers, else zonky's embedded PostgreSQL. Each
 * class gets its own database, dropped after the class, so classes never see each other's rows. Use
 * {@link #withoutMigrations()} for an empty database, {@link #dedicated()} for a server of the class's own
 * that a test can stop and start.
 */
public final class PostgresExtension implements PostgresDatabase, BeforeAllCallback, AfterAllCallback {

    private final boolean migrate;
    private ClassDatabase database;
    private String ownerContextId;

    /** A database with every migration applied. */
    public PostgresExtension() {
        this(true);
    }

    private PostgresExtension(boolean migrate) {
        this.migrate = migrate;
    }

    /** An empty database: no tables, no Flyway history. */
    public PostgresExtension withoutMigrations() {
        return new PostgresExtension(false);
    }

    /**
     * A PostgreSQL server of the class's own (embedded, zonky) that tests can stop and start again on the
     * same port and data directory. Skipped when embedded PostgreSQL cannot run on this machine.
     */
    public static DedicatedPostgres dedicated() {
        return new DedicatedPostgres(true);
    }

    @Override
    public synchronized void beforeAll(ExtensionContext context) {
        if (database != null) {
            return; // a @Nested class inherits the extension: it shares the outer class's database
        }
        PostgresServer server = SharedPostgresServer.get();
        database = migrate
                ? ClassDatabase.copyOf(server, context.getRequiredTestClass(), SharedPostgresServer.migratedTemplate())
                : ClassDatabase.create(server, context.getRequiredTestClass(), false);
        ownerContextId = context.getUniqueId();
    }

    @Override
    public synchronized void afterAll(ExtensionContext context) {
        if (database != null && context.getUniqueId().equals(ownerContextId)) {
            database.close();
            database = null;
            ownerContextId = null;
        }
    }

    /** Which server the tests run on: {@code external}, {@code testcontainers} or {@code embedded}. */
    public String backend() {
        return SharedPostgresServer.get().backend();
    }

    @Override
    public String jdbcUrl() {
        return started().jdbcUrl();
    }

    @Override
    public String user() {
        started();
        return SharedPostgresServer.get().user();
    }

    @Override
    public String password() {
        started();
        return SharedPostgresServer.get().password();
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
            throw new IllegalStateException("PostgresExtension has no database: register it on a static field "
                    + "(@RegisterExtension static final PostgresExtension PG = new PostgresExtension();) and use it "
                    + "inside the test class's lifecycle");
        }
        return database;
    }
}
