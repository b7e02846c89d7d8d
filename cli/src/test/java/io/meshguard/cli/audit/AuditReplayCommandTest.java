package io.meshguard.cli.audit;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.audit.AuditEvent;
import io.meshguard.audit.AuditKind;
import io.meshguard.audit.AuditWriter;
import io.meshguard.audit.AuditWriterSettings;
import io.meshguard.audit.ConnectionSource;
import io.meshguard.audit.spool.SpoolSettings;
import io.meshguard.cli.CliRun;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The spool a scaled-away StatefulSet replica leaves behind: events written while PostgreSQL was unreachable,
 * the writer gone. {@code meshguard audit replay} must get every one of them into the real database, exactly once.
 */
@IntegrationTest
class AuditReplayCommandTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @TempDir
    Path spool;

    private static String dbUrl() {
        String sep = PG.jdbcUrl().contains("?") ? "&" : "?";
        return PG.jdbcUrl() + sep + "user=" + PG.user() + "&password=" + PG.password();
    }

    /** Writes {@code count} events with PostgreSQL unreachable, so they all end in the spool; returns their tenant. */
    private String spoolWhileDatabaseIsDown(int count) throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        String tenant = "replay-" + UUID.randomUUID();
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        AuditWriter writer = AuditWriter.start(
                AuditWriterSettings.defaults(SpoolSettings.defaults(spool)).withFlushInterval(Duration.ofMillis(20)),
                ConnectionSource.forUrl(
                        "jdbc:postgresql://127.0.0.1:" + closedPort + "/nowhere", "x", "x", Duration.ofSeconds(1)),
                meters);
        Instant at = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        for (int i = 0; i < count; i++) {
            writer.record(AuditEvent.builder(AuditKind.AUTHZ_DECISION)
                    .occurredAt(at.plusMillis(i))
                    .requestId("r-" + i)
                    .tenant(tenant)
                    .subject("alice")
                    .method("GET")
                    .path("/demo/" + i)
                    .status(200)
                    .decision("allow")
                    .reason("ok")
                    .build());
        }
        org.awaitility.Awaitility.await()
                .atMost(Duration.ofSeconds(30))
                .until(() ->
                        meters.get("meshguard.audit.events.spooled").counter().count() >= count);
        writer.close();
        return tenant;
    }

    private static int rows(String tenant) throws Exception {
        try (Connection c = PG.dataSource().getConnection();
                PreparedStatement q = c.prepareStatement("select count(*) from audit_event where tenant = ?")) {
            q.setString(1, tenant);
            try (ResultSet r = q.executeQuery()) {
                r.next();
                return r.getInt(1);
            }
        }
    }

    @Test
    void replay_writesEverySpooledEventOnce_andASecondRunFindsNothing() throws Exception {
        String tenant = spoolWhileDatabaseIsDown(250);
        assertThat(rows(tenant)).isZero();

        CliRun first = CliRun.of("audit", "replay", "--spool", spool.toString(), "--db", dbUrl(), "--timeout", "2m");
        assertThat(first.exit()).as(first.err()).isZero();
        assertThat(first.out()).contains("replayed 250 event(s)");
        assertThat(rows(tenant)).isEqualTo(250);

        CliRun second = CliRun.of("audit", "replay", "--spool", spool.toString(), "--db", dbUrl());
        assertThat(second.exit()).as(second.err()).isZero();
        assertThat(rows(tenant)).isEqualTo(250);
    }

    @Test
    void replay_ofAMistypedSpoolPath_failsAndCreatesNothing(@TempDir Path parent) {
        Path missing = parent.resolve("audit-spol");
        CliRun r = CliRun.of("audit", "replay", "--spool", missing.toString(), "--db", dbUrl());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("no audit spool at " + missing);
        assertThat(missing).doesNotExist();
    }

    @Test
    void replay_withoutADatabase_isAUsageError() throws Exception {
        Files.createDirectories(spool);
        CliRun r = CliRun.of("audit", "replay", "--spool", spool.toString(), "--db", "postgres://nope");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--db must be a jdbc:postgresql: URL");
    }
}
