package io.meshguard.bench.audit;

import io.meshguard.audit.AuditEvent;
import io.meshguard.audit.AuditWriter;
import io.meshguard.audit.AuditWriterSettings;
import io.meshguard.audit.BatchWriteMethod;
import io.meshguard.audit.ConnectionSource;
import io.meshguard.audit.PostgresAuditStore;
import io.meshguard.audit.spool.SpoolSettings;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * Sustained audit events/s into PostgreSQL: COPY vs multi-row INSERT at batch sizes 100 / 1,000 / 5,000, the
 * idempotent replay path, and the whole writer (record() to committed rows). Every figure is also given as a
 * ratio to a {@code SELECT 1} round trip measured in the same run on the same connection.
 *
 * <p>Run: see docs/benchmarks.md ("Audit"). Arguments: {@code [events per run, default 200000]}.
 */
public final class AuditThroughputBench {
    private AuditThroughputBench() {}

    public static void main(String[] args) throws Exception {
        int events = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
        System.out.printf(
                "audit throughput: %d events per run, %d CPUs, Java %s%n",
                events, Runtime.getRuntime().availableProcessors(), Runtime.version());
        try (BenchDatabase db = BenchDatabase.start()) {
            ConnectionSource connections = ConnectionSource.forUrl(
                    db.server.jdbcUrl(), db.server.user(), db.server.password(), Duration.ofSeconds(30));
            double roundTripUs = selectOneMicros(connections, 5000);
            System.out.printf("baseline: SELECT 1 round trip %.1f us%n%n", roundTripUs);
            List<AuditEvent> batch = BenchEvents.make(events, Instant.parse("2026-11-21T00:00:00Z"));

            System.out.println("| method | batch | events/s | ms per batch | batch = N x SELECT 1 |");
            System.out.println("|---|---:|---:|---:|---:|");
            for (BatchWriteMethod method : BatchWriteMethod.values()) {
                for (int size : new int[] {100, 1000, 5000}) {
                    Result r = run(db, connections, method, size, batch, false);
                    System.out.printf(
                            "| %s | %,d | %,.0f | %.2f | %.0f |%n",
                            method.name(),
                            size,
                            r.eventsPerSecond(),
                            r.msPerBatch(),
                            r.msPerBatch() * 1000 / roundTripUs);
                }
            }
            System.out.println();
            System.out.println("| replay (ON CONFLICT DO NOTHING) | batch | events/s |");
            System.out.println("|---|---:|---:|");
            for (BatchWriteMethod method : BatchWriteMethod.values()) {
                Result r = run(db, connections, method, 1000, batch, true);
                System.out.printf("| %s | 1,000 | %,.0f |%n", method.name(), r.eventsPerSecond());
            }
            System.out.println();
            writerEndToEnd(db, connections, batch);
        }
    }

    private record Result(double eventsPerSecond, double msPerBatch) {}

    private static Result run(
            BenchDatabase db,
            ConnectionSource connections,
            BatchWriteMethod method,
            int size,
            List<AuditEvent> events,
            boolean idempotent)
            throws Exception {
        try (PostgresAuditStore store = new PostgresAuditStore(connections, method, Duration.ofSeconds(60))) {
            // Warm-up (JIT, connection, catalog caches), then a clean table for the timed run.
            db.truncateAuditEvents();
            write(store, events.subList(0, Math.min(events.size(), 20_000)), size, idempotent);
            db.truncateAuditEvents();
            long t0 = System.nanoTime();
            int batches = write(store, events, size, idempotent);
            long nanos = System.nanoTime() - t0;
            if (db.countAuditEvents() != events.size()) {
                throw new IllegalStateException("row count mismatch after " + method + " " + size);
            }
            return new Result(events.size() / (nanos / 1e9), nanos / 1e6 / batches);
        }
    }

    private static int write(PostgresAuditStore store, List<AuditEvent> events, int size, boolean idempotent)
            throws Exception {
        int batches = 0;
        for (int from = 0; from < events.size(); from += size) {
            List<AuditEvent> b = events.subList(from, Math.min(events.size(), from + size));
            if (idempotent) {
                store.writeIdempotent(b);
            } else {
                store.write(b);
            }
            batches++;
        }
        return batches;
    }

    private static double selectOneMicros(ConnectionSource connections, int n) throws Exception {
        try (Connection c = connections.open();
                Statement s = c.createStatement()) {
            for (int i = 0; i < 500; i++) {
                try (ResultSet rs = s.executeQuery("select 1")) {
                    rs.next();
                }
            }
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                try (ResultSet rs = s.executeQuery("select 1")) {
                    rs.next();
                }
            }
            return (System.nanoTime() - t0) / 1e3 / n;
        }
    }

    private static void writerEndToEnd(BenchDatabase db, ConnectionSource connections, List<AuditEvent> events)
            throws Exception {
        db.truncateAuditEvents();
        var spool = Files.createTempDirectory("meshguard-bench-spool");
        AuditWriterSettings settings = AuditWriterSettings.defaults(SpoolSettings.defaults(spool));
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        long t0;
        long nanos;
        try (AuditWriter writer = AuditWriter.start(settings, connections, meters)) {
            t0 = System.nanoTime();
            for (AuditEvent e : events) {
                // An offered load the writer can take: pause the producer rather than overflow the queue.
                while (writer.status().queued() > settings.queueCapacity() / 2) {
                    Thread.onSpinWait();
                }
                writer.record(e);
            }
            if (!writer.awaitWritten(Duration.ofMinutes(5))) {
                throw new IllegalStateException("writer did not drain");
            }
            nanos = System.nanoTime() - t0;
        }
        double spooled = meters.get("meshguard.audit.events.spooled").counter().count();
        System.out.printf(
                "writer end to end (record() -> committed, defaults: COPY, batch %d): %,.0f events/s, "
                        + "%d rows, %.0f went through the spool%n",
                settings.batchSize(), events.size() / (nanos / 1e9), db.countAuditEvents(), spooled);
    }
}
