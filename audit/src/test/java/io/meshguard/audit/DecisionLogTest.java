package io.meshguard.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshguard.testing.SlowTest;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

@SlowTest
class DecisionLogTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final MeterRegistry meters = new SimpleMeterRegistry();

    /** Keeps every write call apart, as the reader of a pipe would see them. */
    private static final class RecordingStream extends OutputStream {
        final List<byte[]> writes = new ArrayList<>();
        final CountDownLatch release;
        final AtomicBoolean blocked = new AtomicBoolean();

        RecordingStream(CountDownLatch release) {
            this.release = release;
        }

        @Override
        public void write(int b) {
            throw new AssertionError("the decision log must write whole buffers, not single bytes");
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            blocked.set(true);
            try {
                release.await();
            } catch (InterruptedException e) {
                throw new IOException(e);
            }
            blocked.set(false);
            synchronized (writes) {
                writes.add(java.util.Arrays.copyOfRange(b, off, off + len));
            }
        }

        List<String> lines() {
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            synchronized (writes) {
                writes.forEach(all::writeBytes);
            }
            return all.toString(StandardCharsets.UTF_8).lines().toList();
        }
    }

    private static DecisionLogSettings settings() {
        return DecisionLogSettings.defaults(Map.of("service", "test")).withFlushInterval(Duration.ofMillis(5));
    }

    private double counter(String name, String reason) {
        var search = meters.find(name);
        if (reason != null) {
            search = search.tag("reason", reason);
        }
        return search.counter().count();
    }

    @Test
    void record_fromManyThreads_everyEventWrittenAsWholeLinesManyPerWrite() throws Exception {
        RecordingStream out = new RecordingStream(new CountDownLatch(0));
        DecisionLog log = new DecisionLog(settings(), out, "test", meters);
        log.start();
        int threads = 4;
        int perThread = 2_000;
        List<Thread> producers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int base = t * perThread;
            producers.add(Thread.ofPlatform().start(() -> {
                for (int i = 0; i < perThread; i++) {
                    assertThat(log.record(TestEvents.numbered(base + i, Instant.now())))
                            .isTrue();
                }
            }));
        }
        for (Thread p : producers) {
            p.join();
        }
        assertThat(log.awaitWritten(Duration.ofSeconds(30))).isTrue();
        log.close();

        for (byte[] write : out.writes) {
            assertThat(write[write.length - 1])
                    .as("a write ends with a whole line")
                    .isEqualTo((byte) '\n');
        }
        assertThat(out.writes.size()).as("lines per write").isLessThan(threads * perThread / 10);
        Set<String> requestIds = new HashSet<>();
        for (String line : out.lines()) {
            JsonNode n = JSON.readTree(line);
            assertThat(n.get("type").asText()).isEqualTo("meshguard/decision_log");
            requestIds.add(n.get("request_id").asText());
        }
        assertThat(requestIds).hasSize(threads * perThread);
        assertThat(counter("meshguard.decision_log.events.written", null)).isEqualTo(threads * perThread);
        assertThat(counter("meshguard.decision_log.writes", null)).isEqualTo(out.writes.size());
    }

    @Test
    void close_writesWhatIsStillQueued() {
        RecordingStream out = new RecordingStream(new CountDownLatch(0));
        DecisionLog log = new DecisionLog(settings().withFlushInterval(Duration.ofHours(1)), out, "test", meters);
        log.start();
        for (int i = 0; i < 100; i++) {
            log.record(TestEvents.numbered(i, Instant.now()));
        }

        log.close();

        assertThat(out.lines()).hasSize(100);
        assertThat(log.record(TestEvents.numbered(101, Instant.now()))).isFalse();
        assertThat(counter("meshguard.decision_log.dropped", "closed")).isEqualTo(1);
    }

    @Test
    void record_readerStalled_dropsBeyondTheQueueAndCountsEveryDrop() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        RecordingStream out = new RecordingStream(release);
        DecisionLog log = new DecisionLog(settings().withQueueCapacity(50), out, "test", meters);
        log.start();
        log.record(TestEvents.numbered(0, Instant.now()));
        await().atMost(Duration.ofSeconds(30)).until(out.blocked::get); // the writer now hangs in write()

        int accepted = 1;
        int refused = 0;
        for (int i = 1; i <= 80; i++) {
            if (log.record(TestEvents.numbered(i, Instant.now()))) {
                accepted++;
            } else {
                refused++;
            }
        }
        assertThat(accepted).isEqualTo(51);
        assertThat(refused).isEqualTo(30);
        assertThat(counter("meshguard.decision_log.dropped", "queue_full")).isEqualTo(30);
        assertThat(meters.find("meshguard.decision_log.queue.events").gauge().value())
                .isEqualTo(50);

        release.countDown();
        assertThat(log.awaitWritten(Duration.ofSeconds(30))).isTrue();
        log.close();
        assertThat(out.lines()).hasSize(51);
    }

    @Test
    void record_fullQueueWithMaxWait_waitsForRoomInsteadOfDropping() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        RecordingStream out = new RecordingStream(release);
        DecisionLog log = new DecisionLog(
                settings().withQueueCapacity(1).withMaxWait(Duration.ofSeconds(1)), out, "test", meters);
        log.start();
        log.record(TestEvents.numbered(0, Instant.now()));
        await().atMost(Duration.ofSeconds(30)).until(out.blocked::get);
        assertThat(log.record(TestEvents.numbered(1, Instant.now()))).isTrue(); // fills the queue
        AtomicBoolean waitedResult = new AtomicBoolean();
        Thread producer =
                Thread.ofPlatform().start(() -> waitedResult.set(log.record(TestEvents.numbered(2, Instant.now()))));
        await().atMost(Duration.ofSeconds(30)).until(() -> producer.getState() == Thread.State.TIMED_WAITING);

        release.countDown();
        producer.join();

        assertThat(waitedResult).isTrue();
        assertThat(counter("meshguard.decision_log.dropped", "queue_full")).isZero();
        log.close();
        assertThat(out.lines()).hasSize(3);
    }

    @Test
    void record_outputFails_linesCountedAsLostAndUpGaugeZero() throws Exception {
        OutputStream broken = new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                throw new IOException("Broken pipe");
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                throw new IOException("Broken pipe");
            }
        };
        DecisionLog log = new DecisionLog(settings(), broken, "test", meters);
        log.start();
        for (int i = 0; i < 10; i++) {
            assertThat(log.record(TestEvents.numbered(i, Instant.now()))).isTrue();
        }

        assertThat(log.awaitWritten(Duration.ofSeconds(30))).isTrue();
        log.close();

        assertThat(counter("meshguard.decision_log.dropped", "write_error")).isEqualTo(10);
        assertThat(meters.find("meshguard.decision_log.up").gauge().value()).isZero();
        assertThat(log.readinessChecks().get(0).check().detail()).contains("FAILED");
        assertThat(log.readinessChecks().get(0).check().ready()).isTrue();
    }

    @Test
    void both_recordsInTheDatabaseSinkAndTheDecisionLog() {
        RecordingStream out = new RecordingStream(new CountDownLatch(0));
        DecisionLog log = new DecisionLog(settings(), out, "test", meters);
        log.start();
        List<AuditEvent> database = new ArrayList<>();
        AuditSink sink = AuditSink.both(e -> database.add(e), log);

        AuditEvent e = TestEvents.numbered(7, Instant.now());
        assertThat(sink.record(e)).isTrue();
        log.close();

        assertThat(database).containsExactly(e);
        assertThat(out.lines()).singleElement().asString().contains("\"event_id\":\"" + e.eventId() + "\"");
    }
}
