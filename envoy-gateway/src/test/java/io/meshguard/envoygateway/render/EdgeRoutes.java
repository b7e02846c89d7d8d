package io.meshguard.envoygateway.render;

import io.meshguard.envoygateway.render.GatewayRevision.Cors;
import io.meshguard.envoygateway.render.GatewayRevision.Destination;
import io.meshguard.envoygateway.render.GatewayRevision.EdgeRoute;
import io.meshguard.envoygateway.render.GatewayRevision.Header;
import io.meshguard.envoygateway.render.GatewayRevision.HeaderMatch;
import io.meshguard.envoygateway.render.GatewayRevision.PathMatch;
import io.meshguard.envoygateway.render.GatewayRevision.Retry;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Routes for tests: the payments route every renderer test starts from, with only what a test is about changed, so a
 * test names the one part it checks instead of all fifteen.
 */
public final class EdgeRoutes {
    private EdgeRoutes() {}

    /** The parts of a route a test may change before it is built; each starts as {@link #payments} has it. */
    public static final class Parts {
        public List<String> hostnames = List.of("payments.prod.eu.bank.example");
        public List<String> methods = List.of();
        public List<HeaderMatch> headers = List.of();
        public List<Destination> destinations = List.of(new Destination("payments", 100));
        public long timeoutMs = 15_000;
        public Optional<Retry> retry = Optional.empty();
        public List<Header> requestHeadersToSet = List.of();
        public List<String> requestHeadersToRemove = List.of();
        public List<Header> responseHeadersToSet = List.of();
        public Optional<Cors> cors = Optional.empty();
        public Map<String, String> authzContext;
        public Map<String, String> dlpMetadata = Map.of("x-meshguard-dlp-profile", "cards");
        public Optional<String> productPublish = Optional.empty();

        private Parts(String name) {
            authzContext = Map.of("meshguard.authz_profile", "payments-read", "meshguard.gateway_route", name);
        }
    }

    /**
     * {@code name} on {@code payments.prod.eu.bank.example} at {@code path}, all to backend {@code payments}, 15 s
     * timeout, authz profile {@code payments-read}, DLP profile {@code cards}, nothing else.
     */
    public static EdgeRoute payments(String name, PathMatch path) {
        return payments(name, path, parts -> {});
    }

    /** As {@link #payments(String, PathMatch)}, with what {@code change} sets instead. */
    public static EdgeRoute payments(String name, PathMatch path, Consumer<Parts> change) {
        Parts p = new Parts(name);
        change.accept(p);
        return new EdgeRoute(
                name,
                p.hostnames,
                List.of(path),
                p.methods,
                p.headers,
                p.destinations,
                p.timeoutMs,
                p.retry,
                p.requestHeadersToSet,
                p.requestHeadersToRemove,
                p.responseHeadersToSet,
                p.cors,
                p.authzContext,
                p.dlpMetadata,
                p.productPublish);
    }
}
