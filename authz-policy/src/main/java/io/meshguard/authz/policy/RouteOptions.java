package io.meshguard.authz.policy;

import java.util.Set;

/**
 * What a route opts into beyond the defaults, each off unless the policy says so.
 *
 * @param allowPathParameters {@code allow_path_parameters: true}: {@code ;matrix} parameters are accepted (and
 *     ignored for matching: the route matches the path without them, as a servlet container resolves it)
 * @param issuers {@code issuers: [...]}: names of the only issuers whose tokens this route accepts; empty = all
 * @param passHeaders {@code pass_headers: [...]}: method/URL override headers ({@link OwnedHeaders#OVERRIDE_HEADERS})
 *     the upstream may receive from the client on this route
 * @param rateLimit the route's own rate-limit scope and store-error choice ({@code rate_limit: {...}})
 * @param productsOnly {@code products_only: true}: the rule admits only gateway routes a product publish compiled
 *     (docs/products.md), so the API route products are made from admits nobody on the API's own hosts
 */
public record RouteOptions(
        boolean allowPathParameters,
        Set<String> issuers,
        Set<String> passHeaders,
        RateLimitPolicy.RouteLimit rateLimit,
        boolean productsOnly) {
    public static final RouteOptions DEFAULT =
            new RouteOptions(false, Set.of(), Set.of(), RateLimitPolicy.RouteLimit.INHERIT, false);

    public RouteOptions(
            boolean allowPathParameters, Set<String> issuers, Set<String> passHeaders, boolean productsOnly) {
        this(allowPathParameters, issuers, passHeaders, RateLimitPolicy.RouteLimit.INHERIT, productsOnly);
    }

    public RouteOptions withRateLimit(RateLimitPolicy.RouteLimit limit) {
        return new RouteOptions(allowPathParameters, issuers, passHeaders, limit, productsOnly);
    }
}
