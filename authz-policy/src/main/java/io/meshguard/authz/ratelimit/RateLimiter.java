package io.meshguard.authz.ratelimit;

/**
 * Decides whether one request fits all of its caller's limits, and counts it only when it does (all or nothing).
 * {@code TokenBucketLimiter} keeps the counts in this replica; extauthz's {@code RedisRateLimiter} shares them through Redis.
 */
public interface RateLimiter {

    /** One decision: admitted requests are counted in every limit, refused ones in none. Never blocks for long. */
    Verdict acquire(LimitRequest request);

    /** Where the counts live, for logs, readiness and {@code meshguard_ratelimit_*} metrics. */
    default String mode() {
        return "local";
    }
}
