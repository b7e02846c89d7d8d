package io.meshguard.dlpserver;

import java.util.Collection;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One thread that enforces {@link PhaseDeadlines} on every open stream. It runs apart from the gRPC threads on
 * purpose: a scan that stalls (blocked, deadlocked, starved) cannot end its own stream, so the answer that ends it
 * must come from here. The processing threads only stamp when a message arrives and when it is dealt with (two
 * volatile writes per message); this thread looks every {@link PhaseDeadlines#sweepInterval()}.
 */
final class StreamDeadlines implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(StreamDeadlines.class);

    private final PhaseDeadlines deadlines;
    private final Collection<ProcessingSession> open;
    private ScheduledExecutorService sweeper;

    StreamDeadlines(PhaseDeadlines deadlines, Collection<ProcessingSession> open) {
        this.deadlines = deadlines;
        this.open = open;
    }

    void start() {
        sweeper = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "dlp-deadlines");
            t.setDaemon(true);
            return t;
        });
        long every = deadlines.sweepInterval().toNanos();
        sweeper.scheduleWithFixedDelay(this::sweep, every, every, TimeUnit.NANOSECONDS);
    }

    /** Ends every stream that is over a deadline now. */
    void sweep() {
        long now = System.nanoTime();
        for (ProcessingSession s : open) {
            try {
                s.enforce(deadlines, now);
            } catch (RuntimeException e) {
                // One stream's failure must not stop the watch over all the others.
                log.error("deadline check failed for a DLP stream", e);
            }
        }
    }

    /** Seconds the oldest open stream has been open, event streams and upgrades excepted; 0 when none. */
    double oldestSeconds() {
        long now = System.nanoTime();
        long oldest = 0;
        for (ProcessingSession s : open) {
            if (!s.longLived()) {
                oldest = Math.max(oldest, now - s.openedAt());
            }
        }
        return oldest / 1e9;
    }

    @Override
    public void close() {
        if (sweeper != null) {
            sweeper.shutdownNow();
        }
    }
}
