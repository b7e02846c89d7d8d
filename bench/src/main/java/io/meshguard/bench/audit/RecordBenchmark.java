package io.meshguard.bench.audit;

import io.meshguard.audit.AuditEvent;
import io.meshguard.audit.AuditWriter;
import io.meshguard.audit.AuditWriterSettings;
import io.meshguard.audit.ConnectionSource;
import io.meshguard.audit.spool.FsyncPolicy;
import io.meshguard.audit.spool.SpoolFullPolicy;
import io.meshguard.audit.spool.SpoolSettings;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Cost of {@link AuditWriter#record} on the caller's thread, against {@link ArrayBlockingQueue#offer} with a
 * consumer thread draining it (the baseline). The writer runs for real: its batcher drains the queue while the
 * benchmark records. The queue is sized so it never fills within an iteration (a full queue is the drop path,
 * not the one measured); the writer's database is unreachable, so batches go to a spool in a temp directory
 * (fsync none, 64 MiB cap, drop_oldest) that is removed after each iteration.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 200, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 5, time = 200, timeUnit = TimeUnit.MILLISECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xmx4g", "-Dlogback.configurationFile=none"})
public class RecordBenchmark {
    private static final int CAPACITY = 30_000_000;
    private static final AuditEvent EVENT = BenchEvents.one(1, Instant.parse("2026-11-21T00:00:00Z"));

    /** The real writer. */
    @State(Scope.Benchmark)
    public static class WriterState {
        AuditWriter writer;
        Path spool;

        @Setup(Level.Iteration)
        public void start() throws IOException {
            spool = Files.createTempDirectory("meshguard-bench-record");
            AuditWriterSettings settings = AuditWriterSettings.defaults(SpoolSettings.defaults(spool)
                            .withFsync(FsyncPolicy.NONE)
                            .withMaxBytes(64L * 1024 * 1024)
                            .withWhenFull(SpoolFullPolicy.DROP_OLDEST))
                    .withQueueCapacity(CAPACITY);
            writer = AuditWriter.start(
                    settings,
                    ConnectionSource.forUrl("jdbc:postgresql://127.0.0.1:1/none", "u", "p", Duration.ofSeconds(1)),
                    new SimpleMeterRegistry());
        }

        @TearDown(Level.Iteration)
        public void stop() throws IOException {
            writer.close();
            try (Stream<Path> files = Files.walk(spool)) {
                List<Path> all = new ArrayList<>(files.toList());
                java.util.Collections.reverse(all);
                for (Path p : all) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /** The baseline: a bounded JDK queue with a consumer thread. */
    @State(Scope.Benchmark)
    public static class QueueState {
        ArrayBlockingQueue<AuditEvent> queue;
        Thread consumer;
        volatile boolean running;

        @Setup(Level.Iteration)
        public void start() {
            queue = new ArrayBlockingQueue<>(CAPACITY);
            running = true;
            consumer = new Thread(
                    () -> {
                        List<AuditEvent> sink = new ArrayList<>(1000);
                        while (running) {
                            if (queue.drainTo(sink, 1000) == 0) {
                                Thread.onSpinWait();
                            }
                            sink.clear();
                        }
                    },
                    "baseline-consumer");
            consumer.start();
        }

        @TearDown(Level.Iteration)
        public void stop() throws InterruptedException {
            running = false;
            consumer.join();
        }
    }

    @Benchmark
    public boolean record(WriterState s) {
        return s.writer.record(EVENT);
    }

    @Benchmark
    public boolean arrayBlockingQueueOffer(QueueState s) {
        return s.queue.offer(EVENT);
    }

    /** Runs this benchmark: {@code java -cp ... io.meshguard.bench.audit.RecordBenchmark}. */
    public static void main(String[] args) throws Exception {
        org.openjdk.jmh.Main.main(new String[] {RecordBenchmark.class.getName()});
    }
}
