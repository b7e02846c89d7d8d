package io.meshguard.audit;

import io.meshguard.audit.spool.SpoolSettings;
import java.time.Duration;
import java.util.Objects;

/**
 * Tuning of the {@link AuditWriter}; see {@link #defaults(SpoolSettings)} for the values used unless configured.
 *
 * @param queueCapacity   events held in memory before {@code record()} starts refusing (and counting) them
 * @param batchSize       events per database batch
 * @param flushInterval   a partial batch is written after this long
 * @param slowDbThreshold a batch the database thread has not taken within this time goes to the spool when the
 *                        thread has been waiting on PostgreSQL for longer than this (a thread merely short of CPU
 *                        keeps it in memory, up to half of {@code queueCapacity})
 * @param writeTimeout    network timeout of one database batch; a hung database counts as down after it
 * @param retryBackoffMax longest pause between reconnection attempts while the database is down
 * @param method          COPY or multi-row INSERT
 * @param paths           query-string handling
 * @param spool           the on-disk spool
 */
public record AuditWriterSettings(
        int queueCapacity,
        int batchSize,
        Duration flushInterval,
        Duration slowDbThreshold,
        Duration writeTimeout,
        Duration retryBackoffMax,
        BatchWriteMethod method,
        PathPolicy paths,
        SpoolSettings spool) {

    public AuditWriterSettings {
        Objects.requireNonNull(flushInterval, "flushInterval");
        Objects.requireNonNull(slowDbThreshold, "slowDbThreshold");
        Objects.requireNonNull(writeTimeout, "writeTimeout");
        Objects.requireNonNull(retryBackoffMax, "retryBackoffMax");
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(paths, "paths");
        Objects.requireNonNull(spool, "spool");
        if (batchSize < 1 || batchSize > 100_000) {
            throw new IllegalArgumentException("audit batch size must be between 1 and 100000, got " + batchSize);
        }
        if (queueCapacity < batchSize) {
            throw new IllegalArgumentException(
                    "audit queue capacity (" + queueCapacity + ") must be at least the batch size (" + batchSize + ")");
        }
        if (flushInterval.isNegative() || flushInterval.isZero()) {
            throw new IllegalArgumentException("audit flush interval must be positive");
        }
    }

    /** 65,536 queued events, batches of 1,000 every 200 ms at most, COPY, 500 ms before "slow", 10 s timeout. */
    public static AuditWriterSettings defaults(SpoolSettings spool) {
        return new AuditWriterSettings(
                65_536,
                1000,
                Duration.ofMillis(200),
                Duration.ofMillis(500),
                Duration.ofSeconds(10),
                Duration.ofSeconds(5),
                BatchWriteMethod.COPY,
                PathPolicy.DROP_QUERY,
                spool);
    }

    public AuditWriterSettings withQueueCapacity(int v) {
        return new AuditWriterSettings(
                v, batchSize, flushInterval, slowDbThreshold, writeTimeout, retryBackoffMax, method, paths, spool);
    }

    public AuditWriterSettings withBatchSize(int v) {
        return new AuditWriterSettings(
                queueCapacity, v, flushInterval, slowDbThreshold, writeTimeout, retryBackoffMax, method, paths, spool);
    }

    public AuditWriterSettings withFlushInterval(Duration v) {
        return new AuditWriterSettings(
                queueCapacity, batchSize, v, slowDbThreshold, writeTimeout, retryBackoffMax, method, paths, spool);
    }

    public AuditWriterSettings withRetryBackoffMax(Duration v) {
        return new AuditWriterSettings(
                queueCapacity, batchSize, flushInterval, slowDbThreshold, writeTimeout, v, method, paths, spool);
    }

    public AuditWriterSettings withMethod(BatchWriteMethod v) {
        return new AuditWriterSettings(
                queueCapacity,
                batchSize,
                flushInterval,
                slowDbThreshold,
                writeTimeout,
                retryBackoffMax,
                v,
                paths,
                spool);
    }

    public AuditWriterSettings withPaths(PathPolicy v) {
        return new AuditWriterSettings(
                queueCapacity,
                batchSize,
                flushInterval,
                slowDbThreshold,
                writeTimeout,
                retryBackoffMax,
                method,
                v,
                spool);
    }

    public AuditWriterSettings withSpool(SpoolSettings v) {
        return new AuditWriterSettings(
                queueCapacity,
                batchSize,
                flushInterval,
                slowDbThreshold,
                writeTimeout,
                retryBackoffMax,
                method,
                paths,
                v);
    }
}
