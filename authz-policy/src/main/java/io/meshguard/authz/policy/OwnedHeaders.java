package io.meshguard.authz.policy;

import java.util.LinkedHashSet;
import java.util.Set;

/**
 * The request headers meshguard's contract owns — identity headers, the tenant header, header-contract defaults,
 * credential headers — and the client headers that could make an upstream see another request than the one
 * decided on. Every owned header is set or removed by meshguard on every allowed request.
 *
 * <p>Also removed, because an upstream may read them as an owned header or as another method or URL:
 * <ul>
 *   <li>underscore spellings of owned names ({@code x_user_id}, {@code x-user_id}): CGI-style servers (PHP-FPM,
 *       Python WSGI, Ruby Rack, nginx {@code underscores_in_headers on}) map both {@code -} and {@code _} to
 *       {@code HTTP_X_USER_ID}, so the client's value can win over meshguard's. Envoy forwards them by default
 *       ({@code headers_with_underscores_action: ALLOW}, {@code api/envoy/config/core/v3/protocol.proto}); Istio
 *       sidecars keep that default;</li>
 *   <li>method and URL override headers ({@link #OVERRIDE_HEADERS}), unless a route passes them
 *       ({@code pass_headers}).</li>
 * </ul>
 */
public record OwnedHeaders(Set<String> owned) {
    // 'owned' keeps the policy's order, so headers_to_remove reads the same on every run
    /**
     * Headers frameworks honour as "the real method/URL": X-HTTP-Method-Override (Express {@code method-override},
     * Rack/Rails, Google APIs), X-HTTP-Method (OData, ASP.NET Web API), X-Method-Override (Express, Play),
     * X-Original-URL and X-Rewrite-URL (IIS URL Rewrite; Symfony honoured them until CVE-2018-14773),
     * X-Original-URI and X-Original-Method (nginx {@code auth_request} subrequests), X-Forwarded-Prefix (Spring's
     * {@code ForwardedHeaderFilter}, Spring Cloud Gateway: prefixes the path the application sees),
     * X-Forwarded-Uri and X-Forwarded-Method (Traefik ForwardAuth).
     */
    public static final Set<String> OVERRIDE_HEADERS = Set.of(
            "x-http-method-override",
            "x-http-method",
            "x-method-override",
            "x-original-url",
            "x-rewrite-url",
            "x-original-uri",
            "x-original-method",
            "x-forwarded-prefix",
            "x-forwarded-uri",
            "x-forwarded-method");

    public static OwnedHeaders of(AuthzPolicy policy) {
        Set<String> owned = new LinkedHashSet<>(policy.identityHeaders().all());
        owned.add(policy.headerContract().tenantHeader());
        owned.addAll(policy.headerContract().defaults().keySet());
        owned.addAll(policy.credentialHeaders());
        owned.add(policy.apiKeyHeader());
        // what the gateway tells the sidecar (client address, quotas charged, rule that rate-limited): only meshguard's
        // allow at the gateway may set them, or a forged one would let the sidecar skip its own charge or limit
        owned.addAll(io.meshguard.contract.OwnedHeaderNames.GATEWAY_HOP);
        // the tools a tools/list answer may name: the DLP server filters by it, so only extauthz's allow may set it
        owned.add(io.meshguard.contract.OwnedHeaderNames.MCP_TOOLS);
        return new OwnedHeaders(java.util.Collections.unmodifiableSet(owned));
    }

    /**
     * True when a client header of this (lowercase) name must not reach the upstream on a route passing
     * {@code passHeaders}; owned names themselves are handled by the caller (set or removed).
     */
    public boolean strip(String name, Set<String> passHeaders) {
        boolean underscored = name.indexOf('_') >= 0;
        String dashed = underscored ? name.replace('_', '-') : name;
        if (underscored && owned.contains(dashed)) {
            return true;
        }
        return OVERRIDE_HEADERS.contains(dashed) && !passHeaders.contains(dashed);
    }
}
