package io.meshguard.emulator;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Envoy's CORS filter (source/extensions/filters/http/cors/cors_filter.cc): the {@code CorsPolicy} of the route and of
 * the virtual host from {@code typed_per_filter_config}, each field taken from the most specific policy that sets it;
 * no origin header → not CORS; an allowed origin is latched; a preflight (OPTIONS, origin, non-empty
 * {@code access-control-request-method}) is answered by the filter itself with 200 (allow-origin only when allowed,
 * credentials, methods, headers — "*" echoes the request's —, max-age), unless the origin is not allowed and
 * {@code forward_not_matching_preflights} (default true) lets it through; on the response of a CORS request with an
 * allowed origin it sets allow-origin, credentials and expose-headers.
 */
final class CorsFilter {
    private final List<CorsPolicy> policies;
    private String latchedOrigin = "";
    private boolean corsRequest;

    private CorsFilter(List<CorsPolicy> policies) {
        this.policies = policies;
    }

    /**
     * The filter's view for one request: the route's policy first, then the virtual host's. A direct-response or
     * redirect route has no route entry, and {@code CorsFilter::decodeHeaders} returns {@code Continue} at once for
     * it (cors_filter.cc: {@code routeEntry() == nullptr}); {@code encodeHeaders} then adds nothing either — "this
     * filter will be bypassed if the direct response or route redirect is configured for the route"
     * (docs/root/configuration/http/http_filters/cors_filter.rst, envoy#8262).
     */
    static CorsFilter forRoute(String filterName, Route route, VirtualHost vh) throws InvalidProtocolBufferException {
        List<CorsPolicy> policies = new ArrayList<>();
        if (route.hasDirectResponse() || route.hasRedirect()) {
            return new CorsFilter(policies);
        }
        for (Any any : new Any[] {
            route.getTypedPerFilterConfigMap().get(filterName),
            vh.getTypedPerFilterConfigMap().get(filterName)
        }) {
            if (any != null) {
                policies.add(any.unpack(CorsPolicy.class));
            }
        }
        return new CorsFilter(policies);
    }

    /** The preflight answer, when this request is one the filter answers itself. */
    Optional<Headers> decode(String method, Headers request, List<String> steps) {
        if (policies.isEmpty()) {
            return Optional.empty();
        }
        Optional<String> origin = request.first("origin").filter(o -> !o.isEmpty());
        if (origin.isEmpty()) {
            return Optional.empty();
        }
        boolean allowed = originAllowed(origin.get());
        if (allowed) {
            latchedOrigin = origin.get();
        }
        corsRequest = true;
        String requestMethod = request.first("access-control-request-method").orElse("");
        if (!method.equals("OPTIONS") || requestMethod.isEmpty()) {
            steps.add("cors: " + (allowed ? "allowed" : "not allowed") + " origin " + origin.get());
            return Optional.empty();
        }
        if (!allowed && forwardNotMatchingPreflights()) {
            steps.add("cors: preflight from a not allowed origin forwarded");
            return Optional.empty();
        }
        Headers response = new Headers();
        if (allowed) {
            response.set("access-control-allow-origin", origin.get());
        }
        if (allowCredentials()) {
            response.set("access-control-allow-credentials", "true");
        }
        String methods = first(CorsPolicy::getAllowMethods);
        if (!methods.isEmpty()) {
            response.set("access-control-allow-methods", methods.equals("*") ? requestMethod : methods);
        }
        String headers = first(CorsPolicy::getAllowHeaders);
        if (!headers.isEmpty()) {
            response.set(
                    "access-control-allow-headers",
                    headers.equals("*")
                            ? request.first("access-control-request-headers").orElse("")
                            : headers);
        }
        String maxAge = first(CorsPolicy::getMaxAge);
        if (!maxAge.isEmpty()) {
            response.set("access-control-max-age", maxAge);
        }
        steps.add("cors: preflight answered by the CORS filter (" + (allowed ? "origin allowed" : "origin not allowed")
                + ")");
        return Optional.of(response);
    }

    /** Response headers of a CORS request with an allowed origin. */
    void encode(Headers response) {
        if (!corsRequest || latchedOrigin.isEmpty()) {
            return;
        }
        response.set("access-control-allow-origin", latchedOrigin);
        if (allowCredentials()) {
            response.set("access-control-allow-credentials", "true");
        }
        String expose = first(CorsPolicy::getExposeHeaders);
        if (!expose.isEmpty()) {
            response.set("access-control-expose-headers", expose);
        }
    }

    private boolean originAllowed(String origin) {
        for (CorsPolicy p : policies) {
            if (p.getAllowOriginStringMatchCount() > 0) {
                for (StringMatcher m : p.getAllowOriginStringMatchList()) {
                    if (RouteTable.stringMatch(m, "*") || RouteTable.stringMatch(m, origin)) {
                        return true;
                    }
                }
                return false;
            }
        }
        return false;
    }

    private boolean forwardNotMatchingPreflights() {
        return policies.stream()
                .filter(CorsPolicy::hasForwardNotMatchingPreflights)
                .findFirst()
                .map(p -> p.getForwardNotMatchingPreflights().getValue())
                .orElse(true);
    }

    private boolean allowCredentials() {
        return policies.stream()
                .filter(CorsPolicy::hasAllowCredentials)
                .findFirst()
                .map(p -> p.getAllowCredentials().getValue())
                .orElse(false);
    }

    private String first(java.util.function.Function<CorsPolicy, String> field) {
        return policies.stream()
                .map(field)
                .filter(s -> !s.isEmpty())
                .findFirst()
                .orElse("");
    }
}
