package io.meshguard.authz.ratelimit;

import io.meshguard.authz.policy.Durations;
import io.meshguard.authz.policy.RateLimitPolicy.HeaderStyle;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The rate-limit response headers, on allowed and on denied responses.
 * <ul>
 *   <li>draft-ietf-httpapi-ratelimit-headers-09: {@code RateLimit-Policy} (one item per limit: a quoted name,
 *       {@code q} = requests per window, {@code w} = window in seconds) and {@code RateLimit} (same names,
 *       {@code r} = requests that still fit now, {@code t} = seconds until the bucket is full again), both
 *       structured-field lists;</li>
 *   <li>the common {@code X-RateLimit-Limit}, {@code -Remaining}, {@code -Reset} (seconds), taken from the limit
 *       closest to refusing — what Envoy's own {@code enable_x_ratelimit_headers} does for several descriptors
 *       ({@code api/envoy/extensions/filters/http/ratelimit/v3/rate_limit.proto}).</li>
 * </ul>
 * Names are lowercase: HTTP/2 requires it, and grpc-java's ext_authz client refuses a response with an uppercase
 * header name.
 */
public final class RateLimitHeaders {
    private RateLimitHeaders() {}

    public static Map<String, String> of(HeaderStyle style, String tier, Verdict v) {
        Map<String, String> out = new LinkedHashMap<>();
        if (style == HeaderStyle.OFF || v.states().isEmpty()) {
            return out;
        }
        if (style.ietf()) {
            StringBuilder policy = new StringBuilder();
            StringBuilder current = new StringBuilder();
            String base = token(tier);
            for (Verdict.LimitState s : v.states()) {
                String name = '"' + base + '-' + Durations.format(s.limit().per()) + '"';
                if (!policy.isEmpty()) {
                    policy.append(", ");
                    current.append(", ");
                }
                policy.append(name)
                        .append(";q=")
                        .append(s.limit().requests())
                        .append(";w=")
                        .append(s.limit().windowSeconds());
                current.append(name)
                        .append(";r=")
                        .append(shown(s))
                        .append(";t=")
                        .append(seconds(s.resetMicros()));
            }
            out.put("ratelimit-policy", policy.toString());
            out.put("ratelimit", current.toString());
        }
        if (style.xRateLimit()) {
            Verdict.LimitState tight = v.tightest();
            out.put("x-ratelimit-limit", Long.toString(tight.limit().requests()));
            out.put("x-ratelimit-remaining", Long.toString(shown(tight)));
            out.put("x-ratelimit-reset", Long.toString(seconds(tight.resetMicros())));
        }
        return out;
    }

    /**
     * The remaining requests as the headers state them: never more than the limit they are stated against. A bucket
     * whose {@code burst} exceeds its {@code requests} may hold more (up to the burst); a client that spends no more
     * than the headers say still never exceeds its limit, and "remaining 150 of 100" reads as a bug.
     */
    static long shown(Verdict.LimitState s) {
        return Math.min(s.remaining(), s.limit().requests());
    }

    /** Whole seconds, rounded up (a client that waits this long is never early). */
    public static long seconds(long micros) {
        return Math.max(0, (micros + 999_999) / 1_000_000);
    }

    /** A tier name inside a structured-field string: letters, digits, {@code _ . -} kept, anything else {@code _}. */
    private static String token(String tier) {
        StringBuilder sb = new StringBuilder(tier.length());
        for (int i = 0; i < tier.length() && i < 64; i++) {
            char c = tier.charAt(i);
            sb.append(
                    (c >= 'a' && c <= 'z')
                                    || (c >= 'A' && c <= 'Z')
                                    || (c >= '0' && c <= '9')
                                    || c == '_'
                                    || c == '.'
                                    || c == '-'
                            ? c
                            : '_');
        }
        return sb.toString();
    }
}
