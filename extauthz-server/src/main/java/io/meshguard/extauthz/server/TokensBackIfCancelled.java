package io.meshguard.extauthz.server;

import io.grpc.Context;
import io.meshguard.authz.ratelimit.LimitRequest;
import io.meshguard.authz.ratelimit.RateLimiter;
import io.meshguard.authz.ratelimit.Verdict;
import java.util.ArrayList;
import java.util.List;

/**
 * Remembers, per Check, what its rate limits counted, so that a Check Envoy cancelled before its answer was sent (the
 * client reset: no request follows it) gives its tokens back, whichever limiter counted them (this replica's buckets,
 * the shared store, or the degraded share). A Check whose answer was sent is never given back anything, so cancelling
 * mints no free calls. Outside a Check ({@link Spent#NONE} current: the CLI's checks, replays) nothing is remembered.
 */
final class TokensBackIfCancelled implements RateLimiter {
    /** What one Check's rate limits counted. */
    static final class Spent {
        /** Outside a Check: remembers nothing. */
        static final Spent NONE = new Spent();

        private record Taken(RateLimiter limiter, LimitRequest request, Verdict verdict) {}

        private final List<Taken> taken = new ArrayList<>(2);

        /** The Check's counts, current in {@code context} (a Check is decided on one thread). */
        static final Context.Key<Spent> KEY = Context.keyWithDefault("meshguard-rate-limit-spent", NONE);

        private synchronized void add(Taken t) {
            if (this != NONE) {
                taken.add(t);
            }
        }

        /** Gives every count back; called once, for a Check whose answer was never sent. */
        synchronized int giveBack() {
            for (Taken t : taken) {
                t.limiter().giveBack(t.request(), t.verdict());
            }
            int n = taken.size();
            taken.clear();
            return n;
        }
    }

    private final RateLimiter limiter;

    private TokensBackIfCancelled(RateLimiter limiter) {
        this.limiter = limiter;
    }

    static RateLimiter of(RateLimiter limiter) {
        return limiter instanceof TokensBackIfCancelled ? limiter : new TokensBackIfCancelled(limiter);
    }

    @Override
    public Verdict acquire(LimitRequest request) {
        Verdict v = limiter.acquire(request);
        if (v.allowed()) {
            Spent.KEY.get().add(new Spent.Taken(limiter, request, v));
        }
        return v;
    }

    @Override
    public void giveBack(LimitRequest request, Verdict admitted) {
        limiter.giveBack(request, admitted);
    }

    @Override
    public String mode() {
        return limiter.mode();
    }
}
