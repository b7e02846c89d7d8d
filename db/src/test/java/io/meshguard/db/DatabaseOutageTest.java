package io.meshguard.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.zaxxer.hikari.HikariDataSource;
import java.net.ServerSocket;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The PostgreSQL driver's and the pool's own failures, against a port nothing listens on. */
class DatabaseOutageTest {

    private static int closedPort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Test
    void in_driverCannotConnect_isAnOutageWithItsSqlState_evenWrapped() throws Exception {
        SQLException refused = catchThrowableOfType(
                SQLException.class,
                () -> DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + closedPort() + "/x", "u", "p"));

        assertThat(DatabaseOutage.in(refused))
                .hasValueSatisfying(o -> assertThat(o.describe()).isEqualTo("SQLSTATE 08001"));
        assertThat(DatabaseOutage.in(new IllegalStateException("cannot read the gateway configuration", refused)))
                .as("a store's exception with the driver's as its cause")
                .isPresent();
    }

    @Test
    void in_poolTimesOut_isAnOutage() throws Exception {
        try (HikariDataSource pool =
                DataSourceFactory.create(DbSettings.of("jdbc:postgresql://127.0.0.1:" + closedPort() + "/x", "u", "p")
                        .withValidationTimeout(Duration.ofMillis(250))
                        .withConnectionTimeout(Duration.ofMillis(500)))) {
            SQLTransientConnectionException timedOut =
                    catchThrowableOfType(SQLTransientConnectionException.class, pool::getConnection);

            assertThat(DatabaseOutage.in(new RuntimeException(timedOut))).isPresent();
        }
    }

    @Test
    void in_constraintOrSerializationFailureOrNoState_isNoOutage() {
        assertThat(DatabaseOutage.in(new SQLException("duplicate key value", "23505")))
                .isEmpty();
        assertThat(DatabaseOutage.in(new SQLException("could not serialize access", "40001")))
                .isEmpty();
        assertThat(DatabaseOutage.in(new RuntimeException(new SQLException("config_revision row altered"))))
                .as("a store's own finding carries no state and is not the database being away")
                .isEmpty();
        assertThat(DatabaseOutage.in(new IllegalArgumentException("no SQL at all")))
                .isEmpty();
    }

    @Test
    void in_shutdownStates_andANextExceptionThatIsOne_areOutages() {
        for (String state : new String[] {"57P01", "57P02", "57P03", "53300", "08006"}) {
            assertThat(DatabaseOutage.in(new SQLException("away", state)))
                    .as(state)
                    .isPresent();
        }
        SQLException batch = new SQLException("batch entry 0 was aborted", "23505");
        batch.setNextException(new SQLException("terminating connection due to administrator command", "57P01"));
        assertThat(DatabaseOutage.in(batch))
                .hasValueSatisfying(o -> assertThat(o.sqlState()).contains("57P01"));
    }
}
