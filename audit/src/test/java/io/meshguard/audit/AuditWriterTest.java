package io.meshguard.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.meshguard.audit.spool.SpoolFullPolicy;
import io.meshguard.audit.spool.SpoolSettings;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The writer against a real PostgreSQL, and against a database that cannot be reached at all. */
@IntegrationTest
class AuditWriterTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    /** A real PostgreSQL JDBC endpoint where nothing listens: every connection attempt is refused. */
    private static final ConnectionSource NOWHERE =
            ConnectionSource.forUrl("jdbc:postgresql://127.0.0.1:1/none", "u", "p", Duration.ofSeconds(1));

    @TempDir
    Path spoolDir;

    private final MeterRegistry meters = new SimpleMeterRegistry();

    private AuditWriterSettings settings() {
        return AuditWriterSettings.defaults(SpoolSettings.defaults(spoolDir))
                .withBatchSize(100)
                .withFlushInterval(Duration.ofMillis(20))
                .withRetryBackoffMax(Duration.ofMillis(200));
    }

    private static ConnectionSource database() {
        return ConnectionSource.forUrl(PG.jdbcUrl(), PG.user(), PG.password(), Duration.ofSeconds(5));
    }

    /** Sum over every counter of that name matching the tags (all reasons when no tag is given). */
    private double counter(String name, String... tags) {
        var search = meters.find(name);
        if (tags.length > 0) {
            search = search.tags(tags);
        }
        return search.counters().stream()
                .mapToDouble(io.micrometer.core.instrument.Counter::count)
                .sum();
    }

    private static long rowsBetween(Instant from, Instant to) throws SQLException {
        try (var c = PG.dataSource().getConnection();
                var ps = c.prepareStatement(
                        "select count(*), count(distinct event_id) from audit_event where occurred_at >= ? and occurred_at < ?")) {
            ps.setTimestamp(1, java.sql.Timestamp.from(from));
            ps.setTimestamp(2, java.sql.Timestamp.from(to));
            try (var rs = ps.executeQuery()) {
                rs.next();
                assertThat(rs.getLong(2)).as("distinct event ids").isEqualTo(rs.getLong(1));
                return rs.getLong(1);
            }
        }
    }

    private static List<AuditEvent> events(Instant base, int count) {
        List<AuditEvent> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            out.add(TestEvents.numbered(i, base.plusNanos(i * 1000L)));
        }
        return out;
    }

    /** Records while the database cannot be reached; returns once everything is on disk. */
    private void spoolWhileDatabaseAway(List<AuditEvent> events, AuditWriterSettings s) throws IOException {
        try (AuditWriter writer = AuditWriter.start(s, NOWHERE, meters)) {
            events.forEach(e -> assertThat(writer.record(e)).isTrue());
            await().atMost(30, TimeUnit.SECONDS)
                    .until(() -> counter("meshguard.audit.events.spooled") + counter("meshguard.audit.events.dropped")
                            >= events.size());
            assertThat(writer.status().spooling()).isTrue();
            assertThat(writer.status().databaseReachable()).isFalse();
            assertThat(writer.status().describe()).contains("spool in use");
        }
    }

    private List<Path> segments() throws IOException {
        try (Stream<Path> files = Files.list(spoolDir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".seg"))
                    .sorted()
                    .toList();
        }
    }

    @Test
    void recordedEvents_reachPostgres_directly() throws Exception {
        Instant base = Instant.parse("2026-11-21T11:00:00Z");
        try (AuditWriter writer = AuditWriter.start(settings(), database(), meters)) {
            events(base, 1000).forEach(writer::record);
            TestEvents.everyKind(base.plusSeconds(10)).forEach(writer::record);
            assertThat(writer.awaitWritten(Duration.ofSeconds(30))).isTrue();
            assertThat(writer.status().spooling()).isFalse();
        }
        assertThat(rowsBetween(base, base.plusSeconds(60))).isEqualTo(1004);
        assertThat(counter("meshguard.audit.events.written")).isEqualTo(1004);
        assertThat(counter("meshguard.audit.events.spooled")).isZero();
    }

    @Test
    void directWriteFailingWithAnUncheckedException_spoolsTheBatch_andReplaysIt() throws Exception {
        Instant base = Instant.parse("2026-11-21T11:10:00Z");
        AtomicInteger opens = new AtomicInteger();
        ConnectionSource real = database();
        // the first connection attempt fails as no SQLException would (a driver or pool bug): the writer must not
        // lose the batch in its hand with it
        ConnectionSource flaky = () -> {
            if (opens.getAndIncrement() == 0) {
                throw new IllegalStateException("driver failure that is not an SQLException");
            }
            return real.open();
        };
        try (AuditWriter writer = AuditWriter.start(settings(), flaky, meters)) {
            events(base, 50).forEach(e -> assertThat(writer.record(e)).isTrue());
            assertThat(writer.awaitWritten(Duration.ofSeconds(30))).isTrue();
        }
        assertThat(opens.get()).isGreaterThan(1);
        assertThat(rowsBetween(base, base.plusSeconds(60))).isEqualTo(50);
        assertThat(counter("meshguard.audit.events.spooled")).isEqualTo(50);
        assertThat(counter("meshguard.audit.events.replayed")).isEqualTo(50);
        assertThat(counter("meshguard.audit.events.dropped")).isZero();
    }

    @Test
    void queryString_isDroppedBeforeStorage_byDefault() throws Exception {
        Instant at = Instant.parse("2026-11-21T11:30:00Z");
        try (AuditWriter writer = AuditWriter.start(settings(), database(), meters)) {
            writer.record(AuditEvent.builder(AuditKind.AUTHZ_DECISION)
                    .occurredAt(at)
                    .requestId("q-1")
                    .path("/v1/accounts?iban=DE89370400440532013000")
                    .build());
            assertThat(writer.awaitWritten(Duration.ofSeconds(30))).isTrue();
        }
        try (var c = PG.dataSource().getConnection();
                var rs = c.createStatement().executeQuery("select path from audit_event where request_id = 'q-1'")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("/v1/accounts");
        }
    }

    @Test
    void eventsSpooledWhileDatabaseAway_areReplayedByTheNextWriter_exactlyOnce() throws Exception {
        Instant base = Instant.parse("2026-11-21T12:00:00Z");
        List<AuditEvent> events = events(base, 2500);
        spoolWhileDatabaseAway(events, settings());
        assertThat(segments()).isNotEmpty();

        try (AuditWriter writer = AuditWriter.start(settings(), database(), meters)) {
            assertThat(writer.awaitWritten(Duration.ofSeconds(60))).isTrue();
        }
        assertThat(rowsBetween(base, base.plusSeconds(60))).isEqualTo(2500);
        assertThat(counter("meshguard.audit.events.replayed")).isEqualTo(2500);
        assertThat(segments()).isEmpty();
    }

    @Test
    void crashBetweenCommitAndSegmentDeletion_replaysAgainWithoutDuplicates() throws Exception {
        Instant base = Instant.parse("2026-11-21T13:00:00Z");
        spoolWhileDatabaseAway(events(base, 800), settings());
        Path saved = Files.createTempDirectory("spool-copy");
        for (Path seg : segments()) {
            Files.copy(seg, saved.resolve(seg.getFileName()));
        }
        try (AuditWriter writer = AuditWriter.start(settings(), database(), meters)) {
            assertThat(writer.awaitWritten(Duration.ofSeconds(60))).isTrue();
        }
        assertThat(rowsBetween(base, base.plusSeconds(60))).isEqualTo(800);

        // The process died after COMMIT but before the unlink reached the disk: the segments are back.
        try (Stream<Path> copies = Files.list(saved)) {
            for (Path seg : copies.toList()) {
                Files.copy(seg, spoolDir.resolve(seg.getFileName()));
            }
        }
        try (AuditWriter writer = AuditWriter.start(settings(), database(), meters)) {
            assertThat(writer.awaitWritten(Duration.ofSeconds(60))).isTrue();
        }
        assertThat(rowsBetween(base, base.plusSeconds(60))).isEqualTo(800);
        assertThat(counter("meshguard.audit.replay.duplicates")).isEqualTo(800);
    }

    @Test
    void segmentFailingHalfWay_isReplayedAgain_andCountedOnce() throws Exception {
        Instant base = Instant.parse("2026-11-21T13:30:00Z");
        spoolWhileDatabaseAway(events(base, 300), settings());
        // The second batch of the segment fails once, as a dropped connection would: the first batch is already
        // committed when the segment is released and replayed again from its start. The fault is the 151st row
        // inserted (the segment's order, which need not be the order of recording: under load the caller's thread
        // may spool some events while the database thread still holds earlier ones); the count goes on across
        // attempts, so it fires once.
        try (var c = PG.dataSource().getConnection();
                var st = c.createStatement()) {
            st.execute("create sequence replay_fault_once");
            st.execute("create function replay_fault() returns trigger language plpgsql as $$ begin"
                    + " if new.occurred_at >= '" + base + "' and new.occurred_at < '" + base.plusSeconds(60) + "'"
                    + " and nextval('replay_fault_once') = 151 then"
                    + " raise exception 'injected outage' using errcode = '57P01'; end if; return new; end $$");
            st.execute("create trigger replay_fault before insert on audit_event"
                    + " for each row execute function replay_fault()");
        }
        try (AuditWriter writer = AuditWriter.start(settings(), database(), meters)) {
            assertThat(writer.awaitWritten(Duration.ofSeconds(60))).isTrue();
        } finally {
            try (var c = PG.dataSource().getConnection();
                    var st = c.createStatement()) {
                st.execute("drop trigger replay_fault on audit_event");
                st.execute("drop function replay_fault()");
                st.execute("drop sequence replay_fault_once");
            }
        }
        assertThat(rowsBetween(base, base.plusSeconds(60))).isEqualTo(300);
        assertThat(counter("meshguard.audit.events.replayed")).isEqualTo(300);
        assertThat(counter("meshguard.audit.replay.duplicates")).isEqualTo(100);
        assertThat(segments()).isEmpty();
    }

    @Test
    void tornSpoolRecord_isSkippedAndCounted_theRestIsReplayed() throws Exception {
        Instant base = Instant.parse("2026-11-21T14:00:00Z");
        spoolWhileDatabaseAway(events(base, 10), settings());
        List<Path> segs = segments();
        Path last = segs.get(segs.size() - 1);
        try (RandomAccessFile f = new RandomAccessFile(last.toFile(), "rw")) {
            f.setLength(f.length() - 7); // the last record's write was cut short by a crash
        }
        try (AuditWriter writer = AuditWriter.start(settings(), database(), meters)) {
            assertThat(writer.awaitWritten(Duration.ofSeconds(60))).isTrue();
        }
        assertThat(rowsBetween(base, base.plusSeconds(60))).isEqualTo(9);
        assertThat(counter("meshguard.audit.spool.corrupt.records")).isEqualTo(1);
    }

    @Test
    void spoolCap_rejectPolicy_keepsTheOldestAndCountsTheRestAsDropped() throws Exception {
        Instant base = Instant.parse("2026-11-21T15:00:00Z");
        AuditWriterSettings s = settings()
                .withSpool(SpoolSettings.defaults(spoolDir)
                        .withSegmentBytes(4096)
                        .withMaxBytes(16 * 1024)
                        .withWhenFull(SpoolFullPolicy.REJECT));
        spoolWhileDatabaseAway(events(base, 1000), s);
        double spooled = counter("meshguard.audit.events.spooled");
        double dropped = counter("meshguard.audit.events.dropped", "reason", "spool_full");
        assertThat(dropped).isPositive();
        assertThat(spooled + dropped).isEqualTo(1000);

        try (AuditWriter writer = AuditWriter.start(s, database(), meters)) {
            assertThat(writer.awaitWritten(Duration.ofSeconds(60))).isTrue();
        }
        // What survived is what was spooled, starting with the beginning of the burst.
        assertThat(rowsBetween(base, base.plusSeconds(60))).isEqualTo((long) spooled);
        assertThat(rowsBetween(base, base.plusNanos(30 * 1000L))).isEqualTo(30);
    }

    @Test
    void spoolCap_dropOldestPolicy_keepsTheNewestAndCountsTheRestAsDropped() throws Exception {
        Instant base = Instant.parse("2026-11-21T16:00:00Z");
        AuditWriterSettings s = settings()
                .withSpool(SpoolSettings.defaults(spoolDir)
                        .withSegmentBytes(4096)
                        .withMaxBytes(96 * 1024)
                        .withWhenFull(SpoolFullPolicy.DROP_OLDEST));
        spoolWhileDatabaseAway(events(base, 1000), s);
        double dropped = counter("meshguard.audit.events.dropped", "reason", "spool_full");
        assertThat(dropped).isPositive();

        try (AuditWriter writer = AuditWriter.start(s, database(), meters)) {
            assertThat(writer.awaitWritten(Duration.ofSeconds(60))).isTrue();
        }
        long kept = rowsBetween(base, base.plusSeconds(60));
        assertThat(kept + (long) dropped).isEqualTo(1000);
        // What survived is the end of the burst, give or take the two batches that were with the database thread
        // when its first write failed: those reach the spool after batches the batcher spooled meanwhile.
        long inFlight = 2L * s.batchSize();
        assertThat(kept).isGreaterThan(inFlight);
        Instant newestPart = base.plusNanos((1000 - (kept - inFlight)) * 1000L);
        assertThat(rowsBetween(newestPart, base.plusSeconds(60))).isEqualTo(kept - inFlight);
    }

    @Test
    void rowThePostgresRefusesForGood_goesToDeadLetter_othersAreWritten() throws Exception {
        Instant base = Instant.parse("2026-11-21T17:00:00Z");
        List<AuditEvent> events = new ArrayList<>(events(base, 5));
        // Violates audit_event_sizes_check: a data error no retry can fix.
        events.add(
                2,
                AuditEvent.builder(AuditKind.API_CALL)
                        .occurredAt(base.plusMillis(500))
                        .latencyUs(-1)
                        .build());
        try (AuditWriter writer = AuditWriter.start(settings(), database(), meters)) {
            events.forEach(writer::record);
            assertThat(writer.awaitWritten(Duration.ofSeconds(30))).isTrue();
        }
        assertThat(rowsBetween(base, base.plusSeconds(60))).isEqualTo(5);
        assertThat(counter("meshguard.audit.events.rejected")).isEqualTo(1);
        try (Stream<Path> files = Files.list(spoolDir.resolve("rejected"))) {
            assertThat(files.filter(p -> p.toString().endsWith(".seg"))).hasSize(1);
        }
    }

    @Test
    void fullQueue_refusesAndCounts_neverBlocks() throws Exception {
        AuditWriterSettings s = settings()
                .withQueueCapacity(100)
                .withFlushInterval(Duration.ofSeconds(30))
                .withBatchSize(100);
        try (AuditWriter writer = AuditWriter.start(s, NOWHERE, meters)) {
            int accepted = 0;
            for (AuditEvent e : events(Instant.parse("2026-11-21T18:00:00Z"), 5000)) {
                accepted += writer.record(e) ? 1 : 0;
            }
            double dropped = counter("meshguard.audit.events.dropped", "reason", "queue_full");
            assertThat(accepted + dropped).isEqualTo(5000);
            assertThat(dropped).isPositive();
        }
    }

    @Test
    void recordAfterClose_isRefusedAndCounted() throws Exception {
        AuditWriter writer = AuditWriter.start(settings(), database(), meters);
        writer.close();
        assertThat(writer.record(TestEvents.numbered(1, Instant.now()))).isFalse();
        assertThat(counter("meshguard.audit.events.dropped", "reason", "writer_closed"))
                .isEqualTo(1);
    }
}
