package io.meshguard.testing;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;

/**
 * The one PostgreSQL server of this JVM's tests, started on first use and stopped when the JVM exits.
 * Chosen in this order: {@code MESHGUARD_TEST_JDBC_URL} (an external server), Testcontainers when a
 * Docker engine answers, zonky's embedded PostgreSQL otherwise.
 */
final class SharedPostgresServer {

    private static final Logger LOG = LoggerFactory.getLogger(SharedPostgresServer.class);

    private static PostgresServer server;
    private static RuntimeException failure;
    private static String migratedTemplate;

    private SharedPostgresServer() {}

    static synchronized PostgresServer get() {
        if (server != null) {
            return server;
        }
        if (failure != null) {
            // Starting again for every test class would only repeat the same error, slowly.
            throw new IllegalStateException(
                    "PostgreSQL for tests is unavailable (see the first failure): " + failure.getMessage(), failure);
        }
        try {
            PostgresServer selected = select(System.getenv(), SharedPostgresServer::dockerAvailable);
            Runtime.getRuntime()
                    .addShutdownHook(new Thread(SharedPostgresServer::shutdown, "meshguard-test-postgres-stop"));
            LOG.info("PostgreSQL for tests: {} ({}), {}", selected.backend(), selected, version(selected));
            server = selected;
            return server;
        } catch (RuntimeException e) {
            failure = new IllegalStateException(
                    "No PostgreSQL for tests. Tried in order: " + ExternalPostgresServer.URL_VARIABLE
                            + " (an admin JDBC URL), Testcontainers (needs a Docker engine), embedded PostgreSQL (zonky; as root it "
                            + "needs unprivileged user namespaces). Last error: " + e.getMessage(),
                    e);
            throw failure;
        }
    }

    /**
     * A database on the shared server with every migration applied, made once per JVM; each test class
     * gets a copy. Dropped when the JVM exits.
     */
    static synchronized String migratedTemplate() {
        if (migratedTemplate == null) {
            PostgresServer s = get();
            String name = ClassDatabase.uniqueName(MigratedTemplate.class);
            ClassDatabase.createMigratedTemplate(s, name);
            migratedTemplate = name;
        }
        return migratedTemplate;
    }

    private static synchronized void shutdown() {
        if (server == null) {
            return;
        }
        if (migratedTemplate != null) {
            // An external server outlives us: leave nothing behind in it.
            ClassDatabase.drop(server, migratedTemplate);
        }
        server.close();
    }

    /** Names the template database: {@code mg_migrated_template_<random>}. */
    private static final class MigratedTemplate {}

    /** The backend the order above picks for {@code env}; starts it unless it is external. */
    static PostgresServer select(Map<String, String> env, BooleanSupplier dockerAvailable) {
        String url = env.get(ExternalPostgresServer.URL_VARIABLE);
        if (url != null && !url.isBlank()) {
            return ExternalPostgresServer.fromEnvironment(env);
        }
        if (dockerAvailable.getAsBoolean()) {
            return ContainerPostgresServer.start(env);
        }
        return EmbeddedPostgresServer.start();
    }

    private static boolean dockerAvailable() {
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException | LinkageError e) {
            LOG.debug("Docker probe failed", e);
            return false;
        }
    }

    private static String version(PostgresServer s) {
        try (Connection c = DriverManager.getConnection(s.jdbcUrl(s.adminDatabase()), s.user(), s.password());
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("show server_version")) {
            rs.next();
            return "PostgreSQL " + rs.getString(1);
        } catch (SQLException e) {
            throw new IllegalStateException("Cannot connect to " + s + ": " + e.getMessage(), e);
        }
    }
}
