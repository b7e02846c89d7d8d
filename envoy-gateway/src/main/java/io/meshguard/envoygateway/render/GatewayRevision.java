package io.meshguard.envoygateway.render;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One published revision of a gateway group, flattened to what an HTTP gateway serves: every route with its full
 * paths, hosts, backends and the route contract it hands to extauthz and the DLP server. The xDS controller produces it
 * from the same revision it serves over ADS, so both kinds of template serve one meaning.
 *
 * @param group the gateway group (the Gateway's name)
 * @param revision the revision's id
 * @param listenerPort the group's HTTP listener port
 */
public record GatewayRevision(
        String group, long revision, int listenerPort, List<EdgeRoute> routes, List<Backend> backends) {

    public GatewayRevision {
        Objects.requireNonNull(group, "group");
        routes = List.copyOf(routes);
        backends = List.copyOf(backends);
    }

    /**
     * One route of the revision.
     *
     * @param name the gateway route's name (unique in the group; the contract's {@code meshguard.gateway_route})
     * @param hostnames the hosts it is served on
     * @param paths the full paths it matches (a default version's route matches under the versioned and the bare root)
     * @param methods the methods it takes; empty takes every method
     * @param destinations weighted backends (by {@link Backend#name()})
     * @param timeoutMs whole-request timeout; 0 disables it (streaming)
     * @param authzContext the ext_authz context extensions ({@code RouteContract.AuthzContext})
     * @param dlpMetadata the ext_proc initial metadata ({@code RouteContract.DlpMetadata})
     * @param productPublish the product publish the route serves, if any (a label of its resources)
     */
    public record EdgeRoute(
            String name,
            List<String> hostnames,
            List<PathMatch> paths,
            List<String> methods,
            List<HeaderMatch> headers,
            List<Destination> destinations,
            long timeoutMs,
            Optional<Retry> retry,
            List<Header> requestHeadersToSet,
            List<String> requestHeadersToRemove,
            List<Header> responseHeadersToSet,
            Optional<Cors> cors,
            Map<String, String> authzContext,
            Map<String, String> dlpMetadata,
            Optional<String> productPublish) {
        public EdgeRoute {
            Objects.requireNonNull(name, "name");
            hostnames = List.copyOf(hostnames);
            paths = List.copyOf(paths);
            methods = List.copyOf(methods);
            headers = List.copyOf(headers);
            destinations = List.copyOf(destinations);
            requestHeadersToSet = List.copyOf(requestHeadersToSet);
            requestHeadersToRemove = List.copyOf(requestHeadersToRemove);
            responseHeadersToSet = List.copyOf(responseHeadersToSet);
            authzContext = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(authzContext));
            dlpMetadata = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(dlpMetadata));
        }
    }

    /** A path condition on the full request path. */
    public record PathMatch(Kind kind, String value) {
        /** How the value matches. */
        public enum Kind {
            EXACT,
            /** Segment-aware: {@code /a} matches {@code /a} and {@code /a/b}, never {@code /ab}. */
            PREFIX,
            /** RE2, matched against the whole path. */
            REGEX
        }
    }

    /** A header condition: exact, prefix, RE2 regex, or presence when none is set. */
    public record HeaderMatch(String name, Optional<String> exact, Optional<String> prefix, Optional<String> regex) {}

    /** A weighted share of a route's traffic. */
    public record Destination(String backend, int weight) {}

    /** Retries with exponential backoff; {@code retryOn} is Envoy's comma-separated list of conditions. */
    public record Retry(
            int attempts, String retryOn, Optional<Long> perTryTimeoutMs, long backoffBaseMs, long backoffMaxMs) {}

    /** A header set (overwriting any value of the same name). */
    public record Header(String name, String value) {}

    /** Cross-origin policy of a route. */
    public record Cors(
            List<String> allowedOrigins,
            List<String> allowedMethods,
            List<String> allowedHeaders,
            List<String> exposedHeaders,
            boolean allowCredentials,
            long maxAgeSeconds) {}

    /**
     * Where a backend is reached: its endpoints as host and port (a Kubernetes Service's cluster DNS name, another DNS
     * name, or an IP literal), and whether it speaks TLS.
     */
    public record Backend(String name, List<Endpoint> endpoints, boolean tls, boolean http2) {
        public Backend {
            endpoints = List.copyOf(endpoints);
        }
    }

    /** One address of a backend. */
    public record Endpoint(String address, int port) {}
}
