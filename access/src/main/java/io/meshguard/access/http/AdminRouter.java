package io.meshguard.access.http;

import com.sun.net.httpserver.HttpExchange;
import io.meshguard.access.AdminCaller;
import io.meshguard.access.AdminGate;
import io.meshguard.access.AdminRoute;
import io.meshguard.db.TenantScope;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;

/**
 * How every admin endpoint (the xDS admin API, the audit, catalogue and zone routes, extauthz's {@code /quotas} and
 * {@code /apikeys}) turns an HTTP request into an admitted call: the route its method and path name, and the
 * caller's credential checked by the {@link AdminGate} against that route's permission and scope. Nothing is
 * answered here: the {@link RequestLoop} answers, as JSON for the APIs and as pages for the console.
 */
public final class AdminRouter {
    /** What {@link #admit} found. */
    public sealed interface Outcome permits Admitted, Refused, Unrouted {}

    /** The caller may run {@code route}; {@code admission} says who it is and which grant allowed it. */
    public record Admitted(AdminRoute route, AdminGate.Admitted admission) implements Outcome {
        public AdminCaller caller() {
            return admission.caller();
        }
    }

    /** Refused with {@code status} (401, 403, 503); a 401's {@code WWW-Authenticate} is already on the exchange. */
    public record Refused(int status, String message) implements Outcome {}

    /** An authenticated caller asked for an operation no route serves (the endpoint says 404 or 405). */
    public record Unrouted() implements Outcome {}

    private static final int MAX_REQUEST_ID = 128;

    private final List<AdminRoute> routes;
    private final AdminGate gate;

    public AdminRouter(List<AdminRoute> routes, AdminGate gate) {
        this.routes = List.copyOf(routes);
        this.gate = gate;
    }

    /**
     * The request id of an admin call: the caller's {@code x-request-id} when it is short printable ASCII (it goes into
     * logs and the admin trail), a fresh one otherwise; echoed on the answer.
     */
    public static String requestId(HttpExchange exchange) {
        String id = Optional.ofNullable(exchange.getRequestHeaders().getFirst("x-request-id"))
                .filter(s -> !s.isEmpty()
                        && s.length() <= MAX_REQUEST_ID
                        && s.chars().allMatch(c -> c > 0x20 && c < 0x7f))
                .orElseGet(() -> UUID.randomUUID().toString());
        exchange.getResponseHeaders().set("x-request-id", id);
        return id;
    }

    /**
     * The non-empty segments of a raw request path, percent-decoded (what the routes' templates are matched to). A
     * {@code +} stays a plus: in a path it is not a space (RFC 3986 §3.3; only form bodies encode spaces so).
     */
    public static List<String> segments(String rawPath) {
        List<String> out = new java.util.ArrayList<>();
        for (String s : rawPath.split("/")) {
            if (!s.isEmpty()) {
                out.add(QueryString.decode(s.replace("+", "%2B"), "the path"));
            }
        }
        return out;
    }

    /** The route serving {@code method} on {@code segments}, if any (open routes included). */
    public Optional<AdminRoute> route(String method, List<String> segments) {
        return routes.stream().filter(r -> r.matches(method, segments)).findFirst();
    }

    /** The methods some route serves on {@code segments} (a path with routes, none for the method asked: 405). */
    public Set<String> methodsOn(List<String> segments) {
        Set<String> out = new TreeSet<>();
        for (AdminRoute r : routes) {
            if (r.matches(r.method(), segments)) {
                out.add(r.method());
            }
        }
        return out;
    }

    /**
     * Admits the exchange's caller, by its {@code Authorization} header, to the route its method and {@code segments}
     * (the decoded path the routes are written against) name. A path no route serves is answered 401 before 404, so
     * a caller without a valid credential learns nothing about which paths exist.
     */
    public Outcome admit(HttpExchange exchange, String requestId, List<String> segments) {
        return admit(exchange, exchange.getRequestHeaders().getFirst("Authorization"), requestId, segments);
    }

    /** {@link #admit} with the credential from elsewhere than the header (the console's session). */
    public Outcome admit(HttpExchange exchange, String authorization, String requestId, List<String> segments) {
        String source = exchange.getRemoteAddress().getAddress().getHostAddress();
        Optional<AdminRoute> route = route(exchange.getRequestMethod(), segments);
        if (route.isEmpty()) {
            return gate.authenticateOnly(
                            authorization,
                            source,
                            requestId,
                            exchange.getRequestURI().getRawPath())
                    .<Outcome>map(r -> refused(exchange, r))
                    .orElseGet(Unrouted::new);
        }
        return switch (gate.admit(authorization, source, requestId, route.get(), segments)) {
            case AdminGate.Admitted a -> new Admitted(route.get(), a);
            case AdminGate.Refused r -> refused(exchange, r);
        };
    }

    /** The tenants an admitted call acts for ({@link AdminGate#tenantsOf} with the route's permission). */
    public TenantScope tenantsOf(Admitted call) {
        return gate.tenantsOf(call.caller(), call.route().permission());
    }

    private static Refused refused(HttpExchange exchange, AdminGate.Refused r) {
        if (r.challenge()) {
            exchange.getResponseHeaders().set("WWW-Authenticate", "Bearer");
        }
        return new Refused(r.status(), r.message());
    }
}
