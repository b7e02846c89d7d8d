package io.meshguard.testing;

import static io.meshguard.testing.jooq.Tables.GATEWAY_GROUP;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

@IntegrationTest
class DedicatedPostgresTest {

    @RegisterExtension
    static final DedicatedPostgres PG = PostgresExtension.dedicated();

    @Test
    void stopThenStart_samePortAndData_poolServesAgain() throws Exception {
        PG.dsl()
                .insertInto(GATEWAY_GROUP, GATEWAY_GROUP.NAME, GATEWAY_GROUP.ENVIRONMENT)
                .values("before-outage", "test")
                .execute();
        int port = PG.port();
        long pid = postmasterPid(PG.dataDirectory());

        PG.stopServer();
        try {
            assertThat(PG.isServerRunning()).isFalse();
            assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false))
                    .as("server process gone")
                    .isFalse();
            assertThatThrownBy(() -> DriverManager.getConnection(PG.jdbcUrl(), PG.user(), PG.password())
                            .close())
                    .isInstanceOf(SQLException.class);
        } finally {
            PG.startServer();
        }

        assertThat(PG.isServerRunning()).isTrue();
        assertThat(PG.port()).isEqualTo(port);
        assertThat(postmasterPid(PG.dataDirectory())).isNotEqualTo(pid);
        assertThat(PG.jdbcUrl()).contains(":" + port + "/");
        assertThat(PG.dsl().fetchExists(GATEWAY_GROUP, GATEWAY_GROUP.NAME.eq("before-outage")))
                .isTrue();
        PG.dsl()
                .insertInto(GATEWAY_GROUP, GATEWAY_GROUP.NAME, GATEWAY_GROUP.ENVIRONMENT)
                .values("after-outage", "test")
                .execute();
    }

    @Test
    void stopServer_whenStopped_andStartServer_whenRunning_areRejected() {
        assertThatThrownBy(PG::startServer)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("already running");
        PG.stopServer();
        try {
            assertThatThrownBy(PG::stopServer)
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("already stopped");
        } finally {
            PG.startServer();
        }
        assertThat(PG.dsl().fetchValue("select 1")).isEqualTo(1);
    }

    private static long postmasterPid(Path dataDirectory) throws Exception {
        return Long.parseLong(Files.readAllLines(dataDirectory.resolve("postmaster.pid"))
                .get(0)
                .trim());
    }
}
