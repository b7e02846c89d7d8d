package io.meshguard.xds.model;

import java.util.List;
import java.util.Optional;

/**
 * Which browser origins may call a gateway group's APIs cross-origin, and with what. The gateway's CORS filter answers
 * preflights itself, before ext_authz (a preflight carries no credential), and adds the response headers to allowed
 * origins' requests.
 *
 * @param allowedOrigins exact origins ({@code https://app.bank.example}, scheme and host, a port when not the
 *     default) or explicit suffix patterns ({@code https://*.dev.bank.example}: any subdomain, that scheme); {@code *}
 *     only outside production and never with credentials
 * @param allowedMethods methods a preflight may ask for; empty means {@link #DEFAULT_METHODS}
 * @param allowedHeaders request headers a preflight may ask for; empty means {@link #DEFAULT_ALLOWED_HEADERS}
 * @param exposedHeaders response headers a script may read; empty means {@link #DEFAULT_EXPOSED_HEADERS}
 * @param allowCredentials whether cookies and client certificates may be sent ({@code Access-Control-Allow-Credentials});
 *     a bearer token in {@code Authorization} needs no credentials mode, only the allowed header
 * @param maxAgeSeconds how long a browser may cache a preflight answer; empty means {@link #DEFAULT_MAX_AGE_SECONDS}
 */
public record Cors(
        List<String> allowedOrigins,
        List<String> allowedMethods,
        List<String> allowedHeaders,
        List<String> exposedHeaders,
        boolean allowCredentials,
        Optional<Long> maxAgeSeconds) {

    public static final List<String> DEFAULT_METHODS = List.of("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE");
    /** What meshguard's contract and streaming clients send: the token, the tenant, SSE resumption, the agent. */
    public static final List<String> DEFAULT_ALLOWED_HEADERS =
            List.of("authorization", "content-type", "last-event-id", "x-agent-id", "x-request-id", "x-tenant-id");
    /** The request id and the API lifecycle headers (RFC 9745 Deprecation, RFC 8594 Sunset, successor Link). */
    public static final List<String> DEFAULT_EXPOSED_HEADERS = List.of("deprecation", "link", "sunset", "x-request-id");

    public static final long DEFAULT_MAX_AGE_SECONDS = 600;
    /** Browsers cap it anyway (Chromium at 2 h, Firefox at 24 h). */
    public static final long MAX_MAX_AGE_SECONDS = 86_400;

    public static final String ANY_ORIGIN = "*";

    public Cors {
        allowedOrigins = allowedOrigins == null ? List.of() : List.copyOf(allowedOrigins);
        allowedMethods =
                allowedMethods == null || allowedMethods.isEmpty() ? DEFAULT_METHODS : List.copyOf(allowedMethods);
        allowedHeaders = allowedHeaders == null || allowedHeaders.isEmpty()
                ? DEFAULT_ALLOWED_HEADERS
                : List.copyOf(allowedHeaders);
        exposedHeaders = exposedHeaders == null || exposedHeaders.isEmpty()
                ? DEFAULT_EXPOSED_HEADERS
                : List.copyOf(exposedHeaders);
        maxAgeSeconds = maxAgeSeconds == null ? Optional.empty() : maxAgeSeconds;
    }

    /** The cache lifetime of a preflight answer, defaulted. */
    public long maxAge() {
        return maxAgeSeconds.orElse(DEFAULT_MAX_AGE_SECONDS);
    }

    /** Whether {@code origin} is a suffix pattern: {@code scheme://*.} followed by a domain. */
    public static boolean isSuffixPattern(String origin) {
        int scheme = origin.indexOf("://");
        return scheme > 0 && origin.startsWith("*.", scheme + 3);
    }

    /**
     * The anchored RE2 regex of a suffix pattern {@code https://*.bank.example}: that scheme, one or more DNS labels,
     * the domain, no port — a plain {@code suffix} matcher would also accept {@code http://} and any scheme.
     */
    public static String suffixOriginRegex(String origin) {
        int scheme = origin.indexOf("://");
        String domain = origin.substring(scheme + 5);
        return com.google.re2j.Pattern.quote(origin.substring(0, scheme + 3)) + "([a-z0-9]([a-z0-9-]*[a-z0-9])?\\.)+"
                + com.google.re2j.Pattern.quote(domain);
    }
}
