package io.meshguard.authz.policy;

import java.util.Optional;
import java.util.Set;

/**
 * One route rule. The first rule whose match fits decides; a request no rule matches is denied.
 *
 * @param headerContractExempt public routes (login, health) may skip the header contract
 * @param rateLimited false turns rate limiting off for this route
 * @param options path parameters, issuer pinning, headers passed through
 * @param access mesh peer rules, conditions and the gateway-hop requirement ({@link RouteAccess})
 */
public record RoutePolicy(
        String name,
        RouteMatch match,
        AuthMode auth,
        RoleRequirement roles,
        Set<String> scopes,
        boolean headerContractExempt,
        boolean rateLimited,
        Optional<UpstreamCredential> upstreamCredential,
        int line,
        RouteOptions options,
        RouteAccess access) {
    /** A route with the default options and no mesh rules. */
    public RoutePolicy(
            String name,
            RouteMatch match,
            AuthMode auth,
            RoleRequirement roles,
            Set<String> scopes,
            boolean headerContractExempt,
            boolean rateLimited,
            Optional<UpstreamCredential> upstreamCredential,
            int line) {
        this(
                name,
                match,
                auth,
                roles,
                scopes,
                headerContractExempt,
                rateLimited,
                upstreamCredential,
                line,
                RouteOptions.DEFAULT,
                RouteAccess.OPEN);
    }
}
