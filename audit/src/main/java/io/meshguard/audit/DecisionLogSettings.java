package io.meshguard.audit;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * Tuning of the {@link DecisionLog}; {@link #defaults(Map)} holds the values used unless configured.
 *
 * @param queueCapacity events held in memory while the writer is behind; beyond it {@code record()} refuses (and
 *                      counts) them
 * @param flushInterval lines wait at most this long before they are written
 * @param maxWait       how long {@code record()} may wait for room in a full queue before it drops the event; zero
 *                      (the default) never holds a Check up
 * @param flushBytes    the writer writes as soon as this many bytes are encoded (many lines per write)
 * @param paths         query-string rule, the same as the database writer's
 * @param labels        written under {@code labels} on every line (service, instance)
 */
public record DecisionLogSettings(
        int queueCapacity,
        Duration flushInterval,
        Duration maxWait,
        int flushBytes,
        PathPolicy paths,
        Map<String, String> labels) {

    public DecisionLogSettings {
        Objects.requireNonNull(flushInterval, "flushInterval");
        Objects.requireNonNull(maxWait, "maxWait");
        Objects.requireNonNull(paths, "paths");
        labels = Map.copyOf(labels);
        if (queueCapacity < 1) {
            throw new IllegalArgumentException("decision log queue capacity must be positive, got " + queueCapacity);
        }
        if (flushInterval.isNegative() || flushInterval.isZero()) {
            throw new IllegalArgumentException("decision log flush interval must be positive");
        }
        if (maxWait.isNegative() || maxWait.compareTo(Duration.ofSeconds(1)) > 0) {
            throw new IllegalArgumentException("decision log max wait must be between 0 and 1s, got " + maxWait);
        }
        if (flushBytes < 1024) {
            throw new IllegalArgumentException("decision log flush size must be at least 1024 bytes");
        }
    }

    /** 65,536 queued events, written every 200 ms or per 64 KiB, never waiting, query strings dropped. */
    public static DecisionLogSettings defaults(Map<String, String> labels) {
        return new DecisionLogSettings(
                65_536, Duration.ofMillis(200), Duration.ZERO, 64 * 1024, PathPolicy.DROP_QUERY, labels);
    }

    public DecisionLogSettings withFlushInterval(Duration interval) {
        return new DecisionLogSettings(queueCapacity, interval, maxWait, flushBytes, paths, labels);
    }

    public DecisionLogSettings withQueueCapacity(int capacity) {
        return new DecisionLogSettings(capacity, flushInterval, maxWait, flushBytes, paths, labels);
    }

    public DecisionLogSettings withPaths(PathPolicy p) {
        return new DecisionLogSettings(queueCapacity, flushInterval, maxWait, flushBytes, p, labels);
    }

    public DecisionLogSettings withMaxWait(Duration wait) {
        return new DecisionLogSettings(queueCapacity, flushInterval, wait, flushBytes, paths, labels);
    }
}
