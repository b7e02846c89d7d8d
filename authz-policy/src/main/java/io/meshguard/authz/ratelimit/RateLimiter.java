package io.meshguard.authz.ratelimit;

/**
 * Decides whether one request fits all of its caller's limits, and counts it only when it does (all or nothing).
 * {@code TokenBucketLimiter} keeps the counts in this replica; extauthz's {@code RedisRateLimiter} shares them through Redis.
 */
public interface RateLimiter {

    /** One decision: admitted requests are counted in every limit, refused ones in none. Never blocks for long. */
    Verdict acquire(LimitRequest request);

    /**
     * Gives back what {@code admitted} (this limiter's admitting answer to {@code request}) counted, because the
     * request it admitted never happened: its Check was cancelled before the answer was sent. Never blocks for long;
     * a store that cannot be reached keeps the count (the caller paid for a request that did not happen, never the
     * other way round). Limiters that count nothing (replays) leave this empty.
     */
    default void giveBack(LimitRequest request, Verdict admitted) {}

    /** Where the counts live, for logs, readiness and {@code meshguard_ratelimit_*} metrics. */
    default String mode() {
        return "local";
    }
}
