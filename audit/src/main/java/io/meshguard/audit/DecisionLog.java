package io.meshguard.audit;

import io.meshguard.runtime.lifecycle.ReadinessCheck;
import io.meshguard.runtime.lifecycle.ServerComponent;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The decision log: every audit event recorded here becomes one JSON object on one line of an output stream
 * (standard output in production, where Fluent Bit or Vector pick it up); see {@link DecisionLogEncoder} for the
 * line.
 *
 * <p>{@link #record} only puts the event on a bounded lock-free queue. One writer thread encodes what is queued into
 * a reused buffer and writes whole lines, many per {@code write(2)}: when {@code flushBytes} are encoded, when the
 * oldest line has waited {@code flushInterval}, and on {@link #close()}, which drains the queue first. A line is never
 * split across two writes, and nothing else in a meshguard server writes to standard output (its logs go to
 * standard error), so lines never interleave with other output.
 *
 * <p>Backpressure: when the queue is full (the reader of standard output has stalled), the event is dropped, counted
 * in {@code meshguard_decision_log_dropped_total{reason="queue_full"}} and reported by a throttled ERROR log line —
 * unless {@code maxWait} lets the caller wait that long for room first. A Check is never held up longer than that:
 * a stalled log shipper must not turn into denied requests across the mesh. Where the record must not be lost, the
 * PostgreSQL audit writer (with its on-disk spool) runs beside this log.
 */
public final class DecisionLog implements AuditSink, ServerComponent {
    private static final Logger log = LoggerFactory.getLogger(DecisionLog.class);
    /** Queue length at which a parked writer is woken early rather than at the end of the flush interval. */
    private static final int WAKE_AT = 4096;

    private final DecisionLogSettings settings;
    private final OutputStream out;
    private final String target;
    private final EventQueue queue;
    private final DecisionLogEncoder encoder;
    private final Thread writer;
    private final LongAdder accepted = new LongAdder();

    private final Counter linesWritten;
    private final Counter bytesWritten;
    private final Counter writes;
    private final Counter droppedQueueFull;
    private final Counter droppedWriteError;
    private final Counter droppedEncodeError;
    private final Counter droppedClosed;
    private final ThrottledAlarm lossAlarm = new ThrottledAlarm(log, 10, TimeUnit.SECONDS);

    private volatile boolean closed;
    private volatile boolean stopping;
    private volatile boolean writerParked;
    private volatile boolean lastWriteOk = true;
    /** Events taken off the queue and written or dropped; only the writer thread advances it. */
    private volatile long handled;

    private int pendingLines;

    /**
     * @param out    where lines go; written only by this log's thread, never closed by it
     * @param target what {@code /readyz} and the logs call it, e.g. {@code stdout}
     */
    public DecisionLog(DecisionLogSettings settings, OutputStream out, String target, MeterRegistry meters) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.out = Objects.requireNonNull(out, "out");
        this.target = Objects.requireNonNull(target, "target");
        this.queue = new EventQueue(settings.queueCapacity());
        this.encoder = new DecisionLogEncoder(settings.labels(), settings.paths(), settings.flushBytes() + 8192);
        this.linesWritten = Counter.builder("meshguard.decision_log.events.written")
                .description("Decision log lines written to " + target)
                .register(meters);
        this.bytesWritten = Counter.builder("meshguard.decision_log.written.bytes")
                .description("Bytes of decision log lines written")
                .register(meters);
        this.writes = Counter.builder("meshguard.decision_log.writes")
                .description("Write calls of the decision log (each carries many whole lines)")
                .register(meters);
        this.droppedQueueFull = dropped(meters, "queue_full");
        this.droppedWriteError = dropped(meters, "write_error");
        this.droppedEncodeError = dropped(meters, "encode_error");
        this.droppedClosed = dropped(meters, "closed");
        Gauge.builder("meshguard.decision_log.queue.events", queue, EventQueue::size)
                .description("Decision log events waiting in memory")
                .strongReference(true)
                .register(meters);
        Gauge.builder("meshguard.decision_log.queue.capacity", settings, DecisionLogSettings::queueCapacity)
                .description("Decision log events the queue holds before dropping")
                .strongReference(true)
                .register(meters);
        Gauge.builder("meshguard.decision_log.up", this, d -> d.lastWriteOk ? 1 : 0)
                .description("1 when the last decision log write succeeded")
                .strongReference(true)
                .register(meters);
        this.writer = Thread.ofPlatform().name("decision-log").daemon().unstarted(this::run);
    }

    /** The decision log on this process's standard output (file descriptor 1, not through {@code System.out}). */
    public static DecisionLog toStdout(DecisionLogSettings settings, MeterRegistry meters) {
        return new DecisionLog(settings, new FileOutputStream(FileDescriptor.out), "stdout", meters);
    }

    private static Counter dropped(MeterRegistry meters, String reason) {
        return Counter.builder("meshguard.decision_log.dropped")
                .description("Decision log events lost, by reason (each also logged at ERROR)")
                .tag("reason", reason)
                .register(meters);
    }

    @Override
    public String name() {
        return "decision-log";
    }

    @Override
    public void start() {
        writer.start();
    }

    /**
     * Queues the event. Does no I/O; waits only when the queue is full and {@code maxWait} is set. Returns false (the
     * event counted as dropped, with an ERROR log) when the queue stays full or the log is closed.
     */
    @Override
    public boolean record(AuditEvent event) {
        if (closed) {
            droppedClosed.increment();
            lossAlarm.raise(1, "decision log event recorded after the log was closed; it is lost");
            return false;
        }
        int size = queue.offer(event);
        if (size < 0 && !settings.maxWait().isZero()) {
            size = offerWaiting(event);
        }
        if (size < 0) {
            droppedQueueFull.increment();
            lossAlarm.raise(
                    1,
                    "decision log queue full ({} events, is {} read?): events are being dropped",
                    settings.queueCapacity(),
                    target);
            return false;
        }
        accepted.increment();
        if (size == WAKE_AT && writerParked) {
            LockSupport.unpark(writer);
        }
        return true;
    }

    private int offerWaiting(AuditEvent event) {
        long deadline = System.nanoTime() + settings.maxWait().toNanos();
        int size;
        do {
            LockSupport.unpark(writer);
            LockSupport.parkNanos(this, 50_000);
            size = queue.offer(event);
        } while (size < 0 && System.nanoTime() < deadline);
        return size;
    }

    /**
     * Waits until every event accepted so far is written (or counted as dropped). For tests and benchmarks; false
     * on timeout.
     */
    public boolean awaitWritten(Duration timeout) throws InterruptedException {
        long target = accepted.sum();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (handled < target) {
            if (System.nanoTime() >= deadline) {
                return false;
            }
            LockSupport.unpark(writer);
            Thread.sleep(1);
        }
        return true;
    }

    @Override
    public List<ReadinessCheck> readinessChecks() {
        // Reported, never failed: taking the pods out of service because a log reader stalled would deny traffic.
        return List.of(ReadinessCheck.of(
                "decision-log",
                () -> ReadinessCheck.Result.ready("decision log to " + target + ": " + queue.size()
                        + " queued, last write " + (lastWriteOk ? "ok" : "FAILED"))));
    }

    /** Refuses new events, writes everything queued, and stops the writer thread. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        stopping = true;
        LockSupport.unpark(writer);
        try {
            writer.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        int left = queue.size();
        if (left > 0) {
            // The writer is stuck in a write the reader does not take, or was never started.
            log.error(
                    "decision log: {} did not take the last lines within 10 s; {} queued events are lost",
                    target,
                    left);
            droppedClosed.increment(left);
        }
    }

    // ---------------------------------------------------------------- writer thread

    private void run() {
        long flushNanos = settings.flushInterval().toNanos();
        long oldestPending = 0;
        long idleParkStart = -1;
        while (true) {
            AuditEvent e = queue.poll();
            if (e != null) {
                if (pendingLines == 0) {
                    // An event that arrived while the writer slept idle may be as old as the sleep: count from its
                    // start, so no line waits more than about one flush interval.
                    oldestPending = idleParkStart >= 0 ? idleParkStart : System.nanoTime();
                    idleParkStart = -1;
                }
                encode(e);
                if (encoder.size() >= settings.flushBytes()) {
                    writeOut();
                }
                continue;
            }
            boolean stop = stopping;
            if (pendingLines > 0 && (stop || System.nanoTime() - oldestPending >= flushNanos)) {
                writeOut();
                continue;
            }
            if (stop && queue.isEmpty()) {
                return;
            }
            long now = System.nanoTime();
            long wait = pendingLines == 0 ? flushNanos : flushNanos - (now - oldestPending);
            if (pendingLines == 0) {
                idleParkStart = now;
            }
            writerParked = true;
            if (queue.isEmpty()) {
                LockSupport.parkNanos(this, Math.max(wait, 100_000));
            }
            writerParked = false;
        }
    }

    private void encode(AuditEvent e) {
        int mark = encoder.size();
        try {
            encoder.append(e);
            pendingLines++;
        } catch (RuntimeException | OutOfMemoryError failure) {
            encoder.truncate(mark);
            droppedEncodeError.increment();
            handled++;
            lossAlarm.raise(
                    1, "decision log: event {} could not be encoded ({}); it is lost", e.eventId(), failure.toString());
        }
    }

    private void writeOut() {
        int lines = pendingLines;
        int bytes = encoder.size();
        try {
            out.write(encoder.bytes(), 0, bytes);
            out.flush();
            linesWritten.increment(lines);
            bytesWritten.increment(bytes);
            writes.increment();
            lastWriteOk = true;
        } catch (IOException | RuntimeException failure) {
            lastWriteOk = false;
            droppedWriteError.increment(lines);
            lossAlarm.raise(lines, "decision log: writing to {} failed ({}); lines lost", target, failure.toString());
        } finally {
            encoder.reset();
            encoder.shrinkTo(4 * (settings.flushBytes() + 8192));
            pendingLines = 0;
            handled += lines;
        }
    }
}
