package io.meshguard.authz.ratelimit;

import io.meshguard.authz.policy.RateLimitPolicy.Limit;
import java.util.List;

/**
 * The answer for one request.
 *
 * @param allowed whether the request was admitted (and counted)
 * @param retryAfterMicros when refused, how long until every limit admits one more request
 * @param states each limit's remaining requests and time until its bucket is full again, in the request's order
 * @param source who decided: the shared store, this replica alone, this replica's degraded share, or nobody (the
 *     store is down and the rule fails closed)
 * @param atMicros when it was decided: the store's clock (µs since the epoch) for {@link Source#GLOBAL}, this
 *     replica's monotonic clock (µs) otherwise
 */
public record Verdict(boolean allowed, long retryAfterMicros, List<LimitState> states, Source source, long atMicros) {
    public Verdict {
        states = List.copyOf(states);
    }

    /** Who decided. */
    public enum Source {
        /** The shared store (Redis), for every replica at once. */
        GLOBAL,
        /** This replica's own buckets (no {@code redis.url}): N replicas allow up to N times the limit. */
        LOCAL,
        /** The store is unreachable: this replica enforced its share (limit / live replicas). */
        DEGRADED,
        /** The store is unreachable and the rule says {@code fail_closed}: refused without counting. */
        STORE_UNAVAILABLE
    }

    /** One limit's state after the decision. */
    public record LimitState(Limit limit, long remaining, long resetMicros) {}

    /** The limit closest to refusing (fewest remaining), for the single-valued {@code X-RateLimit-*} headers. */
    public LimitState tightest() {
        LimitState best = states.get(0);
        for (LimitState s : states) {
            if (s.remaining() < best.remaining()
                    || (s.remaining() == best.remaining() && s.resetMicros() > best.resetMicros())) {
                best = s;
            }
        }
        return best;
    }
}
