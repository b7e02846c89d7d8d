package io.meshguard.extauthz.ratelimit;

import java.time.Duration;

/**
 * How the global limiter treats its store ({@code ratelimit.*} keys).
 *
 * @param maxBuckets local buckets (and denied-caller entries) kept in memory
 * @param failureThreshold failed or timed-out store calls in a row that open the breaker
 * @param openFor how long the breaker stays open before one decision probes the store
 * @param heartbeatInterval how often each replica reports itself alive in the store (its degraded share needs the count)
 * @param assumedReplicas the replica count used until the first heartbeat answers (a store down at start)
 */
public record RateLimitSettings(
        long maxBuckets, int failureThreshold, Duration openFor, Duration heartbeatInterval, int assumedReplicas) {
    public static final RateLimitSettings DEFAULTS =
            new RateLimitSettings(100_000, 3, Duration.ofMillis(500), Duration.ofSeconds(1), 1);

    public RateLimitSettings {
        if (failureThreshold < 1 || assumedReplicas < 1 || maxBuckets < 1) {
            throw new IllegalArgumentException(
                    "failure threshold, assumed replicas and max buckets must be at least 1");
        }
    }

    public RateLimitSettings withBreaker(int threshold, Duration open) {
        return new RateLimitSettings(maxBuckets, threshold, open, heartbeatInterval, assumedReplicas);
    }

    public RateLimitSettings withHeartbeat(Duration interval) {
        return new RateLimitSettings(maxBuckets, failureThreshold, openFor, interval, assumedReplicas);
    }
}
