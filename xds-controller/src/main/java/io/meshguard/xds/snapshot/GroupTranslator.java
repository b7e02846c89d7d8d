package io.meshguard.xds.snapshot;

import static io.meshguard.xds.snapshot.XdsProtos.ads;
import static io.meshguard.xds.snapshot.XdsProtos.duration;

import com.google.protobuf.Any;
import com.google.protobuf.UnknownFieldSet;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.GrpcService;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.ApiListener;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthz;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import io.meshguard.xds.model.Api;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayGroup;
import io.meshguard.xds.model.HostnamePlan;
import io.meshguard.xds.model.Route;
import io.meshguard.xds.model.Upstream;
import io.meshguard.xds.snapshot.RouteTranslator.ProductHost;
import io.meshguard.xds.snapshot.RouteTranslator.Table;
import io.meshguard.xds.snapshot.RouteTranslator.UpstreamHosts;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * Translates one gateway group of a validated {@link GatewayConfig} into Envoy xDS resources, one translator per
 * concern:
 * <ul>
 *   <li>LDS: the Envoy HTTP listener ({@link EnvoyListener}: CORS → ext_authz → ext_proc DLP → router, gRPC access
 *       log) and one {@code api_listener} per hostname for proxyless gRPC clients (here);</li>
 *   <li>RDS: Envoy's route table and the proxyless clients' ({@link RouteTranslator});</li>
 *   <li>CDS: one cluster per upstream ({@link UpstreamClusters}: EDS for IP endpoints, DNS for named ones) plus the
 *       clusters of meshguard's own filter servers ({@link FilterClusters});</li>
 *   <li>EDS: one load assignment per upstream whose endpoints are IP addresses.</li>
 * </ul>
 * Pure function of its input: the same group, routes, APIs and upstreams give byte-identical resources, so
 * content-hash versions are stable. What changed since the group's last translation is {@link RouteChangeTracker}'s.
 */
final class GroupTranslator {
    /** Envoy's DLP and authz calls must not be skipped on error: a bank would rather fail closed. */
    private static final boolean FAILURE_MODE_ALLOW = false;
    /** GoogleGrpc.channel_credentials_plugin (field 9) is absent from java-control-plane 1.0.49's protos. */
    private static final int CHANNEL_CREDENTIALS_PLUGIN_FIELD = 9;

    private static final String INSECURE_CREDENTIALS =
            "type.googleapis.com/envoy.extensions.grpc_service.channel_credentials.insecure.v3.InsecureCredentials";

    private static final ClusterLoadAssignment CLOSED_ASSIGNMENT = ClusterLoadAssignment.newBuilder()
            .setClusterName(EnvoyNames.CLOSED_CLUSTER)
            .build();

    private final FilterTargets targets;
    private final EnvoyListener envoyListener;
    /** The clusters every group has besides its upstreams': closed versions and the filters' services. */
    private final List<Cluster> ownClusters;
    /** Built listeners, clusters and load assignments by their inputs. */
    private final RememberedParts builtParts;
    /** An upstream's built parts by the identity of the upstream and its group. */
    private final RememberedParts builtHosts;

    private final RouteTranslator routes;

    GroupTranslator(
            FilterTargets targets, RememberedParts builtParts, RememberedParts builtHosts, RouteTranslator routes) {
        this.targets = targets;
        this.ownClusters = List.of(
                FilterClusters.closedCluster(),
                FilterClusters.filterCluster(EnvoyNames.EXT_AUTHZ_CLUSTER, targets.extAuthz()),
                FilterClusters.filterCluster(EnvoyNames.DLP_CLUSTER, targets.dlp()),
                FilterClusters.filterCluster(EnvoyNames.ACCESS_LOG_CLUSTER, targets.accessLog()));
        this.envoyListener = new EnvoyListener(targets);
        this.builtParts = builtParts;
        this.builtHosts = builtHosts;
        this.routes = routes;
    }

    /**
     * A group's translation: its resources, and what its route tables were built from, so that a change of routes
     * alone can rebuild only the virtual hosts it touches ({@link RouteChangeTracker}).
     *
     * @param routesByVersion the group's own routes (not a product publish's) by API and version
     */
    record Translation(Map<String, List<Route>> routesByVersion, List<Table> tables, GroupResources resources) {}

    /** Every part of the group built from its objects (each taken from the remembered parts when built before). */
    Translation translate(
            GatewayGroup group, List<Route> groupRoutes, List<Api> groupApis, List<Upstream> groupUpstreams) {
        String groupName = group.name();
        // a product publish's routes are served on its own host only, never on the API's
        Map<String, List<Route>> routesByVersion = new HashMap<>();
        Map<String, Map<String, List<Route>>> productRoutesByHost = new TreeMap<>();
        for (Route r : groupRoutes) {
            String key = r.api() + "\u0000" + r.version();
            Map<String, List<Route>> into = r.product()
                    .map(p -> productRoutesByHost.computeIfAbsent(p.host(), h -> new HashMap<>()))
                    .orElse(routesByVersion);
            into.computeIfAbsent(key, k -> new ArrayList<>()).add(r);
        }
        List<Api> apis = groupApis.stream()
                .sorted(Comparator.comparing((Api a) -> -a.basePath().length()).thenComparing(Api::name))
                .toList();
        Map<String, List<Api>> apisByHost = new TreeMap<>();
        for (Api api : apis) {
            if (!servesOwnRoutes(routesByVersion, api)) {
                continue;
            }
            for (String host : HostnamePlan.hostnames(group, api)) {
                apisByHost.computeIfAbsent(host, h -> new ArrayList<>()).add(api);
            }
        }
        Map<String, ProductHost> productHosts = new TreeMap<>();
        productRoutesByHost.forEach((host, byVersion) -> productHosts.put(
                host,
                new ProductHost(
                        apis.stream().filter(a -> servesOwnRoutes(byVersion, a)).toList(), byVersion)));

        List<Listener> listeners = new ArrayList<>();
        listeners.add(envoyListener.build(group));
        for (String host : apisByHost.keySet()) {
            listeners.add(builtParts.get(
                    new ProxylessListenerInputs(host, group.name(), group.proxylessAuthz(), targets),
                    () -> proxylessListener(host, group)));
        }

        Set<String> hostnameUpstreams = new TreeSet<>();
        Map<String, String> hostLiterals = new TreeMap<>();
        List<Cluster> clusters = new ArrayList<>();
        List<ClusterLoadAssignment> endpoints = new ArrayList<>();
        for (Upstream u : groupUpstreams) {
            UpstreamParts parts = upstreamParts(u, group);
            if (parts.namedByDns()) {
                hostnameUpstreams.add(u.name());
            }
            u.host().ifPresent(h -> hostLiterals.put(u.name(), h));
            clusters.add(parts.cluster());
            parts.assignment().ifPresent(endpoints::add);
        }
        List<Table> tables = List.of(
                routes.routeConfiguration(
                        EnvoyNames.envoyRoutes(group.listenerPort()),
                        routesByVersion,
                        apisByHost,
                        productHosts,
                        new UpstreamHosts(group, hostnameUpstreams, hostLiterals),
                        true),
                // Product hosts are Envoy's only: the route's context extensions are what names the product publish
                // to extauthz, and a proxyless client's ext_authz filter sends none (routes carry no per-route
                // check settings there), so its subscription could not be checked: no listener is the closed answer.
                routes.routeConfiguration(
                        EnvoyNames.PROXYLESS_ROUTES,
                        routesByVersion,
                        apisByHost,
                        Map.of(),
                        new UpstreamHosts(null, Set.of(), Map.of()),
                        false));

        clusters.addAll(ownClusters);
        endpoints.add(CLOSED_ASSIGNMENT);
        return new Translation(
                routesByVersion,
                tables,
                new GroupResources(
                        groupName,
                        sorted(listeners, Listener::getName),
                        RouteTranslator.sortedTables(tables),
                        sorted(clusters, Cluster::getName),
                        sorted(endpoints, ClusterLoadAssignment::getClusterName)));
    }

    private static boolean servesOwnRoutes(Map<String, List<Route>> routesByVersion, Api api) {
        return api.versions().stream().anyMatch(v -> routesByVersion.containsKey(api.name() + "\u0000" + v.version()));
    }

    private static <T> List<T> sorted(List<T> list, Function<T, String> name) {
        return list.stream().sorted(Comparator.comparing(name)).toList();
    }

    private Listener proxylessListener(String host, GatewayGroup group) {
        HttpConnectionManager.Builder hcm = HttpConnectionManager.newBuilder()
                .setStatPrefix(group.name())
                .setRds(Rds.newBuilder()
                        .setRouteConfigName(EnvoyNames.PROXYLESS_ROUTES)
                        .setConfigSource(ads()));
        if (group.proxylessAuthz() != GatewayGroup.ProxylessAuthz.OFF) {
            hcm.addHttpFilters(HttpFilter.newBuilder()
                    .setName(EnvoyNames.EXT_AUTHZ_FILTER)
                    .setIsOptional(group.proxylessAuthz() == GatewayGroup.ProxylessAuthz.OPTIONAL)
                    .setTypedConfig(Any.pack(proxylessExtAuthz())));
        }
        // grpc-java rejects direct_response routes; closed versions abort through the fault filter instead
        hcm.addHttpFilters(HttpFilter.newBuilder()
                .setName(EnvoyNames.FAULT_FILTER)
                .setTypedConfig(Any.pack(HTTPFault.getDefaultInstance())));
        hcm.addHttpFilters(EnvoyListener.router());
        return Listener.newBuilder()
                .setName(host)
                .setApiListener(ApiListener.newBuilder().setApiListener(Any.pack(hcm.build())))
                .build();
    }

    /** grpc-java only accepts google_grpc with a resolvable target and credentials from the (trusted) xDS server. */
    private ExtAuthz proxylessExtAuthz() {
        Any insecure = Any.newBuilder().setTypeUrl(INSECURE_CREDENTIALS).build();
        GrpcService.GoogleGrpc googleGrpc = GrpcService.GoogleGrpc.newBuilder()
                .setTargetUri("dns:///" + targets.extAuthz())
                .setStatPrefix("ext_authz")
                .setUnknownFields(UnknownFieldSet.newBuilder()
                        .addField(
                                CHANNEL_CREDENTIALS_PLUGIN_FIELD,
                                UnknownFieldSet.Field.newBuilder()
                                        .addLengthDelimited(insecure.toByteString())
                                        .build())
                        .build())
                .build();
        return ExtAuthz.newBuilder()
                .setGrpcService(GrpcService.newBuilder()
                        .setGoogleGrpc(googleGrpc)
                        .setTimeout(duration(targets.filterTimeout().toMillis())))
                .setTransportApiVersion(ApiVersion.V3)
                .setFailureModeAllow(FAILURE_MODE_ALLOW)
                .build();
    }

    /** Everything an upstream's cluster and load assignment are a function of. */
    private record UpstreamInputs(Upstream upstream, GatewayGroup group) {
        /** The same inputs, for the load assignment. */
        record Assignment(UpstreamInputs inputs) {}
    }

    /** What a group serves of one upstream, and whether its hosts are DNS names (routes to it rewrite the host). */
    private record UpstreamParts(Cluster cluster, Optional<ClusterLoadAssignment> assignment, boolean namedByDns) {}

    /**
     * An upstream's parts: found by the identity of the upstream and group when they are the instances built from
     * before, as a draft read again keeps its unchanged objects (a group's thousand upstreams then cost a thousand
     * identity lookups, not a thousand deep hashes of their records and parses of their addresses), else from the
     * parts remembered by the inputs' equality.
     */
    private UpstreamParts upstreamParts(Upstream u, GatewayGroup group) {
        return builtHosts.get(new SameObjects(new Object[] {UpstreamParts.class, u, group}), () -> {
            UpstreamInputs inputs = new UpstreamInputs(u, group);
            Upstream.Discovery discovery = u.discovery();
            return new UpstreamParts(
                    builtParts.get(inputs, () -> UpstreamClusters.cluster(u, group)),
                    builtParts.get(
                            new UpstreamInputs.Assignment(inputs), () -> UpstreamClusters.edsAssignment(u, group)),
                    discovery == Upstream.Discovery.LOGICAL_DNS || discovery == Upstream.Discovery.STRICT_DNS);
        });
    }

    /** Everything a proxyless client's listener for one host is a function of (see {@link #proxylessListener}). */
    private record ProxylessListenerInputs(
            String host, String group, GatewayGroup.ProxylessAuthz authz, FilterTargets targets) {}
}
