package io.meshguard.testing;

import java.util.Map;
import org.testcontainers.postgresql.PostgreSQLContainer;
import org.testcontainers.utility.DockerImageName;

/** PostgreSQL in a Docker container (Testcontainers), for machines with a Docker engine. */
final class ContainerPostgresServer implements PostgresServer {

    static final String IMAGE_VARIABLE = "MESHGUARD_TEST_PG_IMAGE";
    static final String DEFAULT_IMAGE = "postgres:17-alpine";

    private final PostgreSQLContainer container;

    private ContainerPostgresServer(PostgreSQLContainer container) {
        this.container = container;
    }

    static ContainerPostgresServer start(Map<String, String> env) {
        String image = env.getOrDefault(IMAGE_VARIABLE, DEFAULT_IMAGE);
        PostgreSQLContainer container =
                new PostgreSQLContainer(DockerImageName.parse(image).asCompatibleSubstituteFor("postgres"));
        container.start();
        return new ContainerPostgresServer(container);
    }

    @Override
    public String backend() {
        return "testcontainers";
    }

    @Override
    public String jdbcUrl(String database) {
        return ExternalPostgresServer.databaseUrl(container.getJdbcUrl(), database);
    }

    @Override
    public String adminDatabase() {
        return container.getDatabaseName();
    }

    @Override
    public String user() {
        return container.getUsername();
    }

    @Override
    public String password() {
        return container.getPassword();
    }

    @Override
    public void close() {
        container.stop();
    }

    @Override
    public String toString() {
        return "Testcontainers PostgreSQL (" + container.getDockerImageName() + ") at " + container.getJdbcUrl();
    }
}
