package io.meshguard.audit;

import io.meshguard.audit.spool.AppendResult;
import io.meshguard.audit.spool.SegmentContents;
import io.meshguard.audit.spool.Spool;
import io.meshguard.audit.spool.SpoolSegment;
import io.meshguard.audit.spool.SpoolSettings;
import io.meshguard.runtime.tracing.Tracing;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.io.IOException;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The asynchronous, batched, zero-loss audit writer.
 *
 * <p>{@link #record(AuditEvent)} only puts the event on a bounded in-memory queue: no lock, no I/O, no waiting.
 * Two threads do the rest:
 * <ul>
 *   <li><b>batcher</b>: cuts the queue into batches (by size or {@code flushInterval}) and hands each to the
 *       database thread; when the database is down, slow, or the spool still holds older events, the batch is
 *       appended to the on-disk spool instead. Slow means the hand-off is not taken within {@code slowDbThreshold}
 *       while the database thread has been waiting on PostgreSQL for longer than that. A database thread that is
 *       behind for want of CPU (its own work, or not scheduled) while PostgreSQL answers keeps the batch in memory,
 *       as long as fewer than half the queue's capacity wait behind it: beyond that the batch is spooled, so a
 *       database that answers but too slowly never makes {@code record()} refuse events;</li>
 *   <li><b>database</b>: writes handed-off batches (COPY by default); on a transient failure the batch goes to
 *       the spool and the database is marked down; while the spool holds events it replays them oldest segment
 *       first, idempotently ({@code ON CONFLICT DO NOTHING} on the event id), deleting a segment only after its
 *       rows are committed.</li>
 * </ul>
 * New events go to the spool as long as it is not empty, so replay keeps the original order, except for the (at
 * most two) batches that were with the database thread when a write failed: they reach the spool after the
 * batches spooled meanwhile, so {@code drop_oldest} may drop up to two batches newer than them. Rows that
 * PostgreSQL refuses for good (a data error, not an outage) are written one by one; the refused ones go to a
 * dead-letter spool ({@code <spool>/rejected}) and are counted and logged, never silently dropped.
 *
 * <p>Events in memory (queue and batches in flight) are lost if the process is killed; a graceful
 * {@link #close()} writes or spools them.
 */
public final class AuditWriter implements AuditSink, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AuditWriter.class);
    private static final Duration RETRY_BACKOFF_MIN = Duration.ofMillis(100);
    /** How often a batch kept in memory for a starved database thread re-checks the database and the queue. */
    private static final long STARVED_RECHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    private final AuditWriterSettings settings;
    private final PostgresAuditStore store;
    private final Spool spool;
    private final Spool rejectedSpool;
    private final EventQueue queue;
    private final BlockingQueue<List<AuditEvent>> handoff = new ArrayBlockingQueue<>(1);
    private final Thread batcher;
    private final Thread databaseThread;

    private final Counter recorded;
    private final Counter written;
    private final Counter spooled;
    private final Counter replayed;
    private final Counter replayDuplicates;
    private final Counter droppedQueueFull;
    private final Counter droppedSpoolFull;
    private final Counter droppedSpoolError;
    private final Counter droppedClosed;
    private final Counter rejectedByDatabase;
    private final Counter spoolCorrupt;
    private final Counter starvedWaits;
    private final Timer directBatchTimer;
    private final Timer replayBatchTimer;

    private final ThrottledAlarm lossAlarm = new ThrottledAlarm(log, 10, TimeUnit.SECONDS);
    private final ThrottledAlarm corruptAlarm = new ThrottledAlarm(log, 10, TimeUnit.SECONDS);
    private final ThrottledAlarm rejectAlarm = new ThrottledAlarm(log, 10, TimeUnit.SECONDS);

    private volatile boolean databaseUp = true;
    private volatile boolean closed;
    private volatile boolean batcherStopping;
    private volatile boolean databaseThreadStopping;
    private volatile boolean batcherParked;
    private volatile boolean batcherHolding;
    private volatile boolean databaseBusy;
    private long retryBackoffNanos = RETRY_BACKOFF_MIN.toNanos();
    private long nextAttemptNanos = System.nanoTime();
    private final BatchSpans spans;

    private AuditWriter(
            AuditWriterSettings settings, ConnectionSource connections, MeterRegistry meters, Tracing tracing)
            throws IOException {
        this.settings = settings;
        this.spans = new BatchSpans(tracing, settings.method());
        this.store = new PostgresAuditStore(connections, settings.method(), settings.writeTimeout());
        this.spool = Spool.open(settings.spool());
        SpoolSettings s = settings.spool();
        this.rejectedSpool = Spool.open(new SpoolSettings(
                s.directory().resolve("rejected"),
                s.maxBytes(),
                s.segmentBytes(),
                s.fsync(),
                s.fsyncInterval(),
                s.whenFull()));
        this.queue = new EventQueue(settings.queueCapacity());

        this.recorded = Counter.builder("meshguard.audit.events.recorded")
                .description("Events accepted by record()")
                .register(meters);
        this.written = Counter.builder("meshguard.audit.events.written")
                .description("Events committed to PostgreSQL directly")
                .register(meters);
        this.spooled = Counter.builder("meshguard.audit.events.spooled")
                .description("Events appended to the on-disk spool")
                .register(meters);
        this.replayed = Counter.builder("meshguard.audit.events.replayed")
                .description("Spooled events committed to PostgreSQL by replay")
                .register(meters);
        this.replayDuplicates = Counter.builder("meshguard.audit.replay.duplicates")
                .description("Replayed events that were already in PostgreSQL (skipped)")
                .register(meters);
        this.droppedQueueFull = dropped(meters, "queue_full");
        this.droppedSpoolFull = dropped(meters, "spool_full");
        this.droppedSpoolError = dropped(meters, "spool_error");
        this.droppedClosed = dropped(meters, "writer_closed");
        this.rejectedByDatabase = Counter.builder("meshguard.audit.events.rejected")
                .description("Events PostgreSQL refused for good; kept in the dead-letter spool")
                .register(meters);
        this.spoolCorrupt = Counter.builder("meshguard.audit.spool.corrupt.records")
                .description("Torn or corrupted spool records skipped during replay")
                .register(meters);
        this.starvedWaits = Counter.builder("meshguard.audit.handoff.starved")
                .description("Times a batch waited in memory past the slow-database threshold because the database"
                        + " thread, not PostgreSQL, was behind (short of CPU)")
                .register(meters);
        this.directBatchTimer = Timer.builder("meshguard.audit.batch.write")
                .description("Time to write one batch to PostgreSQL")
                .tag("path", "direct")
                .publishPercentileHistogram()
                .register(meters);
        this.replayBatchTimer = Timer.builder("meshguard.audit.batch.write")
                .description("Time to write one batch to PostgreSQL")
                .tag("path", "replay")
                .publishPercentileHistogram()
                .register(meters);
        Gauge.builder("meshguard.audit.queue.events", queue, EventQueue::size)
                .description("Events waiting in memory")
                .strongReference(true)
                .register(meters);
        Gauge.builder("meshguard.audit.spool.bytes", spool, Spool::bytes)
                .description("Bytes in the on-disk spool")
                .baseUnit("bytes")
                .strongReference(true)
                .register(meters);
        Gauge.builder("meshguard.audit.spool.segments", spool, Spool::segmentCount)
                .description("Segment files in the on-disk spool")
                .strongReference(true)
                .register(meters);
        Gauge.builder("meshguard.audit.database.up", this, w -> w.databaseUp ? 1 : 0)
                .description("1 when the last PostgreSQL attempt succeeded")
                .strongReference(true)
                .register(meters);

        this.batcher = Thread.ofPlatform().name("audit-batcher").daemon().unstarted(this::runBatcher);
        this.databaseThread = Thread.ofPlatform().name("audit-db").daemon().unstarted(this::runDatabase);
    }

    private static Counter dropped(MeterRegistry meters, String reason) {
        return Counter.builder("meshguard.audit.events.dropped")
                .description("Events lost, by reason (each also logged at ERROR)")
                .tag("reason", reason)
                .register(meters);
    }

    /**
     * Opens the spool (taking over segments left by an earlier run) and starts the writer threads.
     *
     * @throws IOException when the spool directory cannot be created or read
     */
    public static AuditWriter start(AuditWriterSettings settings, ConnectionSource connections, MeterRegistry meters)
            throws IOException {
        return start(settings, connections, meters, Tracing.disabled());
    }

    /** As {@link #start(AuditWriterSettings, ConnectionSource, MeterRegistry)}, with a CLIENT span per batch written. */
    public static AuditWriter start(
            AuditWriterSettings settings, ConnectionSource connections, MeterRegistry meters, Tracing tracing)
            throws IOException {
        AuditWriter writer = new AuditWriter(
                Objects.requireNonNull(settings, "settings"),
                Objects.requireNonNull(connections, "connections"),
                Objects.requireNonNull(meters, "meters"),
                Objects.requireNonNull(tracing, "tracing"));
        writer.batcher.start();
        writer.databaseThread.start();
        return writer;
    }

    /**
     * Queues an event for writing. Never blocks and does no I/O. Returns false (and counts the event as dropped,
     * with an ERROR log) only when the in-memory queue is full or the writer is closed.
     */
    @Override
    public boolean record(AuditEvent event) {
        if (closed) {
            droppedClosed.increment();
            lossAlarm.raise(1, "audit event recorded after the writer was closed; it is lost");
            return false;
        }
        int size = queue.offer(event);
        if (size < 0) {
            droppedQueueFull.increment();
            lossAlarm.raise(1, "audit queue full ({} events): events are being dropped", settings.queueCapacity());
            return false;
        }
        recorded.increment();
        if (size == settings.batchSize() && batcherParked) {
            LockSupport.unpark(batcher); // a full batch is ready: no need to wait for the flush interval
        }
        return true;
    }

    /** What the writer is doing now; "spooling" means events are waiting on disk. */
    public AuditWriterStatus status() {
        return new AuditWriterStatus(databaseUp, !spool.isEmpty(), spool.bytes(), spool.segmentCount(), queue.size());
    }

    /**
     * Waits until every event recorded so far is committed to PostgreSQL (queue, batches and spool all empty).
     * For tests and orderly shutdown; returns false on timeout.
     */
    public boolean awaitWritten(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (queue.isEmpty() && !batcherHolding && handoff.isEmpty() && !databaseBusy && spool.isEmpty()) {
                // Re-check after a moment: a batch may have been between two of these flags.
                Thread.sleep(20);
                if (queue.isEmpty() && !batcherHolding && handoff.isEmpty() && !databaseBusy && spool.isEmpty()) {
                    return true;
                }
            }
            Thread.sleep(10);
        }
        return false;
    }

    // ---------------------------------------------------------------- batcher thread

    private void runBatcher() {
        List<AuditEvent> batch = new ArrayList<>(settings.batchSize());
        long batchStarted = 0;
        long flushNanos = settings.flushInterval().toNanos();
        while (true) {
            try {
                AuditEvent e = queue.poll();
                if (e != null) {
                    if (batch.isEmpty()) {
                        batchStarted = System.nanoTime();
                        batcherHolding = true;
                    }
                    batch.add(normalize(e));
                    if (batch.size() >= settings.batchSize()) {
                        dispatch(batch);
                        batch = new ArrayList<>(settings.batchSize());
                    }
                    continue;
                }
                boolean stopping = batcherStopping;
                if (!batch.isEmpty() && (stopping || System.nanoTime() - batchStarted >= flushNanos)) {
                    dispatch(batch);
                    batch = new ArrayList<>(settings.batchSize());
                    continue;
                }
                if (stopping && batch.isEmpty() && queue.isEmpty()) {
                    return;
                }
                long wait = batch.isEmpty() ? flushNanos : flushNanos - (System.nanoTime() - batchStarted);
                batcherParked = true;
                if (queue.isEmpty()) {
                    LockSupport.parkNanos(this, Math.max(wait, 100_000));
                }
                batcherParked = false;
            } catch (RuntimeException | Error unexpected) {
                log.error("audit batcher: unexpected failure; spooling the current batch", unexpected);
                spoolBatch(batch);
                batch = new ArrayList<>(settings.batchSize());
            }
        }
    }

    private AuditEvent normalize(AuditEvent e) {
        if (e.path().isEmpty()) {
            return e;
        }
        String path = e.path().get();
        String kept = settings.paths().apply(path, e.isStream());
        return kept.equals(path) ? e : e.toBuilder().path(kept).build();
    }

    private void dispatch(List<AuditEvent> batch) throws RuntimeException {
        try {
            if (batcherStopping) {
                // While closing, a slow database must not hold the shutdown up batch after batch: spool instead.
                if (databaseUp && spool.isEmpty() && handoff.offer(batch, 50, TimeUnit.MILLISECONDS)) {
                    return;
                }
                spoolBatch(batch);
                return;
            }
            if (handOff(batch)) {
                return;
            }
            spoolBatch(batch);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            spoolBatch(batch);
        } finally {
            batcherHolding = false;
        }
    }

    /**
     * Hands the batch to the database thread unless PostgreSQL is down or slow; false means spool it. Slow is told
     * from a starved database thread by what the thread is doing when the threshold passes: waiting on PostgreSQL
     * (a statement, COPY data or a commit unanswered for longer than the threshold) is a slow database; anything else
     * (rendering and encoding its batch, or not yet scheduled to take the hand-off) is the machine being busy, and
     * spooling would only add work for the same CPU. Memory stays bounded: past half the queue the batch is spooled.
     */
    private boolean handOff(List<AuditEvent> batch) throws InterruptedException {
        long threshold = settings.slowDbThreshold().toNanos();
        long wait = threshold;
        while (databaseUp && spool.isEmpty() && !batcherStopping) {
            if (handoff.offer(batch, wait, TimeUnit.NANOSECONDS)) {
                return true;
            }
            if (store.awaitingDatabaseLongerThan(threshold)) {
                log.warn(
                        "audit: PostgreSQL has not answered the database thread for {} ms; spooling to disk",
                        settings.slowDbThreshold().toMillis());
                return false;
            }
            if (queue.size() >= settings.queueCapacity() / 2) {
                log.warn("audit: {} events wait in memory behind the database thread; spooling to disk", queue.size());
                return false;
            }
            starvedWaits.increment();
            wait = Math.min(threshold, STARVED_RECHECK_NANOS);
        }
        return false;
    }

    /** Appends events to the spool; anything that cannot be stored is counted and logged loudly. */
    private void spoolBatch(List<AuditEvent> batch) {
        if (batch.isEmpty()) {
            return;
        }
        List<byte[]> records = new ArrayList<>(batch.size());
        for (AuditEvent e : batch) {
            records.add(AuditEventCodec.encode(e));
        }
        try {
            AppendResult r = spool.append(records);
            spooled.increment(r.appended());
            if (r.rejected() > 0) {
                droppedSpoolFull.increment(r.rejected());
                lossAlarm.raise(
                        r.rejected(),
                        "audit spool full ({} bytes cap, policy reject): new events dropped",
                        settings.spool().maxBytes());
            }
            if (r.droppedOldest() > 0) {
                droppedSpoolFull.increment(r.droppedOldest());
                lossAlarm.raise(
                        r.droppedOldest(),
                        "audit spool full ({} bytes cap, policy drop_oldest): oldest spooled events deleted",
                        settings.spool().maxBytes());
            }
        } catch (IOException | RuntimeException e) {
            droppedSpoolError.increment(batch.size());
            lossAlarm.raise(batch.size(), "audit spool write failed ({}): events dropped", e.toString());
        }
    }

    // ---------------------------------------------------------------- database thread

    private void runDatabase() {
        while (true) {
            try {
                List<AuditEvent> batch = handoff.poll(pollTimeoutNanos(), TimeUnit.NANOSECONDS);
                if (batch != null) {
                    databaseBusy = true;
                    try {
                        writeDirect(batch);
                    } catch (RuntimeException unexpected) {
                        // Not a failure the writer knows, but the batch must not leave with it: whether or not it
                        // was committed, the spool replays it idempotently.
                        log.error("audit: writing a batch failed unexpectedly; spooling it", unexpected);
                        databaseUp = false;
                        backOff();
                        spoolBatch(batch);
                    } finally {
                        databaseBusy = false;
                    }
                    continue;
                }
                if (databaseThreadStopping) {
                    return;
                }
                spool.syncIfDue();
                if (System.nanoTime() >= nextAttemptNanos) {
                    if (!spool.isEmpty()) {
                        databaseBusy = true;
                        try {
                            replayOldestSegment();
                        } finally {
                            databaseBusy = false;
                        }
                    } else if (!databaseUp) {
                        databaseUp = true; // nothing to replay: let the next batch probe the database
                    }
                }
            } catch (InterruptedException e) {
                if (databaseThreadStopping) {
                    return;
                }
            } catch (IOException | RuntimeException | Error unexpected) {
                log.error("audit database thread: unexpected failure", unexpected);
                backOff();
            }
        }
    }

    private long pollTimeoutNanos() {
        if (spool.isEmpty() && databaseUp) {
            return TimeUnit.MILLISECONDS.toNanos(100);
        }
        return Math.max(
                TimeUnit.MILLISECONDS.toNanos(1),
                Math.min(TimeUnit.MILLISECONDS.toNanos(100), nextAttemptNanos - System.nanoTime()));
    }

    private void writeDirect(List<AuditEvent> batch) {
        if (!databaseUp) {
            spoolBatch(batch);
            return;
        }
        long started = System.nanoTime();
        io.opentelemetry.api.trace.Span span = spans.start("direct", batch.size());
        try {
            writeWithPartitionRepair(batch, false);
            directBatchTimer.record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
            written.increment(batch.size());
            markUp();
            BatchSpans.end(span, "written");
        } catch (SQLException e) {
            if (SqlFailures.isTransient(e)) {
                // Committed or not, we cannot tell: the spool replays it idempotently.
                markDown(e);
                spoolBatch(batch);
                BatchSpans.end(span, "spooled");
                return;
            }
            try {
                int fresh = writeEachOrReject(batch);
                written.increment(fresh);
                BatchSpans.end(span, "rows_one_by_one");
            } catch (SQLException transientMidway) {
                markDown(transientMidway);
                spoolBatch(batch);
                BatchSpans.end(span, "spooled");
            }
        }
    }

    private int writeWithPartitionRepair(List<AuditEvent> batch, boolean idempotent) throws SQLException {
        try {
            return idempotent ? store.writeIdempotent(batch) : writeFresh(batch);
        } catch (SQLException e) {
            if (!SqlFailures.isMissingPartition(e)) {
                throw e;
            }
            log.warn(
                    "audit: no partition for some events (earliest {}); creating it",
                    batch.stream()
                            .map(AuditEvent::occurredAt)
                            .min(java.time.Instant::compareTo)
                            .orElseThrow());
            store.ensurePartitionsFor(batch);
            return idempotent ? store.writeIdempotent(batch) : writeFresh(batch);
        }
    }

    private int writeFresh(List<AuditEvent> batch) throws SQLException {
        store.write(batch);
        return batch.size();
    }

    /**
     * After a data error: writes events one by one (idempotently), so one bad row cannot hold the others back.
     * Rows refused for good go to the dead-letter spool. Returns the number of rows newly written.
     *
     * @throws SQLException a transient failure: the database went away in the middle
     */
    private int writeEachOrReject(List<AuditEvent> events) throws SQLException {
        int fresh = 0;
        for (AuditEvent e : events) {
            try {
                fresh += writeWithPartitionRepair(List.of(e), true);
            } catch (SQLException failure) {
                if (SqlFailures.isTransient(failure)) {
                    throw failure;
                }
                reject(
                        List.of(AuditEventCodec.encode(e)),
                        e.eventId() + ": SQLSTATE " + failure.getSQLState() + " " + failure.getMessage());
            }
        }
        return fresh;
    }

    private void reject(List<byte[]> records, String why) {
        try {
            AppendResult r = rejectedSpool.append(records);
            rejectedByDatabase.increment(r.appended());
            rejectAlarm.raise(
                    r.appended(),
                    "audit: PostgreSQL refused event(s) for good; kept in {}: {}",
                    settings.spool().directory().resolve("rejected"),
                    why);
            if (r.appended() < records.size()) {
                droppedSpoolFull.increment(records.size() - r.appended());
                lossAlarm.raise(records.size() - r.appended(), "audit dead-letter spool full: refused events lost");
            }
        } catch (IOException io) {
            droppedSpoolError.increment(records.size());
            lossAlarm.raise(
                    records.size(), "audit dead-letter spool write failed ({}): refused events lost", io.toString());
        }
    }

    private void replayOldestSegment() throws IOException {
        if (!databaseUp) {
            // Probe first: while the database is away no segment is claimed, so the spool's drop_oldest policy
            // can always delete the oldest segment.
            try {
                store.probe();
            } catch (SQLException e) {
                markDown(e);
                return;
            }
        }
        SpoolSegment segment = spool.claimOldest().orElse(null);
        if (segment == null) {
            return;
        }
        boolean done = false;
        try {
            SegmentContents contents = spool.read(segment);
            if (contents.skippedRecords() > 0) {
                spoolCorrupt.increment(contents.skippedRecords());
                corruptAlarm.raise(
                        contents.skippedRecords(),
                        "audit spool segment {}: torn or corrupted record(s) skipped ({} bytes)",
                        segment.file().getFileName(),
                        contents.skippedBytes());
            }
            List<AuditEvent> events = new ArrayList<>(contents.records().size());
            for (byte[] record : contents.records()) {
                try {
                    events.add(AuditEventCodec.decode(record));
                } catch (IllegalArgumentException undecodable) {
                    // Intact (CRC ok) but not readable by this release: keep the bytes for an operator.
                    reject(
                            List.of(record),
                            "undecodable spool record in " + segment.file().getFileName() + ": "
                                    + undecodable.getMessage());
                }
            }
            // Counted once the whole segment is committed: a segment that fails half-way is replayed again from
            // its start, and its first batches must not be counted twice.
            long segmentDuplicates = 0;
            for (int from = 0; from < events.size(); from += settings.batchSize()) {
                List<AuditEvent> chunk = events.subList(from, Math.min(events.size(), from + settings.batchSize()));
                long started = System.nanoTime();
                int fresh;
                io.opentelemetry.api.trace.Span span = spans.start("replay", chunk.size());
                try {
                    fresh = writeWithPartitionRepair(chunk, true);
                    BatchSpans.end(span, "written");
                } catch (SQLException e) {
                    if (SqlFailures.isTransient(e)) {
                        BatchSpans.end(span, "spooled");
                        throw e;
                    }
                    fresh = writeEachOrReject(chunk);
                    BatchSpans.end(span, "rows_one_by_one");
                }
                replayBatchTimer.record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
                segmentDuplicates += Math.max(0, chunk.size() - fresh);
            }
            spool.delete(segment); // only now: every row of the segment is committed
            replayed.increment(events.size());
            replayDuplicates.increment(segmentDuplicates);
            log.info(
                    "audit: replayed {} spooled event(s) from {} ({} were already in PostgreSQL)",
                    events.size(),
                    segment.file().getFileName(),
                    segmentDuplicates);
            done = true;
            markUp();
        } catch (SQLException e) {
            markDown(e);
        } finally {
            if (!done) {
                spool.release(segment);
            }
        }
    }

    private void markUp() {
        if (!databaseUp) {
            log.info("audit: PostgreSQL reachable again; {} bytes left in the spool", spool.bytes());
        }
        databaseUp = true;
        retryBackoffNanos = RETRY_BACKOFF_MIN.toNanos();
        nextAttemptNanos = System.nanoTime();
    }

    private void markDown(SQLException e) {
        if (databaseUp) {
            log.error(
                    "audit: PostgreSQL unavailable (SQLSTATE {}: {}); spooling events to {}",
                    e.getSQLState(),
                    e.getMessage(),
                    settings.spool().directory());
        } else {
            log.debug("audit: PostgreSQL still unavailable: {}", e.getMessage());
        }
        databaseUp = false;
        backOff();
    }

    private void backOff() {
        nextAttemptNanos = System.nanoTime() + retryBackoffNanos;
        retryBackoffNanos =
                Math.min(retryBackoffNanos * 2, settings.retryBackoffMax().toNanos());
    }

    /**
     * Stops accepting events, writes (or spools) everything still in memory, and closes the spool. What is in
     * the spool stays on disk and is replayed by the next writer on the same directory.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        batcherStopping = true;
        LockSupport.unpark(batcher);
        joinQuietly(batcher, settings.slowDbThreshold().plusSeconds(30));
        databaseThreadStopping = true;
        joinQuietly(databaseThread, settings.writeTimeout().plusSeconds(5));
        // Anything the database thread did not take is spooled so nothing in memory is lost.
        List<AuditEvent> left = handoff.poll();
        if (left != null) {
            spoolBatch(left);
        }
        try {
            spool.close();
            rejectedSpool.close();
        } catch (IOException e) {
            log.error("audit: closing the spool failed: {}", e.toString());
        }
        store.close();
    }

    private static void joinQuietly(Thread t, Duration timeout) {
        try {
            t.join(timeout.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (t.isAlive()) {
            log.error("audit: thread {} did not stop within {}", t.getName(), timeout);
        }
    }
}
