package io.meshguard.xds.envoygateway;

import io.meshguard.envoygateway.render.GatewayRevision;
import io.meshguard.envoygateway.render.GatewayRevision.EdgeRoute;
import io.meshguard.envoygateway.render.GatewayRevision.PathMatch;
import io.meshguard.xds.model.Api;
import io.meshguard.xds.model.Cors;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayGroup;
import io.meshguard.xds.model.HostnamePlan;
import io.meshguard.xds.model.Route;
import io.meshguard.xds.model.Upstream;
import io.meshguard.xds.snapshot.RouteContractValues;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A group's revision as the Envoy Gateway renderer takes it ({@code envoy-gateway} module): the same routes, hosts,
 * version roots and route contract the meshguard-served gateway builds from the revision (SnapshotBuilder), flattened.
 * Sunset and retired versions render no route: Envoy Gateway answers 404 for them (docs/envoy-gateway.md).
 */
public final class EnvoyGatewayRevisions {
    private EnvoyGatewayRevisions() {}

    /** The routes and backends of {@code group} in {@code config} (a revision's slice), as revision {@code revision}. */
    public static GatewayRevision of(GatewayConfig config, String group, long revision) {
        GatewayGroup g =
                config.group(group).orElseThrow(() -> new IllegalArgumentException("unknown group '" + group + "'"));
        List<EdgeRoute> routes = new ArrayList<>();
        for (Route r : config.routesOf(group)) {
            Optional<Api> api = config.api(r.api());
            Optional<Api.ApiVersion> v = api.flatMap(a -> a.version(r.version()));
            if (api.isEmpty() || v.isEmpty()) {
                continue; // validation refuses such a route before any revision exists
            }
            if (v.get().status() == Api.Status.SUNSET || v.get().status() == Api.Status.RETIRED) {
                continue;
            }
            routes.add(edgeRoute(g, api.get(), v.get(), r));
        }
        List<GatewayRevision.Backend> backends = new ArrayList<>();
        for (Upstream u : config.upstreamsOf(group)) {
            backends.add(new GatewayRevision.Backend(
                    u.name(),
                    u.endpoints().stream()
                            .map(e -> new GatewayRevision.Endpoint(e.address(), e.port()))
                            .toList(),
                    u.tls().isPresent(),
                    u.protocol() != Upstream.Protocol.HTTP1));
        }
        return new GatewayRevision(group, revision, g.listenerPort(), routes, backends);
    }

    private static EdgeRoute edgeRoute(GatewayGroup g, Api api, Api.ApiVersion v, Route r) {
        List<String> hosts = r.product().map(p -> List.of(p.host())).orElseGet(() -> HostnamePlan.hostnames(g, api));
        List<String> roots = new ArrayList<>();
        roots.add(api.basePath() + "/" + v.version());
        if (api.defaultVersion().equals(v.version())) {
            roots.add(api.basePath());
        }
        List<PathMatch> paths = new ArrayList<>();
        for (String root : roots) {
            paths.add(path(r.match(), root));
        }
        List<GatewayRevision.Header> responseHeaders = new ArrayList<>();
        r.responseHeadersToAdd().forEach(h -> responseHeaders.add(new GatewayRevision.Header(h.name(), h.value())));
        if (r.streaming()) {
            // as RouteTimeouts.streamingResponseHeaders: no cache may store the stream, no proxy may buffer it
            if (r.responseHeadersToAdd().stream().noneMatch(h -> h.name().equals("cache-control"))) {
                responseHeaders.add(new GatewayRevision.Header("cache-control", "no-cache"));
            }
            responseHeaders.add(new GatewayRevision.Header("x-accel-buffering", "no"));
        }
        return new EdgeRoute(
                r.name(),
                hosts,
                paths,
                r.match().methods(),
                r.match().headers().stream()
                        .map(h -> new GatewayRevision.HeaderMatch(h.name(), h.exact(), h.prefix(), h.regex()))
                        .toList(),
                r.destinations().stream()
                        .map(d -> new GatewayRevision.Destination(d.upstream(), d.weight()))
                        .toList(),
                r.streaming() ? 0 : r.timeoutMs().orElse(Route.DEFAULT_TIMEOUT_MS),
                r.retry()
                        .map(rt -> new GatewayRevision.Retry(
                                rt.attempts(),
                                rt.retryOn(),
                                rt.perTryTimeoutMs(),
                                rt.backoffBaseMs(),
                                rt.backoffMaxMs())),
                r.requestHeadersToAdd().stream()
                        .map(h -> new GatewayRevision.Header(h.name(), h.value()))
                        .toList(),
                r.requestHeadersToRemove(),
                responseHeaders,
                // the API's policy, on its own hosts and on product hosts alike, as SnapshotBuilder's Envoy table
                g.corsFor(api.name()).map(EnvoyGatewayRevisions::cors),
                RouteContractValues.authzContext(api, v, r),
                RouteContractValues.dlpMetadata(api, v, r),
                r.product().map(Route.ProductBinding::publish));
    }

    private static PathMatch path(Route.Match m, String root) {
        if (m.pathExact().isPresent()) {
            String p = root + m.pathExact().get();
            return new PathMatch(PathMatch.Kind.EXACT, p.isEmpty() ? "/" : p);
        }
        if (m.pathPrefix().isPresent()) {
            String p = root + m.pathPrefix().get();
            return new PathMatch(PathMatch.Kind.PREFIX, p.isEmpty() ? "/" : p);
        }
        String regex = m.pathRegex().orElseThrow();
        String anchored = regex.startsWith("^") ? regex.substring(1) : regex;
        return new PathMatch(PathMatch.Kind.REGEX, com.google.re2j.Pattern.quote(root) + anchored);
    }

    private static GatewayRevision.Cors cors(Cors c) {
        return new GatewayRevision.Cors(
                c.allowedOrigins(),
                c.allowedMethods(),
                c.allowedHeaders(),
                c.exposedHeaders(),
                c.allowCredentials(),
                c.maxAge());
    }
}
