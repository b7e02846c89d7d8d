package io.meshguard.extauthz.ratelimit;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import io.meshguard.authz.policy.RateLimitPolicy.Limit;
import io.meshguard.authz.policy.RateLimitPolicy.RateTier;
import io.meshguard.authz.ratelimit.Gcra;
import io.meshguard.authz.ratelimit.LimitRequest;
import io.meshguard.authz.ratelimit.RateLimitKeys;
import io.meshguard.authz.ratelimit.RateLimiter;
import io.meshguard.authz.ratelimit.Verdict;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;

/**
 * Buckets inside this replica, one per caller and limit, with the same GCRA arithmetic as the store script. Used
 * alone when no Redis is configured (per replica: with N replicas a caller gets up to N times its limit), and by
 * {@link RedisRateLimiter} while the store is unreachable, then with each replica enforcing its share
 * ({@code rate / replicas}, {@code burst / replicas}). A bucket is dropped once it is surely full again and then idle
 * for {@code idleAfter} (a dropped bucket comes back full, which the caller had earned anyway), or when
 * {@code maxBuckets} are held. Time is this replica's monotonic clock.
 */
public final class TokenBucketLimiter implements RateLimiter {
    /** Whether a request may pass; when not, how long until it would. (The single-limit form of {@link Verdict}.) */
    public record Outcome(boolean allowed, Duration retryAfter) {}

    /** One bucket: its limit as enforced here (scaled to the share), the divisor used, and its TAT (µs). */
    private static final class Bucket {
        final String callerKey;
        final Limit limit;
        final int share;
        long tat;

        Bucket(String callerKey, Limit limit, int share, long tat) {
            this.callerKey = callerKey;
            this.limit = limit;
            this.share = share;
            this.tat = tat;
        }
    }

    private static final int STRIPES = 64;

    private final Cache<String, Bucket> buckets;
    private final LongSupplier nanoTime;
    private final IntSupplier share;
    private final Verdict.Source source;
    private final Object[] locks = new Object[STRIPES];

    /** Local limits of this replica alone. */
    public TokenBucketLimiter(long maxBuckets, Duration idleAfter, LongSupplier nanoTime) {
        this(maxBuckets, idleAfter, nanoTime, () -> 1, Verdict.Source.LOCAL);
    }

    /**
     * @param share how many replicas share each limit (the degraded mode's live replica count; at least 1)
     * @param source how verdicts of this limiter are labelled
     */
    TokenBucketLimiter(
            long maxBuckets, Duration idleAfter, LongSupplier nanoTime, IntSupplier share, Verdict.Source source) {
        long idleNanos = idleAfter.toNanos();
        // a bucket may go only once it is surely full again (its capacity after the last use) plus the idle time: a
        // plain idle expiry would hand a caller of a per-day limit a fresh bucket after ten quiet minutes
        this.buckets = Caffeine.newBuilder()
                .ticker(nanoTime::getAsLong)
                .maximumSize(maxBuckets)
                .expireAfter(new Expiry<String, Bucket>() {
                    private long life(Bucket b) {
                        return Math.min(Long.MAX_VALUE / 4, b.limit.capacityMicros() * 1000 + idleNanos);
                    }

                    @Override
                    public long expireAfterCreate(String key, Bucket b, long now) {
                        return life(b);
                    }

                    @Override
                    public long expireAfterUpdate(String key, Bucket b, long now, long current) {
                        return life(b);
                    }

                    @Override
                    public long expireAfterRead(String key, Bucket b, long now, long current) {
                        return life(b);
                    }
                })
                .build();
        this.nanoTime = nanoTime;
        this.share = share;
        this.source = source;
        for (int i = 0; i < STRIPES; i++) {
            locks[i] = new Object();
        }
    }

    /** A one-caller, one-tier shortcut (tests and tools). */
    public Outcome tryAcquire(String key, RateTier tier) {
        Verdict v = acquire(new LimitRequest(
                RateLimitKeys.caller(key, tier.name()),
                tier.name(),
                tier.limits(),
                io.meshguard.authz.policy.RateLimitPolicy.OnStoreError.DEGRADED));
        return new Outcome(v.allowed(), Duration.ofNanos(v.retryAfterMicros() * 1000));
    }

    @Override
    public Verdict acquire(LimitRequest request) {
        int n = Math.max(1, share.getAsInt());
        long now = nanoTime.getAsLong() / 1000;
        List<Limit> limits = request.limits();
        Bucket[] held = new Bucket[limits.size()];
        Gcra.Step[] steps = new Gcra.Step[limits.size()];
        synchronized (locks[Math.floorMod(request.callerKey().hashCode(), STRIPES)]) {
            boolean allowed = true;
            long retry = 0;
            for (int i = 0; i < limits.size(); i++) {
                Limit enforced = scaled(limits.get(i), n);
                String key = request.callerKey() + '\u0000' + limits.get(i).label();
                Bucket b = buckets.getIfPresent(key);
                if (b == null || b.share != n) {
                    // a new share starts from the old bucket's debt, never from a full bucket
                    long carried = b == null ? now : Math.max(now, b.tat);
                    b = new Bucket(request.callerKey(), limits.get(i), n, carried);
                    buckets.put(key, b);
                }
                held[i] = b;
                steps[i] = Gcra.step(b.tat, now, enforced.emissionMicros(), enforced.capacityMicros());
                if (!steps[i].allowed()) {
                    allowed = false;
                    retry = Math.max(retry, steps[i].retryAfter());
                }
            }
            List<Verdict.LimitState> states = new ArrayList<>(limits.size());
            for (int i = 0; i < limits.size(); i++) {
                if (allowed) {
                    held[i].tat = steps[i].newTat();
                }
                // admitted: what fits after it; refused: what fits now (0 for the limit that refused)
                states.add(new Verdict.LimitState(
                        limits.get(i),
                        allowed ? steps[i].remaining() : steps[i].available(),
                        allowed ? steps[i].reset() : Math.max(0, held[i].tat - now)));
            }
            return new Verdict(allowed, retry, states, source, now);
        }
    }

    /**
     * Moves each bucket's TAT back by the one interval {@code admitted} took, never behind now (a full bucket holds
     * no more than a burst). A bucket re-shared since (the replica count changed) or dropped keeps what it holds.
     */
    @Override
    public void giveBack(LimitRequest request, Verdict admitted) {
        if (!admitted.allowed() || admitted.source() != source) {
            return;
        }
        long now = nanoTime.getAsLong() / 1000;
        synchronized (locks[Math.floorMod(request.callerKey().hashCode(), STRIPES)]) {
            for (Limit limit : request.limits()) {
                Bucket b = buckets.getIfPresent(request.callerKey() + '\u0000' + limit.label());
                if (b != null) {
                    b.tat = Math.max(now, b.tat - scaled(limit, b.share).emissionMicros());
                }
            }
        }
    }

    /** A limit as one of {@code n} replicas enforces it: {@code n} times the interval, {@code 1/n} of the burst. */
    static Limit scaled(Limit limit, int n) {
        if (n == 1) {
            return limit;
        }
        return new Limit(limit.requests(), limit.per().multipliedBy(n), Math.max(1, limit.burst() / n));
    }

    /** What one bucket still owes the shared store after an outage: its debt in the limit's own (unscaled) terms. */
    record Debt(String callerKey, Limit limit, long micros) {}

    /**
     * Removes every bucket and returns what each still owes: how far its TAT runs ahead of now, divided by the share it
     * was enforced with (a replica's share interval is {@code n} times the limit's, so its debt counts {@code 1/n}).
     * Buckets already full owe nothing and are not returned.
     */
    List<Debt> drainDebts() {
        long now = nanoTime.getAsLong() / 1000;
        List<Debt> out = new ArrayList<>();
        for (var e : buckets.asMap().entrySet()) {
            Bucket b = e.getValue();
            long owed;
            synchronized (locks[Math.floorMod(b.callerKey.hashCode(), STRIPES)]) {
                owed = Math.max(0, b.tat - now) / b.share;
                buckets.invalidate(e.getKey());
            }
            if (owed > 0) {
                out.add(new Debt(b.callerKey, b.limit, owed));
            }
        }
        return out;
    }

    @Override
    public String mode() {
        return source == Verdict.Source.LOCAL ? "local" : "degraded";
    }
}
