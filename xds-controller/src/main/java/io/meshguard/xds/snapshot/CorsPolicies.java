package io.meshguard.xds.snapshot;

import com.google.protobuf.Any;
import com.google.protobuf.BoolValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExtProcPerRoute;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatcher;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.meshguard.envoy.validation.HeaderFormat;
import io.meshguard.xds.model.Api;
import io.meshguard.xds.model.Cors;
import io.meshguard.xds.model.GatewayGroup;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A gateway group's CORS policies as Envoy sees them: {@code envoy.extensions.filters.http.cors.v3.CorsPolicy} in
 * {@code typed_per_filter_config} of the virtual host (the group's policy) and of each route of an API with its own
 * (the route-level {@code cors} fields are deprecated, {@code api/envoy/config/route/v3/route_components.proto}).
 * Envoy's CORS filter takes each field from the most specific policy that sets it ({@code cors_filter.cc}); every
 * policy emitted here sets every field, so an API's policy replaces the group's whole.
 *
 * <p>Each API with a policy also gets a preflight route at the top of its virtual host (OPTIONS with
 * {@code origin} and {@code access-control-request-method}): the CORS filter answers it before ext_authz, whatever
 * methods the API's own routes match — otherwise a preflight for a POST-only route would match no route and get 404.
 * It must be a normal route: Envoy's CORS filter returns {@code Continue} at once for a route without a route entry
 * ({@code CorsFilter::decodeHeaders}, envoyproxy/envoy {@code source/extensions/filters/http/cors/cors_filter.cc}),
 * and direct-response and redirect routes have none ({@code source/common/router/config_impl.cc}; "this filter will
 * be bypassed if the direct response or route redirect is configured for the route",
 * {@code docs/root/configuration/http/http_filters/cors_filter.rst}). So it routes to the endpoint-less
 * {@code meshguard-closed} cluster with ext_authz and ext_proc disabled: the CORS filter answers it (its
 * {@code forward_not_matching_preflights} is false), and were the filter missing the router would answer 503
 * "no healthy upstream" — never an upstream, never a Check.
 *
 * <p>Closed versions (410/404) are direct responses, which the CORS filter skips the same way: each gets one copy
 * per allowed origin, matched on {@code origin} the way the policy matches it, and carrying the CORS response
 * headers the filter would have set, so a browser script can read the sunset answer. An exact origin is written
 * literally; a suffix pattern writes the request's own (matched) origin back with the custom-header operator
 * {@code %REQ(origin)%} (docs/root/configuration/http/http_conn_man/headers.rst); {@code *} without credentials is
 * {@code *}.
 */
final class CorsPolicies {
    static final CorsPolicies NONE = new CorsPolicies();

    private final GatewayGroup group;
    private final Optional<Any> groupPolicy;
    private final Map<String, Any> apiPolicies = new HashMap<>();

    private CorsPolicies() {
        this.group = null;
        this.groupPolicy = Optional.empty();
    }

    CorsPolicies(GatewayGroup group) {
        this.group = group;
        this.groupPolicy = group.cors().map(c -> Any.pack(policy(c)));
        group.apiCors().forEach((api, c) -> apiPolicies.put(api, Any.pack(policy(c))));
    }

    /** The group's policy, for each of its virtual hosts. */
    Optional<Any> virtualHostPolicy() {
        return groupPolicy;
    }

    /** The preflight route of an API that has a policy (its own or the group's). */
    Optional<Route> preflightRoute(Api api) {
        if (group == null || group.corsFor(api.name()).isEmpty()) {
            return Optional.empty();
        }
        Route.Builder r = Route.newBuilder()
                .setName(api.name() + ".cors-preflight")
                .setMatch(RouteTranslator.pathPrefix(RouteMatch.newBuilder(), api.basePath())
                        .addHeaders(HeaderMatcher.newBuilder()
                                .setName(":method")
                                .setStringMatch(StringMatcher.newBuilder().setExact("OPTIONS")))
                        .addHeaders(HeaderMatcher.newBuilder().setName("origin").setPresentMatch(true))
                        .addHeaders(HeaderMatcher.newBuilder()
                                .setName("access-control-request-method")
                                .setPresentMatch(true)))
                .setRoute(RouteAction.newBuilder().setCluster(EnvoyNames.CLOSED_CLUSTER))
                .putTypedPerFilterConfig(
                        EnvoyNames.EXT_AUTHZ_FILTER,
                        Any.pack(ExtAuthzPerRoute.newBuilder().setDisabled(true).build()))
                .putTypedPerFilterConfig(
                        EnvoyNames.EXT_PROC_FILTER,
                        Any.pack(ExtProcPerRoute.newBuilder().setDisabled(true).build()));
        Any own = apiPolicies.get(api.name());
        if (own != null) {
            r.putTypedPerFilterConfig(EnvoyNames.CORS_FILTER, own);
        }
        return Optional.of(r.build());
    }

    /**
     * The API's routes with its own policy attached and {@code vary: origin} appended to their responses: Envoy
     * reflects the request's origin in {@code access-control-allow-origin}, so a shared cache must key on it.
     */
    List<Route> decorate(Api api, List<Route> routes) {
        if (group == null || group.corsFor(api.name()).isEmpty()) {
            return routes;
        }
        Any own = apiPolicies.get(api.name());
        Cors policy = group.corsFor(api.name()).orElseThrow();
        List<Route> out = new ArrayList<>(routes.size());
        for (Route r : routes) {
            if (r.hasDirectResponse()) {
                out.addAll(closedForOrigins(r, policy));
                out.add(r.toBuilder().addResponseHeadersToAdd(VARY_ORIGIN).build());
                continue;
            }
            Route.Builder b = r.toBuilder().addResponseHeadersToAdd(VARY_ORIGIN);
            if (own != null) {
                b.putTypedPerFilterConfig(EnvoyNames.CORS_FILTER, own);
            }
            out.add(b.build());
        }
        return out;
    }

    /**
     * One copy of a direct-response route per origin whose CORS headers can be written literally: the route's match
     * plus {@code origin} equal to it, and the headers the CORS filter would have set on a normal route
     * ({@code CorsFilter::encodeHeaders}: allow-origin, credentials, expose-headers).
     */
    private static List<Route> closedForOrigins(Route closed, Cors policy) {
        List<Route> out = new ArrayList<>();
        int n = 0;
        for (String origin : policy.allowedOrigins()) {
            if (origin.equals(Cors.ANY_ORIGIN) && policy.allowCredentials()) {
                continue; // refused by the validator (CorsRules); a browser would refuse '*' with credentials anyway
            }
            boolean suffix = Cors.isSuffixPattern(origin);
            Route.Builder b = closed.toBuilder()
                    .setName(closed.getName() + ".cors-" + n++)
                    .setMatch(closed.getMatch().toBuilder()
                            .addHeaders(
                                    origin.equals(Cors.ANY_ORIGIN)
                                            ? HeaderMatcher.newBuilder()
                                                    .setName("origin")
                                                    .setPresentMatch(true)
                                            : HeaderMatcher.newBuilder()
                                                    .setName("origin")
                                                    .setStringMatch(originMatcher(origin))))
                    // the request's origin only after it matched the pattern: never an arbitrary value
                    .addResponseHeadersToAdd(
                            suffix
                                    ? formatted("access-control-allow-origin", "%REQ(origin)%")
                                    : set("access-control-allow-origin", origin));
            if (policy.allowCredentials()) {
                b.addResponseHeadersToAdd(set("access-control-allow-credentials", "true"));
            }
            if (!policy.exposedHeaders().isEmpty()) {
                b.addResponseHeadersToAdd(
                        set("access-control-expose-headers", String.join(",", policy.exposedHeaders())));
            }
            out.add(b.addResponseHeadersToAdd(VARY_ORIGIN).build());
        }
        return out;
    }

    /** A header set to the literal {@code value} ({@code %} written {@code %%}: Envoy parses values as formats). */
    private static HeaderValueOption set(String name, String value) {
        return formatted(name, HeaderFormat.literal(value));
    }

    /** A header set to an Envoy format string: only the controller's own commands ({@code %REQ(origin)%}). */
    private static HeaderValueOption formatted(String name, String format) {
        return HeaderValueOption.newBuilder()
                .setHeader(HeaderValue.newBuilder().setKey(name).setValue(format))
                .setAppendAction(HeaderValueOption.HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD)
                .build();
    }

    private static final HeaderValueOption VARY_ORIGIN = HeaderValueOption.newBuilder()
            .setHeader(HeaderValue.newBuilder().setKey("vary").setValue("origin"))
            .setAppendAction(HeaderValueOption.HeaderAppendAction.APPEND_IF_EXISTS_OR_ADD)
            .build();

    static CorsPolicy policy(Cors c) {
        CorsPolicy.Builder p = CorsPolicy.newBuilder()
                .setAllowMethods(String.join(",", c.allowedMethods()))
                .setAllowHeaders(String.join(",", c.allowedHeaders()))
                .setExposeHeaders(String.join(",", c.exposedHeaders()))
                .setMaxAge(Long.toString(c.maxAge()))
                .setAllowCredentials(BoolValue.of(c.allowCredentials()))
                // A preflight from an origin not allowed is answered here too (200 without allow-origin, which the
                // browser refuses), never forwarded to ext_authz and the upstream (the default is to forward it).
                .setForwardNotMatchingPreflights(BoolValue.of(false));
        for (String origin : c.allowedOrigins()) {
            p.addAllowOriginStringMatch(originMatcher(origin));
        }
        return p.build();
    }

    /**
     * Exact origins match exactly (Envoy compares the whole {@code origin} header). A suffix pattern
     * {@code https://*.bank.example} becomes an anchored RE2 regex: that scheme, one or more DNS labels, the domain,
     * no port — a plain {@code suffix} matcher would also accept {@code http://} and any scheme.
     */
    static StringMatcher originMatcher(String origin) {
        if (origin.equals(Cors.ANY_ORIGIN)) {
            return StringMatcher.newBuilder()
                    .setSafeRegex(RegexMatcher.newBuilder().setRegex(".*"))
                    .build();
        }
        if (Cors.isSuffixPattern(origin)) {
            return StringMatcher.newBuilder()
                    .setSafeRegex(RegexMatcher.newBuilder().setRegex(Cors.suffixOriginRegex(origin)))
                    .build();
        }
        return StringMatcher.newBuilder().setExact(origin).build();
    }
}
