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

/**
 * A route for tests: the payments route every renderer test starts from, with only what a test is about changed, so a
 * test names the one part it checks instead of all fifteen.
 */
public final class EdgeRouteBuilder {
    private final String name;
    private List<String> hostnames = List.of("payments.prod.eu.bank.example");
    private List<PathMatch> paths;
    private List<String> methods = List.of();
    private List<HeaderMatch> headers = List.of();
    private List<Destination> destinations = List.of(new Destination("payments", 100));
    private long timeoutMs = 15_000;
    private Optional<Retry> retry = Optional.empty();
    private List<Header> requestHeadersToSet = List.of();
    private List<String> requestHeadersToRemove = List.of();
    private List<Header> responseHeadersToSet = List.of();
    private Optional<Cors> cors = Optional.empty();
    private Map<String, String> authzContext;
    private Map<String, String> dlpMetadata = Map.of("x-meshguard-dlp-profile", "cards");
    private Optional<String> productPublish = Optional.empty();

    private EdgeRouteBuilder(String name, PathMatch path) {
        this.name = name;
        this.paths = List.of(path);
        this.authzContext = Map.of("meshguard.authz_profile", "payments-read", "meshguard.gateway_route", name);
    }

    /**
     * {@code name} on {@code payments.prod.eu.bank.example} at {@code path}, all to backend {@code payments}, 15 s
     * timeout, authz profile {@code payments-read}, DLP profile {@code cards}, nothing else.
     */
    public static EdgeRouteBuilder payments(String name, PathMatch path) {
        return new EdgeRouteBuilder(name, path);
    }

    /** {@code route} as it is, to change a part of. */
    public static EdgeRouteBuilder from(EdgeRoute route) {
        EdgeRouteBuilder b = new EdgeRouteBuilder(route.name(), route.paths().getFirst());
        b.hostnames = route.hostnames();
        b.paths = route.paths();
        b.methods = route.methods();
        b.headers = route.headers();
        b.destinations = route.destinations();
        b.timeoutMs = route.timeoutMs();
        b.retry = route.retry();
        b.requestHeadersToSet = route.requestHeadersToSet();
        b.requestHeadersToRemove = route.requestHeadersToRemove();
        b.responseHeadersToSet = route.responseHeadersToSet();
        b.cors = route.cors();
        b.authzContext = route.authzContext();
        b.dlpMetadata = route.dlpMetadata();
        b.productPublish = route.productPublish();
        return b;
    }

    public EdgeRouteBuilder hostnames(String... hostnames) {
        this.hostnames = List.of(hostnames);
        return this;
    }

    public EdgeRouteBuilder methods(String... methods) {
        this.methods = List.of(methods);
        return this;
    }

    public EdgeRouteBuilder headers(HeaderMatch... headers) {
        this.headers = List.of(headers);
        return this;
    }

    public EdgeRouteBuilder destinations(Destination... destinations) {
        this.destinations = List.of(destinations);
        return this;
    }

    public EdgeRouteBuilder timeoutMs(long timeoutMs) {
        this.timeoutMs = timeoutMs;
        return this;
    }

    public EdgeRouteBuilder retry(Retry retry) {
        this.retry = Optional.of(retry);
        return this;
    }

    public EdgeRouteBuilder requestHeadersToSet(List<Header> headers) {
        this.requestHeadersToSet = headers;
        return this;
    }

    public EdgeRouteBuilder requestHeadersToRemove(String... names) {
        this.requestHeadersToRemove = List.of(names);
        return this;
    }

    public EdgeRouteBuilder responseHeadersToSet(Header... headers) {
        this.responseHeadersToSet = List.of(headers);
        return this;
    }

    public EdgeRouteBuilder cors(Cors cors) {
        this.cors = Optional.of(cors);
        return this;
    }

    public EdgeRouteBuilder authzContext(Map<String, String> authzContext) {
        this.authzContext = authzContext;
        return this;
    }

    public EdgeRouteBuilder dlpMetadata(Map<String, String> dlpMetadata) {
        this.dlpMetadata = dlpMetadata;
        return this;
    }

    public EdgeRouteBuilder productPublish(String publish) {
        this.productPublish = Optional.of(publish);
        return this;
    }

    public EdgeRoute build() {
        return new EdgeRoute(
                name,
                hostnames,
                paths,
                methods,
                headers,
                destinations,
                timeoutMs,
                retry,
                requestHeadersToSet,
                requestHeadersToRemove,
                responseHeadersToSet,
                cors,
                authzContext,
                dlpMetadata,
                productPublish);
    }
}
