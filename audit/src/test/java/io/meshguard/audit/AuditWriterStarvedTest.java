package io.meshguard.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.meshguard.audit.spool.SpoolSettings;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A database thread that is behind for want of CPU while PostgreSQL answers keeps batches in memory; a PostgreSQL
 * that does not answer still makes the writer spool, and a backlog in memory is bounded by spooling too.
 *
 * <p>The starved thread is made deterministic: its first event's details are rendered on the database thread while
 * it encodes the batch (as every decision's are), and rendering them waits until the test lets it go, so the thread
 * is held in its own work, not in a call to PostgreSQL, for as long as the test needs.
 */
@IntegrationTest
class AuditWriterStarvedTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    private static final int BATCH = 10;

    @TempDir
    Path spoolDir;

    private final MeterRegistry meters = new SimpleMeterRegistry();
    private final CountDownLatch rendering = new CountDownLatch(1);
    private final CountDownLatch release = new CountDownLatch(1);

    @AfterEach
    void letTheWriterGo() {
        release.countDown();
    }

    private AuditWriterSettings settings() {
        return AuditWriterSettings.defaults(SpoolSettings.defaults(spoolDir))
                .withBatchSize(BATCH)
                .withFlushInterval(Duration.ofMillis(20))
                .withRetryBackoffMax(Duration.ofMillis(200));
    }

    private static ConnectionSource database() {
        return ConnectionSource.forUrl(PG.jdbcUrl(), PG.user(), PG.password(), Duration.ofSeconds(5));
    }

    private double count(String name) {
        return meters.find(name).counters().stream()
                .mapToDouble(io.micrometer.core.instrument.Counter::count)
                .sum();
    }

    /** An event whose details the database thread renders only once the test releases it. */
    private AuditEvent heldOnTheDatabaseThread(Instant at) {
        return AuditEvent.builder(AuditKind.API_CALL)
                .occurredAt(at)
                .requestId("req-held")
                .method("GET")
                .path("/v1/held")
                .status(200)
                .detailLater("rendered", () -> {
                    rendering.countDown();
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    return "late";
                })
                .build();
    }

    private static void recordNumbered(AuditWriter writer, Instant base, int from, int to) {
        for (int i = from; i < to; i++) {
            assertThat(writer.record(TestEvents.numbered(i, base.plusNanos(i * 1000L))))
                    .isTrue();
        }
    }

    private static long rowsOnceEach(Instant base) throws SQLException {
        try (var c = PG.dataSource().getConnection();
                var ps = c.prepareStatement("select count(*), count(distinct event_id) from audit_event"
                        + " where occurred_at >= ? and occurred_at < ?")) {
            ps.setTimestamp(1, java.sql.Timestamp.from(base));
            ps.setTimestamp(2, java.sql.Timestamp.from(base.plusSeconds(1)));
            try (var rs = ps.executeQuery()) {
                rs.next();
                assertThat(rs.getLong(2)).as("distinct event ids").isEqualTo(rs.getLong(1));
                return rs.getLong(1);
            }
        }
    }

    @Test
    void record_databaseThreadBusyWhilePostgresAnswers_keepsBatchesInMemoryAndSpoolsNothing() throws Exception {
        Instant base = Instant.parse("2026-11-23T06:00:00Z");
        try (AuditWriter writer = AuditWriter.start(settings(), database(), meters)) {
            assertThat(writer.record(heldOnTheDatabaseThread(base))).isTrue();
            recordNumbered(writer, base, 1, BATCH);
            rendering.await();
            // One batch is with the database thread, one in the hand-off, the third waits with the batcher.
            recordNumbered(writer, base, BATCH, 3 * BATCH);

            // The third batch has passed the slow-database threshold more than once, and is still in memory.
            await().atMost(Duration.ofSeconds(20)).until(() -> count("meshguard.audit.handoff.starved") >= 3);
            assertThat(count("meshguard.audit.events.spooled")).isZero();
            assertThat(writer.status().spooling()).isFalse();

            release.countDown();
            assertThat(writer.awaitWritten(Duration.ofSeconds(30))).isTrue();
        }
        assertThat(rowsOnceEach(base)).isEqualTo(3 * BATCH);
        assertThat(count("meshguard.audit.events.spooled")).isZero();
        assertThat(count("meshguard.audit.events.written")).isEqualTo(3 * BATCH);
        assertThat(count("meshguard.audit.events.dropped")).isZero();
    }

    @Test
    void record_databaseThreadBusyPastHalfTheQueue_spoolsInsteadOfRefusingAndLosesNothing() throws Exception {
        Instant base = Instant.parse("2026-11-23T07:00:00Z");
        int capacity = 20 * BATCH;
        int total = 15 * BATCH;
        try (AuditWriter writer = AuditWriter.start(settings().withQueueCapacity(capacity), database(), meters)) {
            assertThat(writer.record(heldOnTheDatabaseThread(base))).isTrue();
            recordNumbered(writer, base, 1, BATCH);
            rendering.await();
            // Three batches are out of the queue (database thread, hand-off, batcher): more than half the queue
            // waits behind them.
            recordNumbered(writer, base, BATCH, total);

            await().atMost(Duration.ofSeconds(20)).until(() -> count("meshguard.audit.events.spooled") > 0);
            assertThat(writer.status().spooling()).isTrue();

            release.countDown();
            assertThat(writer.awaitWritten(Duration.ofSeconds(30))).isTrue();
        }
        assertThat(rowsOnceEach(base)).isEqualTo(total);
        assertThat(count("meshguard.audit.events.replayed")).isEqualTo(count("meshguard.audit.events.spooled"));
        assertThat(count("meshguard.audit.events.dropped")).isZero();
    }

    @Test
    void record_postgresHoldsTheWriterOnALock_spoolsThenReplaysEveryEventOnce() throws Exception {
        Instant base = Instant.parse("2026-11-23T08:00:00Z");
        try (AuditWriter writer = AuditWriter.start(settings(), database(), meters)) {
            recordNumbered(writer, base, 0, 1);
            assertThat(writer.awaitWritten(Duration.ofSeconds(30))).isTrue(); // connected, partition there

            try (Connection locker = PG.dataSource().getConnection()) {
                locker.setAutoCommit(false);
                try (var s = locker.createStatement()) {
                    s.execute("lock table audit_event in access exclusive mode");
                }
                // The first batch's COPY waits on the lock, the second in the hand-off, the third spools.
                recordNumbered(writer, base, 1, 3 * BATCH + 1);
                await().atMost(Duration.ofSeconds(8)).until(() -> count("meshguard.audit.events.spooled") > 0);
                assertThat(writer.status().spooling()).isTrue();
                locker.rollback();
            }
            assertThat(writer.awaitWritten(Duration.ofSeconds(30))).isTrue();
        }
        assertThat(rowsOnceEach(base)).isEqualTo(3 * BATCH + 1);
        assertThat(count("meshguard.audit.events.replayed")).isEqualTo(count("meshguard.audit.events.spooled"));
        assertThat(count("meshguard.audit.events.dropped")).isZero();
    }
}
