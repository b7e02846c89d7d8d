package io.meshguard.devstack.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariDataSource;
import io.meshguard.db.DataSourceFactory;
import io.meshguard.db.PgChannelListener;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@Tag("integration")
class PgChannelListenerTest {
    private static final String CHANNEL = "meshguard_listener_test";

    @TempDir
    static Path tmp;

    static LocalPostgres pg;
    static HikariDataSource ds;

    @BeforeAll
    static void start() throws Exception {
        pg = LocalPostgres.start(tmp.resolve("pgdata"), 0);
        ds = DataSourceFactory.create(pg.dbSettings("meshguard-test"));
    }

    @AfterAll
    static void stop() {
        ds.close();
        pg.close();
    }

    private static void sql(String statement) throws SQLException {
        try (Connection c = ds.getConnection();
                Statement st = c.createStatement()) {
            st.execute(statement);
        }
    }

    @Test
    void connecting_callsOnce_thenEachNotificationCallsAgain() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        try (PgChannelListener listener = new PgChannelListener(
                        ds, CHANNEL, Duration.ZERO, Duration.ofMinutes(5), calls::incrementAndGet)
                .start("test-listener")) {
            await().atMost(Duration.ofSeconds(10)).until(() -> calls.get() == 1);
            sql("NOTIFY " + CHANNEL);
            await().atMost(Duration.ofSeconds(10)).until(() -> calls.get() == 2);
            sql("NOTIFY " + CHANNEL + ", 'again'");
            await().atMost(Duration.ofSeconds(10)).until(() -> calls.get() == 3);
        }
    }

    @Test
    void aBurstWithinTheDebounce_isOneCall() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        try (PgChannelListener listener = new PgChannelListener(
                        ds, CHANNEL, Duration.ofSeconds(3), Duration.ofMinutes(5), calls::incrementAndGet)
                .start("test-listener")) {
            await().atMost(Duration.ofSeconds(10)).until(() -> calls.get() == 1);
            // five commits 100 ms apart, as a multi-group publish makes: one call once they are all in
            for (int i = 0; i < 5; i++) {
                sql("NOTIFY " + CHANNEL + ", '" + i + "'");
                Thread.sleep(100);
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> calls.get() >= 2);
            Thread.sleep(1000); // a second call, had the burst been split, would have come by now
            assertThat(calls.get())
                    .as("calls: one on connecting, one for the burst")
                    .isEqualTo(2);
        }
    }

    @Test
    void withoutNotifications_theSafetyNetCalls() {
        AtomicInteger calls = new AtomicInteger();
        try (PgChannelListener listener = new PgChannelListener(
                        ds, CHANNEL, Duration.ZERO, Duration.ofMillis(200), calls::incrementAndGet)
                .start("test-listener")) {
            await().atMost(Duration.ofSeconds(10)).until(() -> calls.get() >= 3);
        }
    }

    @Test
    void aKilledConnection_isReopened_andTheReconnectCallsAgain() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        try (PgChannelListener listener = new PgChannelListener(
                        ds, CHANNEL, Duration.ZERO, Duration.ofMinutes(5), calls::incrementAndGet)
                .start("test-listener")) {
            await().atMost(Duration.ofSeconds(10)).until(() -> calls.get() == 1);
            // what a failover or an idle-connection reaper does to the listening session
            sql("select pg_terminate_backend(pid) from pg_stat_activity where query like 'LISTEN%'");
            // notifications sent while no one listened are lost: the reconnect's own call covers them
            await().atMost(Duration.ofSeconds(15)).until(() -> calls.get() >= 2);
            int afterReconnect = calls.get();
            await().atMost(Duration.ofSeconds(10)).ignoreExceptions().until(() -> {
                sql("NOTIFY " + CHANNEL);
                return calls.get() > afterReconnect;
            });
        }
    }

    @Test
    void aFailingCallback_isLogged_andTheListenerGoesOn() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        try (PgChannelListener listener = new PgChannelListener(
                        ds, CHANNEL, Duration.ZERO, Duration.ofMinutes(5), () -> {
                            if (calls.incrementAndGet() == 1) {
                                throw new IllegalStateException("the store is away");
                            }
                        })
                .start("test-listener")) {
            await().atMost(Duration.ofSeconds(10)).until(() -> calls.get() == 1);
            sql("NOTIFY " + CHANNEL);
            await().atMost(Duration.ofSeconds(10)).until(() -> calls.get() == 2);
        }
    }

    @Test
    void aChannelNameThatIsNotPlain_isRefused() {
        assertThatThrownBy(() ->
                        new PgChannelListener(ds, "x; drop table t", Duration.ZERO, Duration.ofSeconds(1), () -> {}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("x; drop table t");
    }
}
