package io.meshguard.extauthz.ratelimit;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.meshguard.extauthz.policy.RateLimitPolicy.RateTier;
import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * Local token buckets, one per caller key. Per replica: with N replicas a caller gets up to N times its tier's rate.
 * Idle buckets are dropped after {@code idleAfter} (a dropped bucket comes back full, which an idle caller had
 * earned anyway).
 */
public final class TokenBucketLimiter {
    /** Whether a request may pass; when not, how long until a token is there. */
    public record Outcome(boolean allowed, Duration retryAfter) {}

    private final Cache<String, Bucket> buckets;
    private final LongSupplier nanoTime;

    public TokenBucketLimiter(long maxBuckets, Duration idleAfter, LongSupplier nanoTime) {
        this.buckets = Caffeine.newBuilder().maximumSize(maxBuckets).expireAfterAccess(idleAfter).build();
        this.nanoTime = nanoTime;
    }

    public Outcome tryAcquire(String key, RateTier tier) {
        // the tier is part of the key: a caller moved to another tier starts a bucket of that size
        Bucket bucket = buckets.get(key + "|" + tier.name() + "|" + tier.requestsPerSecond() + "|" + tier.burst(),
                k -> new Bucket(tier.burst(), nanoTime.getAsLong()));
        return bucket.take(tier, nanoTime.getAsLong());
    }

    private static final class Bucket {
        private double tokens;
        private long lastNanos;

        Bucket(long burst, long now) {
            this.tokens = burst;
            this.lastNanos = now;
        }

        synchronized Outcome take(RateTier tier, long now) {
            double elapsed = Math.max(0, now - lastNanos) / 1e9;
            tokens = Math.min(tier.burst(), tokens + elapsed * tier.requestsPerSecond());
            lastNanos = now;
            if (tokens >= 1) {
                tokens -= 1;
                return new Outcome(true, Duration.ZERO);
            }
            double wait = (1 - tokens) / tier.requestsPerSecond();
            return new Outcome(false, Duration.ofNanos((long) Math.ceil(wait * 1e9)));
        }
    }
}
