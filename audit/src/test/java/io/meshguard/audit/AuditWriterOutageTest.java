package io.meshguard.audit;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.audit.spool.SpoolSettings;
import io.meshguard.testing.DedicatedPostgres;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** PostgreSQL is stopped and started again under a burst or a trickle of events; nothing may be lost or doubled. */
@IntegrationTest
class AuditWriterOutageTest {
    @RegisterExtension
    static final DedicatedPostgres PG = PostgresExtension.dedicated();

    private static final int TOTAL = 100_000;

    @TempDir
    Path spoolDir;

    private final MeterRegistry meters = new SimpleMeterRegistry();
    private final ConnectionSource db =
            ConnectionSource.forUrl(PG.jdbcUrl(), PG.user(), PG.password(), Duration.ofSeconds(2));

    private AuditWriterSettings settings(Duration retryBackoffMax) {
        return AuditWriterSettings.defaults(SpoolSettings.defaults(spoolDir)).withRetryBackoffMax(retryBackoffMax);
    }

    /** Every event numbered below {@code total} (one a microsecond from {@code base}) is in the table once. */
    private void assertEachOnce(Instant base, int total) throws Exception {
        try (var c = PG.dataSource().getConnection();
                var rs = c.createStatement()
                        .executeQuery(
                                "select count(*), count(distinct event_id), count(distinct request_id) from audit_event"
                                        + " where occurred_at >= '" + base + "'"
                                        + " and occurred_at < '" + base.plusSeconds(1) + "'")) {
            rs.next();
            assertThat(rs.getLong(3)).as("distinct requests of " + total).isEqualTo(total);
            assertThat(rs.getLong(1)).isEqualTo(total);
            assertThat(rs.getLong(2)).isEqualTo(total);
        }
        assertThat(meters.find("meshguard.audit.events.dropped").counters())
                .allSatisfy(c -> assertThat(c.count()).isZero());
    }

    @Test
    void databaseStoppedMidBurst_allEventsPresentExactlyOnce() throws Exception {
        AuditWriterSettings settings = settings(Duration.ofMillis(500));
        Instant base = Instant.parse("2026-11-21T06:00:00Z");

        try (AuditWriter writer = AuditWriter.start(settings, db, meters)) {
            for (int i = 0; i < TOTAL; i++) {
                if (i == 30_000) {
                    PG.stopServer();
                }
                if (i == 70_000) {
                    PG.startServer();
                }
                // A producer at a high but finite rate: it never outruns the queue (which would be a drop).
                while (writer.status().queued() > settings.queueCapacity() / 2) {
                    Thread.onSpinWait();
                }
                assertThat(writer.record(TestEvents.numbered(i, base.plusNanos(i * 1000L))))
                        .isTrue();
            }
            assertThat(writer.awaitWritten(Duration.ofSeconds(120))).isTrue();
        }

        assertEachOnce(base, TOTAL);
        assertThat(meters.get("meshguard.audit.events.spooled").counter().count())
                .isPositive();
        assertThat(meters.get("meshguard.audit.events.replayed").counter().count())
                .isEqualTo(
                        meters.get("meshguard.audit.events.spooled").counter().count());
    }

    /**
     * Traffic as the gateway makes it (a few events a second from several threads, each batch flushed on time rather
     * than full) across repeated stops and starts that fall anywhere in a batch's life: on the way to the database,
     * in the hand-off, while the spool is replayed.
     */
    @Test
    void trickleAcrossRepeatedOutages_allEventsPresentExactlyOnce() throws Exception {
        Instant base = Instant.parse("2026-11-22T06:00:00Z");
        AtomicInteger next = new AtomicInteger();
        AtomicInteger refused = new AtomicInteger();
        AtomicBoolean stop = new AtomicBoolean();
        Random random = new Random(29);
        try (AuditWriter writer = AuditWriter.start(settings(Duration.ofMillis(300)), db, meters)) {
            List<Thread> producers = new ArrayList<>();
            for (int t = 0; t < 3; t++) {
                Thread producer = new Thread(
                        () -> {
                            while (!stop.get()) {
                                int i = next.getAndIncrement();
                                if (!writer.record(TestEvents.numbered(i, base.plusNanos(i * 1000L)))) {
                                    refused.incrementAndGet();
                                }
                                LockSupport.parkNanos(
                                        ThreadLocalRandom.current().nextLong(5_000_000, 60_000_000));
                            }
                        },
                        "producer-" + t);
                producer.start();
                producers.add(producer);
            }
            for (int outage = 0; outage < 6; outage++) {
                Thread.sleep(200 + random.nextInt(1200));
                PG.stopServer();
                Thread.sleep(random.nextInt(1500));
                PG.startServer();
            }
            Thread.sleep(500);
            stop.set(true);
            for (Thread producer : producers) {
                producer.join();
            }
            assertThat(writer.awaitWritten(Duration.ofSeconds(60))).isTrue();
        }
        assertThat(refused.get()).isZero();
        assertEachOnce(base, next.get());
    }
}
