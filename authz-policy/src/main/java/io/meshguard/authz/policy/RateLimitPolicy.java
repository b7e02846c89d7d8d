package io.meshguard.authz.policy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The {@code rate_limits:} block. API-key callers are limited per key, token callers per {@code by} (tenant or
 * subject), anonymous callers (public routes) per client address. Each tier holds one or more limits; a request must
 * fit all of them (nothing is counted when one refuses). With {@code redis.url} set the counts are shared by all
 * replicas; without it each replica keeps its own (N replicas then allow up to N times the rate).
 *
 * @param by {@code tenant} or {@code subject}, for token callers
 * @param tiers tier name to its limits
 * @param defaultTier tier of callers with none of their own
 * @param tenantTiers tier per tenant, for token callers whose issuer maps no tier claim
 * @param publicTier tier of anonymous callers (public routes), who are limited per client address (found through
 *     {@link io.meshguard.authz.decision.ClientAddress})
 * @param scope one count per caller across the whole policy, or one per caller and route
 * @param onStoreError what a Check does while the shared store is unreachable
 * @param headers which rate-limit response headers go to the client
 */
public record RateLimitPolicy(
        String by,
        Map<String, RateTier> tiers,
        String defaultTier,
        Map<String, String> tenantTiers,
        String publicTier,
        LimitScope scope,
        OnStoreError onStoreError,
        HeaderStyle headers) {

    /** The shape of today's files: policy-wide counts, degraded on store errors, both header sets. */
    public RateLimitPolicy(
            String by,
            Map<String, RateTier> tiers,
            String defaultTier,
            Map<String, String> tenantTiers,
            String publicTier) {
        this(
                by,
                tiers,
                defaultTier,
                tenantTiers,
                publicTier,
                LimitScope.POLICY,
                OnStoreError.DEGRADED,
                HeaderStyle.BOTH);
    }

    /** A tier: every limit must admit the request. */
    public record RateTier(String name, List<Limit> limits) {
        public RateTier {
            limits = List.copyOf(limits);
            if (limits.isEmpty()) {
                throw new IllegalArgumentException("tier " + name + " has no limit");
            }
        }

        /** Today's form: a bucket refilling {@code requestsPerSecond}, holding at most {@code burst}. */
        public static RateTier perSecond(String name, double requestsPerSecond, long burst) {
            return new RateTier(name, List.of(Limit.perSecond(requestsPerSecond, burst)));
        }
    }

    /**
     * One limit, enforced as GCRA (a token bucket written as a "theoretical arrival time", integer microseconds): one
     * request is earned every {@code per / requests}, and at most {@code burst} can be spent at once. In any stretch
     * of time {@code W} at most {@code burst + W × requests / per} requests pass — there is no window edge where two
     * windows' worth can pass back to back, as with fixed windows.
     *
     * @param requests requests earned per {@code per}
     * @param per the period
     * @param burst most requests spent at once (default {@code requests})
     */
    public record Limit(long requests, Duration per, long burst) {
        public Limit {
            if (requests < 1 || burst < 1 || per.toNanos() < 1000) {
                throw new IllegalArgumentException(
                        "a limit needs requests >= 1, burst >= 1 and a period of at least 1 µs");
            }
        }

        /**
         * A catalogue plan's rate limit as the limiter enforces it: its burst is its whole window, as customers read
         * "50 per second" (extauthz's plan limits and a plan change's replay both take it from here).
         */
        public static Limit ofPlan(io.meshguard.catalogmodel.Limit plan) {
            return new Limit(plan.requests(), plan.per(), plan.requests());
        }

        /** {@code requests_per_second} (may be fractional, e.g. 0.5) as a limit. */
        public static Limit perSecond(double requestsPerSecond, long burst) {
            if (requestsPerSecond == Math.rint(requestsPerSecond) && requestsPerSecond <= 1_000_000) {
                return new Limit((long) requestsPerSecond, Duration.ofSeconds(1), burst);
            }
            return new Limit(
                    1, Duration.ofNanos(Math.max(1000, Math.round(1e9 / requestsPerSecond / 1000) * 1000)), burst);
        }

        /** Microseconds between two earned requests (rounded up: never more permissive than written). */
        public long emissionMicros() {
            long perMicros = per.toNanos() / 1000;
            return Math.max(1, (perMicros + requests - 1) / requests);
        }

        /** The whole bucket in microseconds: {@code burst} emission intervals. */
        public long capacityMicros() {
            return Math.multiplyExact(emissionMicros(), burst);
        }

        /** The period in whole seconds, at least 1 (for the {@code w} parameter of {@code RateLimit-Policy}). */
        public long windowSeconds() {
            return Math.max(1, (per.toMillis() + 999) / 1000);
        }

        /** Stable text naming this limit in store keys and headers, e.g. {@code 50/1s/b50}. */
        public String label() {
            return requests + "/" + Durations.format(per) + "/b" + burst;
        }
    }

    /** Where one caller's count lives. */
    public enum LimitScope {
        /** One count per caller for all routes (the default). */
        POLICY("policy"),
        /** One count per caller and route. */
        ROUTE("route");

        private final String yaml;

        LimitScope(String yaml) {
            this.yaml = yaml;
        }

        public String yaml() {
            return yaml;
        }

        public static Optional<LimitScope> fromYaml(String v) {
            for (LimitScope s : values()) {
                if (s.yaml.equals(v)) {
                    return Optional.of(s);
                }
            }
            return Optional.empty();
        }
    }

    /** What a Check does while the shared store cannot answer. */
    public enum OnStoreError {
        /** Each replica enforces its share of the limit (limit / live replicas) locally. The default. */
        DEGRADED("degraded"),
        /** Refuse with 503 and {@code Retry-After} until the store answers again. */
        FAIL_CLOSED("fail_closed");

        private final String yaml;

        OnStoreError(String yaml) {
            this.yaml = yaml;
        }

        public String yaml() {
            return yaml;
        }

        public static Optional<OnStoreError> fromYaml(String v) {
            for (OnStoreError s : values()) {
                if (s.yaml.equals(v)) {
                    return Optional.of(s);
                }
            }
            return Optional.empty();
        }
    }

    /** Which rate-limit headers the client gets, on allowed and on denied responses. */
    public enum HeaderStyle {
        /** draft-ietf-httpapi-ratelimit-headers-09 {@code RateLimit-Policy} and {@code RateLimit}. */
        IETF("ietf"),
        /** The common {@code X-RateLimit-Limit}, {@code -Remaining}, {@code -Reset}. */
        X_RATELIMIT("x_ratelimit"),
        BOTH("both"),
        OFF("off");

        private final String yaml;

        HeaderStyle(String yaml) {
            this.yaml = yaml;
        }

        public String yaml() {
            return yaml;
        }

        public boolean ietf() {
            return this == IETF || this == BOTH;
        }

        public boolean xRateLimit() {
            return this == X_RATELIMIT || this == BOTH;
        }

        public static Optional<HeaderStyle> fromYaml(String v) {
            for (HeaderStyle s : values()) {
                if (s.yaml.equals(v)) {
                    return Optional.of(s);
                }
            }
            return Optional.empty();
        }
    }

    /** A route's own choices ({@code rate_limit: {scope: route, on_store_error: fail_closed}}); empty = the policy's. */
    public record RouteLimit(Optional<LimitScope> scope, Optional<OnStoreError> onStoreError) {
        public static final RouteLimit INHERIT = new RouteLimit(Optional.empty(), Optional.empty());
    }
}
