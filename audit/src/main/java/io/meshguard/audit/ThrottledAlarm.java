package io.meshguard.audit;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;

/**
 * A loud (ERROR) log line for losses and outages that cannot flood the log: the first occurrence is logged at
 * once, later ones at most once per interval with the count accumulated in between.
 */
final class ThrottledAlarm {
    private final Logger log;
    private final long intervalNanos;
    private final AtomicLong suppressed = new AtomicLong();
    private volatile long lastNanos;
    private volatile boolean fired;

    ThrottledAlarm(Logger log, long interval, TimeUnit unit) {
        this.log = log;
        this.intervalNanos = unit.toNanos(interval);
    }

    /** Logs {@code message} (SLF4J format) unless one was logged within the interval; counts {@code n} either way. */
    void raise(long n, String message, Object... args) {
        long now = System.nanoTime();
        suppressed.addAndGet(n);
        if (fired && now - lastNanos < intervalNanos) {
            return;
        }
        synchronized (this) {
            if (fired && now - lastNanos < intervalNanos) {
                return;
            }
            fired = true;
            lastNanos = now;
            long total = suppressed.getAndSet(0);
            Object[] withCount = new Object[args.length + 1];
            System.arraycopy(args, 0, withCount, 0, args.length);
            withCount[args.length] = total;
            log.error(message + " ({} affected since the last report)", withCount);
        }
    }
}
