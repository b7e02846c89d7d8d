package io.meshguard.authz.policy;

import java.time.ZoneId;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One calendar quota of the {@code quotas:} block: how many requests a caller may make per local day or month, by
 * tier. Counted once per allowed Check, beside the rate limit (policies/README.md §quotas).
 *
 * @param name stable name: the counters in PostgreSQL and Redis are keyed by it (a rename starts fresh counters)
 * @param per whose requests count together
 * @param period the calendar period, reset at local midnight or on the 1st in {@code zone}
 * @param zone the time zone whose calendar the period follows (DST-safe: a local day may last 23 or 25 hours)
 * @param limits tier name to the requests allowed per period; {@link #UNLIMITED} for {@code unlimited}
 * @param defaultTier tier of callers whose own tier has no entry in {@code limits}
 * @param onExceed what a request past the limit gets
 * @param alerts percentages of the limit at which an alert fires once per caller and period, ascending
 * @param routes names of the routes this quota counts; empty: every route with an authenticated caller
 * @param line where the quota starts in the policy file
 */
public record QuotaPolicy(
        String name,
        Per per,
        Period period,
        ZoneId zone,
        Map<String, Long> limits,
        String defaultTier,
        OnExceed onExceed,
        List<Integer> alerts,
        Set<String> routes,
        int line) {

    /** The limit of a tier written {@code unlimited}. */
    public static final long UNLIMITED = Long.MAX_VALUE;

    /** Whose requests share one counter. */
    public enum Per {
        /** Per API key; token callers (no key) count per subject. */
        API_KEY("api_key"),
        /** Per tenant; callers without a tenant count per subject. */
        TENANT("tenant"),
        /** Per issuer and subject. */
        SUBJECT("subject");

        private final String yaml;

        Per(String yaml) {
            this.yaml = yaml;
        }

        public String yaml() {
            return yaml;
        }
    }

    /** A calendar period in the quota's zone. */
    public enum Period {
        DAY("day"),
        MONTH("month");

        private final String yaml;

        Period(String yaml) {
            this.yaml = yaml;
        }

        public String yaml() {
            return yaml;
        }
    }

    /** What a request past the limit gets. */
    public enum OnExceed {
        /** 429 with Retry-After until the reset. */
        BLOCK("block"),
        /** Allowed, flagged for the upstream (header) and the audit log. */
        ALLOW_AND_FLAG("allow_and_flag");

        private final String yaml;

        OnExceed(String yaml) {
            this.yaml = yaml;
        }

        public String yaml() {
            return yaml;
        }
    }

    /** The limit of a tier, falling back to the default tier's. */
    public long limitFor(String tier) {
        Long l = limits.get(tier);
        return l != null ? l : limits.get(defaultTier);
    }

    /**
     * Whether one more request is refused when {@code used} were counted this period against {@code limit}: only a
     * blocking quota refuses, and only past its limit (the counter's rule, and a plan change's replay's).
     */
    public boolean refusesOneMore(long used, long limit) {
        return onExceed == OnExceed.BLOCK && used + 1 > limit;
    }

    /** Whether this quota counts requests of the route. */
    public boolean covers(String route) {
        return routes.isEmpty() || routes.contains(route);
    }
}
