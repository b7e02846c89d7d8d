package io.meshguard.xds.server;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One thread that owns a part of the xDS core's state changes, in the order they were handed over. The thread that
 * hands a task over may hold its own lock (a stream's): it only enqueues, and the task runs holding none, so no
 * callback into another component ever runs under the caller's lock. Knows how long its oldest task has waited, for
 * {@link XdsWatchdog}.
 */
public final class SerialExecutor implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SerialExecutor.class);

    private final String name;
    private final ExecutorService thread;
    /** When each queued or running task was handed over (System.nanoTime), oldest first. */
    private final ConcurrentLinkedQueue<long[]> pending = new ConcurrentLinkedQueue<>();

    public SerialExecutor(String name) {
        this.name = name;
        this.thread = Executors.newSingleThreadExecutor(
                Thread.ofPlatform().name(name).daemon().factory());
    }

    /** Runs {@code task} after every task handed over before it; a task that throws is logged and the next runs. */
    public void execute(Runnable task) {
        long[] since = {System.nanoTime()};
        pending.add(since);
        try {
            thread.execute(() -> {
                try {
                    task.run();
                } catch (RuntimeException e) {
                    log.error("{}: a state change failed", name, e);
                } finally {
                    pending.remove(since);
                }
            });
        } catch (RejectedExecutionException closed) {
            pending.remove(since);
        }
    }

    /** How long the oldest task handed over and not yet finished has waited, in nanoseconds; 0 when none. */
    public long oldestWaitNanos() {
        long[] oldest = pending.peek();
        return oldest == null ? 0 : Math.max(0, System.nanoTime() - oldest[0]);
    }

    /** Whether every task handed over before this call has run (waits at most {@code millis}); for tests. */
    public boolean drained(long millis) throws InterruptedException {
        java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
        execute(done::countDown);
        return done.await(millis, TimeUnit.MILLISECONDS);
    }

    public String name() {
        return name;
    }

    @Override
    public void close() {
        thread.shutdownNow();
    }
}
