package io.meshguard.audit;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A maintenance job run now and then every {@code interval} on its own daemon thread (the audit log's and the admin
 * trail's monthly partitions). A run that fails is retried after five minutes, or after the interval if that is
 * shorter, so a database that is away for a while does not leave next month without a partition.
 */
public final class MaintenanceSchedule implements AutoCloseable {
    /** One run; its failure is reported to {@link #failed} and the run retried. */
    @FunctionalInterface
    public interface Job {
        void run() throws Exception;
    }

    /** What is told of a failed run and when the next one is. */
    @FunctionalInterface
    public interface FailureReport {
        void failed(Exception e, Duration retryIn);
    }

    static final Duration RETRY_AFTER_FAILURE = Duration.ofMinutes(5);

    private final String threadName;
    private final Job job;
    private final FailureReport failed;
    private ScheduledExecutorService scheduler;

    public MaintenanceSchedule(String threadName, Job job, FailureReport failed) {
        this.threadName = threadName;
        this.job = job;
        this.failed = failed;
    }

    /** Runs the job now, then every {@code interval}. */
    public synchronized void start(Duration interval) {
        if (scheduler != null) {
            throw new IllegalStateException("already started");
        }
        scheduler = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().name(threadName).daemon().factory());
        scheduler.execute(() -> runAndReschedule(interval));
    }

    private void runAndReschedule(Duration interval) {
        Duration next = interval;
        try {
            job.run();
        } catch (Exception e) {
            next = interval.compareTo(RETRY_AFTER_FAILURE) < 0 ? interval : RETRY_AFTER_FAILURE;
            failed.failed(e, next);
        }
        ScheduledExecutorService s;
        synchronized (this) {
            s = scheduler;
        }
        if (s != null && !s.isShutdown()) {
            try {
                s.schedule(() -> runAndReschedule(interval), next.toMillis(), TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException closing) {
                // closed meanwhile: no next run
            }
        }
    }

    @Override
    public synchronized void close() {
        if (scheduler != null) {
            scheduler.shutdownNow();
            scheduler = null;
        }
    }
}
