package io.meshguard.authz.policy;

import java.util.List;
import java.util.Optional;

/**
 * The parsed, validated {@code authz.yaml}: immutable; a reload builds a new one and swaps it in whole.
 *
 * @param credentialHeaders request headers removed before the upstream (the caller's credentials)
 * @param apiKeyHeader where API keys are sent
 * @param tokenMaxBytes longer bearer tokens are rejected before parsing
 * @param denyRules checked before any route, in order ({@code deny:})
 * @param mesh trusted gateways and proxy hops ({@code mesh:})
 * @param quotas calendar quotas ({@code quotas:}), each counted once per allowed Check
 */
public record AuthzPolicy(
        String source,
        List<IssuerPolicy> issuers,
        List<RoutePolicy> routes,
        HeaderContract headerContract,
        IdentityHeaders identityHeaders,
        List<String> credentialHeaders,
        String apiKeyHeader,
        int tokenMaxBytes,
        Optional<RateLimitPolicy> rateLimits,
        List<DenyRule> denyRules,
        MeshSettings mesh,
        List<QuotaPolicy> quotas) {

    /** A policy without quotas. */
    public AuthzPolicy(
            String source,
            List<IssuerPolicy> issuers,
            List<RoutePolicy> routes,
            HeaderContract headerContract,
            IdentityHeaders identityHeaders,
            List<String> credentialHeaders,
            String apiKeyHeader,
            int tokenMaxBytes,
            Optional<RateLimitPolicy> rateLimits,
            List<DenyRule> denyRules,
            MeshSettings mesh) {
        this(
                source,
                issuers,
                routes,
                headerContract,
                identityHeaders,
                credentialHeaders,
                apiKeyHeader,
                tokenMaxBytes,
                rateLimits,
                denyRules,
                mesh,
                List.of());
    }

    public Optional<IssuerPolicy> issuerFor(String iss) {
        return issuers.stream().filter(i -> i.issuer().equals(iss)).findFirst();
    }

    public Optional<IssuerPolicy> issuerNamed(String name) {
        return issuers.stream().filter(i -> i.name().equals(name)).findFirst();
    }

    public Optional<RoutePolicy> routeNamed(String name) {
        return routes.stream().filter(r -> r.name().equals(name)).findFirst();
    }
}
