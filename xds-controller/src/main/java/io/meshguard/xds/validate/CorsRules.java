package io.meshguard.xds.validate;

import io.meshguard.envoy.validation.EnvoyRegexBudget;
import io.meshguard.xds.model.Cors;
import io.meshguard.xds.model.GatewayGroup;
import io.meshguard.xds.model.Upstream;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * What a CORS policy may allow. Envoy's CORS filter reflects the request's origin in
 * {@code access-control-allow-origin} for any origin a matcher accepts, and adds {@code allow-credentials: true}
 * when set ({@code source/extensions/filters/http/cors/cors_filter.cc}): a {@code *} with credentials would let
 * every web site make credentialed calls, so it is refused everywhere. Production groups take exact {@code https}
 * origins only; other environments may use {@code *} (without credentials) and explicit suffix patterns.
 */
final class CorsRules {
    private CorsRules() {}

    private static final java.util.regex.Pattern DNS_NAME =
            java.util.regex.Pattern.compile("[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*");
    private static final java.util.regex.Pattern TOKEN = java.util.regex.Pattern.compile("[a-z0-9!#$%&'*+.^_`|~-]+");
    private static final Set<String> METHODS =
            Set.of("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT");

    static void check(List<Problem> problems, String path, GatewayGroup group, Cors c) {
        boolean prod = group.production();
        if (c.allowedOrigins().isEmpty()) {
            problems.add(Problem.error(
                    ProblemCode.CORS_NO_ORIGINS,
                    path + ".allowed_origins",
                    "at least one origin is required (leave cors out for no cross-origin access)"));
        }
        for (String origin : c.allowedOrigins()) {
            origin(problems, path + ".allowed_origins", origin, prod, c);
        }
        if (c.allowedOrigins().contains(Cors.ANY_ORIGIN) && c.allowedOrigins().size() > 1) {
            problems.add(Problem.error(
                    ProblemCode.CORS_WILDCARD_AND_ORIGINS,
                    path + ".allowed_origins",
                    "'*' already allows every origin; list either '*' " + "or origins"));
        }
        for (String m : c.allowedMethods()) {
            if (!METHODS.contains(m)) {
                problems.add(Problem.error(
                        ProblemCode.CORS_METHOD_UNKNOWN,
                        path + ".allowed_methods",
                        "unknown HTTP method '" + m + "' (upper case, e.g. GET)"));
            }
        }
        headers(problems, path + ".allowed_headers", c.allowedHeaders());
        headers(problems, path + ".exposed_headers", c.exposedHeaders());
        if (c.maxAge() < 0 || c.maxAge() > Cors.MAX_MAX_AGE_SECONDS) {
            problems.add(Problem.error(
                    ProblemCode.CORS_MAX_AGE,
                    path + ".max_age_seconds",
                    "must be 0.." + Cors.MAX_MAX_AGE_SECONDS + ", got " + c.maxAge()));
        }
    }

    private static void origin(List<Problem> problems, String path, String origin, boolean prod, Cors c) {
        if (origin.equals(Cors.ANY_ORIGIN)) {
            if (c.allowCredentials()) {
                problems.add(Problem.error(
                        ProblemCode.CORS_WILDCARD_CREDENTIALS,
                        path,
                        "'*' with allow_credentials: Envoy reflects the caller's origin, so "
                                + "every web site could make credentialed calls; list the origins"));
            } else if (prod) {
                problems.add(Problem.error(
                        ProblemCode.CORS_WILDCARD_PRODUCTION,
                        path,
                        "'*' is refused in a production group: list the exact origins"));
            } else {
                problems.add(Problem.warning(
                        ProblemCode.CORS_WILDCARD, path, "'*': any web site may call these APIs from a browser"));
            }
            return;
        }
        if (origin.equals("null")) {
            problems.add(Problem.error(
                    ProblemCode.CORS_NULL_ORIGIN,
                    path,
                    "'null' is the origin of sandboxed frames and local files, which any "
                            + "page can produce; it is never an allowed origin"));
            return;
        }
        boolean suffix = Cors.isSuffixPattern(origin);
        String concrete = suffix ? origin.replaceFirst("://\\*\\.", "://") : origin;
        URI uri;
        try {
            uri = new URI(concrete);
        } catch (URISyntaxException e) {
            problems.add(Problem.error(
                    ProblemCode.CORS_NOT_AN_ORIGIN, path, "'" + origin + "' is not an origin: " + e.getReason()));
            return;
        }
        String scheme = uri.getScheme();
        String host = uri.getHost() == null ? "" : uri.getHost();
        boolean shaped = scheme != null
                && (scheme.equals("https") || scheme.equals("http"))
                && uri.getRawUserInfo() == null
                && uri.getRawPath() != null
                && uri.getRawPath().isEmpty()
                && uri.getRawQuery() == null
                && uri.getRawFragment() == null
                && concrete.equals(concrete.toLowerCase(Locale.ROOT))
                && (DNS_NAME.matcher(host).matches() || Upstream.isIpLiteral(host.replaceAll("^\\[|\\]$", "")))
                && (uri.getPort() == -1 || (uri.getPort() >= 1 && uri.getPort() <= 65535 && !suffix));
        if (!shaped) {
            problems.add(Problem.error(
                    ProblemCode.CORS_NOT_AN_ORIGIN,
                    path,
                    "'" + origin + "' is not an origin: lowercase scheme://host[:port] with "
                            + "http or https, nothing after the host (no path, no trailing '/'); a suffix pattern is "
                            + "scheme://*.domain"));
            return;
        }
        if (suffix && EnvoyRegexBudget.tooLarge(Cors.suffixOriginRegex(origin))) {
            problems.add(Problem.error(
                    ProblemCode.CORS_SUFFIX_TOO_LARGE,
                    path,
                    "'" + origin + "': " + EnvoyRegexBudget.tooLargeMessage(Cors.suffixOriginRegex(origin))));
        }
        if (suffix) {
            if (prod) {
                problems.add(Problem.error(
                        ProblemCode.CORS_SUFFIX_PRODUCTION,
                        path,
                        "'" + origin + "': a production group takes exact origins only"));
            } else if (!host.contains(".")) {
                problems.add(Problem.error(
                        ProblemCode.CORS_SUFFIX_TOP_LEVEL,
                        path,
                        "'" + origin + "': a suffix pattern needs a domain of two labels "
                                + "at least (not a top-level domain)"));
            }
        }
        if (prod && scheme.equals("http")) {
            problems.add(Problem.error(
                    ProblemCode.CORS_HTTP_PRODUCTION,
                    path,
                    "'" + origin + "': a production group takes https origins only (a page "
                            + "served over http can be altered in transit)"));
        }
    }

    private static void headers(List<Problem> problems, String path, List<String> headers) {
        for (String h : headers) {
            if (h.equals("*")) {
                problems.add(
                        Problem.error(ProblemCode.CORS_HEADER_WILDCARD, path, "'*' is refused: list the header names"));
            } else if (!TOKEN.matcher(h).matches()) {
                problems.add(Problem.error(
                        ProblemCode.CORS_HEADER_NAME, path, "header names are lowercase tokens, got '" + h + "'"));
            }
        }
    }
}
