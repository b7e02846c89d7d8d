package io.meshguard.testing.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.pool.HikariPool;
import io.meshguard.db.DataSourceFactory;
import io.meshguard.db.DbSettings;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import java.net.ServerSocket;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

@IntegrationTest
class DataSourceFactoryTest {

    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension().withoutMigrations();

    @Test
    void create_namesPoolAndSessionsAfterApplication() throws SQLException {
        try (HikariDataSource ds =
                DataSourceFactory.create(PG.dbSettings().withApplicationName("meshguard-extauthz"))) {
            assertThat(ds.getPoolName()).isEqualTo("meshguard-extauthz");
            assertThat(query(ds, "select application_name from pg_stat_activity where pid = pg_backend_pid()"))
                    .isEqualTo("meshguard-extauthz");
        }
    }

    @Test
    void create_customizer_reachesTheDriver() throws SQLException {
        try (HikariDataSource ds = DataSourceFactory.create(
                PG.dbSettings(), config -> config.addDataSourceProperty("options", "-c statement_timeout=1234"))) {
            assertThat(query(ds, "show statement_timeout")).isEqualTo("1234ms");
        }
    }

    @Test
    void create_databaseRequiredAndReachable_opensConnectionsAtOnce() throws SQLException {
        try (HikariDataSource ds = DataSourceFactory.create(
                PG.dbSettings().withRequireDatabaseAtStart(true).withPoolSize(3, 2))) {
            assertThat(ds.getMaximumPoolSize()).isEqualTo(3);
            assertThat(query(ds, "select current_database()")).isEqualTo(PG.databaseName());
        }
    }

    @Test
    void create_databaseRequiredButUnreachable_failsAtCreation() throws Exception {
        DbSettings unreachable = unreachableSettings().withRequireDatabaseAtStart(true);

        assertThatThrownBy(() -> DataSourceFactory.create(unreachable).close())
                .isInstanceOf(HikariPool.PoolInitializationException.class);
    }

    @Test
    void create_databaseNotRequiredAndUnreachable_startsAndFailsOnUse() throws Exception {
        try (HikariDataSource ds = DataSourceFactory.create(unreachableSettings())) {
            assertThat(ds.isRunning()).isTrue();
            assertThatThrownBy(ds::getConnection).isInstanceOf(SQLException.class);
        }
    }

    private static DbSettings unreachableSettings() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        return DbSettings.of("jdbc:postgresql://127.0.0.1:" + closedPort + "/meshguard", "postgres", "x")
                .withValidationTimeout(Duration.ofMillis(250))
                .withConnectionTimeout(Duration.ofMillis(500));
    }

    private static String query(HikariDataSource ds, String sql) throws SQLException {
        try (Connection c = ds.getConnection();
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(sql)) {
            assertThat(rs.next()).isTrue();
            return rs.getString(1);
        }
    }
}
