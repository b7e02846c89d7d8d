package io.meshguard.xds.snapshot;

import static io.meshguard.xds.snapshot.XdsProtos.ads;
import static io.meshguard.xds.snapshot.XdsProtos.duration;

import com.google.protobuf.Any;
import com.google.protobuf.BoolValue;
import com.google.protobuf.Struct;
import com.google.protobuf.UInt32Value;
import com.google.protobuf.UnknownFieldSet;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.core.v3.GrpcService;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.ApiListener;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.DirectResponseAction;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.config.route.v3.RetryPolicy;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.config.route.v3.WeightedCluster;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.CheckSettings;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthz;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExtProcOverrides;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExtProcPerRoute;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.FaultAbort;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatcher;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.envoyproxy.envoy.type.v3.FractionalPercent;
import io.meshguard.contract.RouteContract;
import io.meshguard.envoy.validation.HeaderFormat;
import io.meshguard.xds.model.Api;
import io.meshguard.xds.model.ChangedPlaces;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayGroup;
import io.meshguard.xds.model.HostnamePlan;
import io.meshguard.xds.model.Upstream;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Turns one gateway group of a validated {@link GatewayConfig} into Envoy xDS resources:
 * <ul>
 *   <li>LDS: the Envoy HTTP listener ({@link EnvoyListener}: CORS → ext_authz → ext_proc DLP → router, gRPC access
 *       log) and one
 *       {@code api_listener} per hostname for proxyless gRPC clients;</li>
 *   <li>RDS: virtual hosts per hostname with versioned and default-version routes, lifecycle headers, 410 / 404
 *       direct responses and weighted clusters; a second route configuration without Envoy-only per-route config for
 *       proxyless clients;</li>
 *   <li>CDS: one cluster per upstream ({@link UpstreamClusters}: EDS for IP endpoints, DNS for named ones) plus the
 *       clusters of meshguard's own filter servers;</li>
 *   <li>EDS: one load assignment per upstream whose endpoints are IP addresses.</li>
 * </ul>
 * Pure function of its input: the same config gives byte-identical resources, so content-hash versions are stable.
 */
public final class SnapshotBuilder {
    /** Envoy's DLP and authz calls must not be skipped on error: a bank would rather fail closed. */
    private static final boolean FAILURE_MODE_ALLOW = false;
    /** GoogleGrpc.channel_credentials_plugin (field 9) is absent from java-control-plane 1.0.49's protos. */
    private static final int CHANNEL_CREDENTIALS_PLUGIN_FIELD = 9;

    private static final String INSECURE_CREDENTIALS =
            "type.googleapis.com/envoy.extensions.grpc_service.channel_credentials.insecure.v3.InsecureCredentials";
    private static final DateTimeFormatter HTTP_DATE = DateTimeFormatter.ofPattern(
                    "EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.ROOT)
            .withZone(ZoneOffset.UTC);

    private static final String X_FORWARDED_HOST = "x-forwarded-host";

    private final FilterTargets targets;
    private final EnvoyListener envoyListener;
    /** Built routes, clusters and load assignments by their inputs: shared by every builder, or a fresh one's own. */
    private final Map<Object, Object> builtParts;
    /** Built virtual hosts by the identity of what they are built from: the shared parts, or a one-off's own. */
    private final Map<Object, Object> builtHosts;
    /** Each group's last build by this builder, which the next one starts from ({@link #routesChanged}). */
    private final Map<String, Built> lastBuilds =
            java.util.Collections.synchronizedMap(new LinkedHashMap<>(16, 0.75f, true) {
                private static final long serialVersionUID = 1L;

                @Override
                protected boolean removeEldestEntry(Map.Entry<String, Built> eldest) {
                    return size() > REMEMBERED_GROUPS;
                }
            });
    /** The clusters every group has besides its upstreams': closed versions and the filters' services. */
    private final List<Cluster> ownClusters;

    private static final ClusterLoadAssignment CLOSED_ASSIGNMENT = ClusterLoadAssignment.newBuilder()
            .setClusterName(EnvoyNames.CLOSED_CLUSTER)
            .build();

    public SnapshotBuilder(FilterTargets targets) {
        this(targets, SHARED_PARTS, SHARED_PARTS);
    }

    private SnapshotBuilder(FilterTargets targets, Map<Object, Object> builtParts, Map<Object, Object> builtHosts) {
        this.targets = targets;
        this.ownClusters = List.of(
                FilterClusters.closedCluster(),
                FilterClusters.filterCluster(EnvoyNames.EXT_AUTHZ_CLUSTER, targets.extAuthz()),
                FilterClusters.filterCluster(EnvoyNames.DLP_CLUSTER, targets.dlp()),
                FilterClusters.filterCluster(EnvoyNames.ACCESS_LOG_CLUSTER, targets.accessLog()));
        this.envoyListener = new EnvoyListener(targets);
        this.builtParts = builtParts;
        this.builtHosts = builtHosts;
    }

    /** Builds the resources of one group; the config must have passed validation. */
    public GroupResources build(GatewayConfig config, String groupName) {
        GatewayGroup group = config.group(groupName)
                .orElseThrow(() -> new IllegalArgumentException("unknown group '" + groupName + "'"));
        List<io.meshguard.xds.model.Route> routes = config.routesOf(groupName);
        List<Api> apis = config.apisOf(groupName);
        List<Upstream> upstreams = config.upstreamsOf(groupName);
        Built last = lastBuilds.get(groupName);
        Built built = last == null ? null : routesChanged(last, group, routes, apis, upstreams);
        if (built == null) {
            built = wholeBuild(group, routes, apis, upstreams);
        }
        lastBuilds.put(groupName, built);
        return built.resources();
    }

    /**
     * What a group's last build was made from and what it made: the route tables with the place of each virtual host
     * built from the group's APIs, so the next build can replace only the virtual hosts whose routes changed.
     */
    private record Built(
            GatewayGroup group,
            List<io.meshguard.xds.model.Route> routes,
            List<Api> apis,
            List<Upstream> upstreams,
            Map<String, List<io.meshguard.xds.model.Route>> routesByVersion,
            List<Table> tables,
            GroupResources resources) {}

    /**
     * A built route table and, for each virtual host built from the group's APIs, its place and inputs, also by API
     * name: a one-route change finds its API's virtual hosts there, not by a pass over all of them.
     */
    private record Table(
            RouteConfiguration built,
            List<HostSlot> slots,
            Map<String, List<HostSlot>> slotsByApi,
            UpstreamHosts upstreams,
            boolean forEnvoy) {
        Table(RouteConfiguration built, List<HostSlot> slots, UpstreamHosts upstreams, boolean forEnvoy) {
            this(built, slots, byApi(slots), upstreams, forEnvoy);
        }

        Table with(RouteConfiguration rebuilt) {
            return new Table(rebuilt, slots, slotsByApi, upstreams, forEnvoy);
        }

        private static Map<String, List<HostSlot>> byApi(List<HostSlot> slots) {
            Map<String, List<HostSlot>> byApi = new java.util.HashMap<>();
            for (HostSlot slot : slots) {
                for (Api api : slot.apis()) {
                    byApi.computeIfAbsent(api.name(), n -> new ArrayList<>()).add(slot);
                }
            }
            return byApi;
        }
    }

    /** A virtual host's index in its table, its hostnames and APIs. */
    private record HostSlot(int index, List<String> hosts, List<Api> apis) {}

    /**
     * The build after {@code last} when only the group's routes changed (the group, its APIs and its upstreams are the
     * instances {@code last} was built from), else null. A one-route change in a 2,000-route group regrouped
     * every route, looked up every virtual host and cluster, and sorted every list again, each publish and each
     * draft validation; now the listeners, clusters and load assignments are the lists built before (their checks then
     * answer by identity) and only the virtual hosts serving a changed route's API are built. A change that adds or
     * empties an API version (hostnames and listeners follow from which versions have routes) or touches a product
     * publish's routes builds the group whole.
     */
    private Built routesChanged(
            Built last,
            GatewayGroup group,
            List<io.meshguard.xds.model.Route> routes,
            List<Api> apis,
            List<Upstream> upstreams) {
        if (last.group() != group
                || !ChangedPlaces.sameInstances(last.apis(), apis)
                || !ChangedPlaces.sameInstances(last.upstreams(), upstreams)) {
            return null;
        }
        RouteChanges changes = RouteChanges.between(last.routes(), routes);
        if (changes.none()) {
            return new Built(group, routes, apis, upstreams, last.routesByVersion(), last.tables(), last.resources());
        }
        Map<String, List<io.meshguard.xds.model.Route>> routesByVersion =
                new java.util.HashMap<>(last.routesByVersion());
        Set<String> copied = new java.util.HashSet<>();
        Set<String> changedApis = new java.util.HashSet<>();
        for (io.meshguard.xds.model.Route r : changes.removed()) {
            List<io.meshguard.xds.model.Route> list = ownCopy(routesByVersion, copied, r);
            if (list == null || !removeInstance(list, r) || list.isEmpty()) {
                return null;
            }
            changedApis.add(r.api());
        }
        for (io.meshguard.xds.model.Route r : changes.added()) {
            List<io.meshguard.xds.model.Route> list = ownCopy(routesByVersion, copied, r);
            if (list == null) {
                return null;
            }
            list.add(r);
            changedApis.add(r.api());
        }
        List<Table> tables = new ArrayList<>();
        for (Table t : last.tables()) {
            RouteConfiguration.Builder rc = null;
            CorsPolicies cors = t.upstreams().cors();
            // by identity: a slot's record equality would hash its APIs whole
            Set<HostSlot> touched = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
            changedApis.forEach(api -> touched.addAll(t.slotsByApi().getOrDefault(api, List.of())));
            for (HostSlot slot : touched) {
                rc = rc == null ? t.built().toBuilder() : rc;
                rc.setVirtualHosts(
                        slot.index(),
                        virtualHost(slot.hosts(), slot.apis(), routesByVersion, cors, t.upstreams(), t.forEnvoy()));
            }
            tables.add(rc == null ? t : t.with(rc.build()));
        }
        GroupResources before = last.resources();
        return new Built(
                group,
                routes,
                apis,
                upstreams,
                routesByVersion,
                tables,
                new GroupResources(
                        before.group(),
                        before.listeners(),
                        sortedTables(tables),
                        before.clusters(),
                        before.endpoints()));
    }

    /**
     * The list of {@code r}'s API version in {@code routesByVersion}, copied once per build before it is changed;
     * null when the version has no routes yet or {@code r} belongs to a product publish (a whole build then).
     */
    private static List<io.meshguard.xds.model.Route> ownCopy(
            Map<String, List<io.meshguard.xds.model.Route>> routesByVersion,
            Set<String> copied,
            io.meshguard.xds.model.Route r) {
        String key = r.api() + "\u0000" + r.version();
        List<io.meshguard.xds.model.Route> list = routesByVersion.get(key);
        if (list == null || r.product().isPresent()) {
            return null;
        }
        if (copied.add(key)) {
            list = new ArrayList<>(list);
            routesByVersion.put(key, list);
        }
        return list;
    }

    private static boolean removeInstance(List<io.meshguard.xds.model.Route> list, io.meshguard.xds.model.Route r) {
        for (int i = 0; i < list.size(); i++) {
            if (list.get(i) == r) {
                list.remove(i);
                return true;
            }
        }
        return false;
    }

    /**
     * The routes of one build that are not the instances of the build before ({@code added}) and the other way round
     * ({@code removed}), where {@link ChangedPlaces} finds them: place by place for an edit in place, else the span
     * between the same-instance start and end, less the routes that are in it on both sides (they only moved).
     */
    private record RouteChanges(List<io.meshguard.xds.model.Route> removed, List<io.meshguard.xds.model.Route> added) {
        boolean none() {
            return removed.isEmpty() && added.isEmpty();
        }

        static RouteChanges between(List<io.meshguard.xds.model.Route> before, List<io.meshguard.xds.model.Route> now) {
            List<io.meshguard.xds.model.Route> removed = new ArrayList<>();
            List<io.meshguard.xds.model.Route> added = new ArrayList<>();
            for (ChangedPlaces.Span span : ChangedPlaces.between(before, now)) {
                removed.addAll(before.subList(span.beforeFrom(), span.beforeTo()));
                added.addAll(now.subList(span.nowFrom(), span.nowTo()));
            }
            if (before.size() != now.size()) {
                Set<io.meshguard.xds.model.Route> was =
                        java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
                was.addAll(removed);
                Set<io.meshguard.xds.model.Route> is =
                        java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
                is.addAll(added);
                removed.removeIf(is::contains);
                added.removeIf(was::contains);
            }
            return new RouteChanges(removed, added);
        }
    }

    /** Every part of the group built from its objects (each taken from the remembered parts when built before). */
    private Built wholeBuild(
            GatewayGroup group,
            List<io.meshguard.xds.model.Route> groupRoutes,
            List<Api> groupApis,
            List<Upstream> groupUpstreams) {
        String groupName = group.name();
        // a product publish's routes are served on its own host only, never on the API's
        Map<String, List<io.meshguard.xds.model.Route>> routesByVersion = new java.util.HashMap<>();
        Map<String, Map<String, List<io.meshguard.xds.model.Route>>> productRoutesByHost = new TreeMap<>();
        for (io.meshguard.xds.model.Route r : groupRoutes) {
            String key = r.api() + "\u0000" + r.version();
            Map<String, List<io.meshguard.xds.model.Route>> into = r.product()
                    .map(p -> productRoutesByHost.computeIfAbsent(p.host(), h -> new java.util.HashMap<>()))
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
            listeners.add(remembered(
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
                routeConfiguration(
                        EnvoyNames.envoyRoutes(group.listenerPort()),
                        routesByVersion,
                        apisByHost,
                        productHosts,
                        new UpstreamHosts(group, hostnameUpstreams, hostLiterals),
                        true),
                // Product hosts are Envoy's only: the route's context extensions are what names the product publish
                // to extauthz, and a proxyless client's ext_authz filter sends none (routes carry no per-route
                // check settings there), so its subscription could not be checked: no listener is the closed answer.
                routeConfiguration(
                        EnvoyNames.PROXYLESS_ROUTES,
                        routesByVersion,
                        apisByHost,
                        Map.of(),
                        new UpstreamHosts(null, Set.of(), Map.of()),
                        false));

        clusters.addAll(ownClusters);
        endpoints.add(CLOSED_ASSIGNMENT);
        return new Built(
                group,
                groupRoutes,
                groupApis,
                groupUpstreams,
                routesByVersion,
                tables,
                new GroupResources(
                        groupName,
                        sorted(listeners, Listener::getName),
                        sortedTables(tables),
                        sorted(clusters, Cluster::getName),
                        sorted(endpoints, ClusterLoadAssignment::getClusterName)));
    }

    private static List<RouteConfiguration> sortedTables(List<Table> tables) {
        return sorted(tables.stream().map(Table::built).toList(), RouteConfiguration::getName);
    }

    /** The APIs served on one product publish's host and the routes its operations compiled to. */
    private record ProductHost(List<Api> apis, Map<String, List<io.meshguard.xds.model.Route>> routesByVersion) {}

    private static boolean servesOwnRoutes(Map<String, List<io.meshguard.xds.model.Route>> routesByVersion, Api api) {
        return api.versions().stream().anyMatch(v -> routesByVersion.containsKey(api.name() + "\u0000" + v.version()));
    }

    private static <T> List<T> sorted(List<T> list, java.util.function.Function<T, String> name) {
        return list.stream().sorted(Comparator.comparing(name)).toList();
    }

    // ---------------------------------------------------------------- LDS

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
        hcm.addHttpFilters(router());
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

    static HttpFilter router() {
        return HttpFilter.newBuilder()
                .setName(EnvoyNames.ROUTER_FILTER)
                .setTypedConfig(Any.pack(Router.getDefaultInstance()))
                .build();
    }

    // ---------------------------------------------------------------- RDS

    /**
     * What a table's routes take from the group beyond their API and route: its CORS policies ({@code group}; none for
     * proxyless clients), which upstreams are DNS names (auto host rewrite) and the {@code host} of IP-literal ones.
     */
    private record UpstreamHosts(GatewayGroup group, Set<String> hostnameUpstreams, Map<String, String> hostLiterals) {
        CorsPolicies cors() {
            return group == null ? CorsPolicies.NONE : new CorsPolicies(group);
        }

        boolean rewritesHost(io.meshguard.xds.model.Route r) {
            return !hostnameUpstreams.isEmpty()
                    && r.destinations().stream()
                            .anyMatch(d -> d.weight() > 0 && hostnameUpstreams.contains(d.upstream()));
        }

        /**
         * Envoy only: a route whose live destinations are all upstreams with the same {@code host} sends that Host
         * ({@code host_rewrite_literal}, replacing any {@code auto_host_rewrite}; the client's Host goes to
         * {@code x-forwarded-host}). This is how an IP-literal (EDS) upstream in the mesh is reached through the
         * gateway's sidecar as its Service (review R4-06, {@code docs/gateway-envoy-config.md}, "IP-literal
         * upstreams"). Destinations that disagree get no literal.
         */
        Optional<String> hostLiteral(io.meshguard.xds.model.Route r) {
            String literal = null;
            for (io.meshguard.xds.model.Route.Destination d : r.destinations()) {
                if (d.weight() <= 0) {
                    continue;
                }
                String host = hostLiterals.get(d.upstream());
                if (host == null || host.isEmpty() || (literal != null && !literal.equals(host))) {
                    return Optional.empty();
                }
                literal = host;
            }
            return Optional.ofNullable(literal);
        }
    }

    private Table routeConfiguration(
            String name,
            Map<String, List<io.meshguard.xds.model.Route>> routesByVersion,
            Map<String, List<Api>> apisByHost,
            Map<String, ProductHost> productHosts,
            UpstreamHosts upstreams,
            boolean forEnvoy) {
        // hostnames serving the same APIs share one virtual host
        Map<String, List<String>> hostsByApiSet = new LinkedHashMap<>();
        Map<String, List<Api>> apisOfKey = new LinkedHashMap<>();
        apisByHost.forEach((host, apis) -> {
            String key = apis.stream().map(Api::name).toList().toString();
            hostsByApiSet.computeIfAbsent(key, k -> new ArrayList<>()).add(host);
            apisOfKey.put(key, apis);
        });
        RouteConfiguration.Builder rc = RouteConfiguration.newBuilder().setName(name);
        if (forEnvoy) {
            // only our own routes decide; a host none names gets the catch-all's 404 (unservedHost)
            rc.setValidateClusters(BoolValue.of(true));
        }
        CorsPolicies cors = upstreams.cors();
        List<HostSlot> slots = new ArrayList<>();
        hostsByApiSet.forEach((key, hosts) -> {
            List<Api> apis = apisOfKey.get(key);
            slots.add(new HostSlot(rc.getVirtualHostsCount(), List.copyOf(hosts), apis));
            rc.addVirtualHosts(virtualHost(hosts, apis, routesByVersion, cors, upstreams, forEnvoy));
        });
        productHosts.forEach((host, p) -> rc.addVirtualHosts(
                virtualHost(List.of(host), p.apis(), p.routesByVersion(), cors, upstreams, forEnvoy)));
        if (forEnvoy) {
            rc.addVirtualHosts(readinessHost());
            rc.addVirtualHosts(unservedHost());
        }
        return new Table(rc.build(), List.copyOf(slots), upstreams, forEnvoy);
    }

    /**
     * The gateway's readiness answer, inside the route table it proves delivered. Envoy finishes listener
     * warming when the first RDS response fails or times out too (initial_fetch_timeout), and then serves the listener
     * with an empty route table: every request 404 NR. The bootstrap's {@code /ready} is forwarded here, so a gateway
     * whose first route table was NACKed stays unready instead of answering 404. ext_authz and ext_proc are off: a
     * probe must not depend on extauthz or the DLP server, nor write an api_call row.
     */
    static VirtualHost readinessHost() {
        return VirtualHost.newBuilder()
                .setName(EnvoyNames.READINESS_HOST)
                .addDomains(EnvoyNames.READINESS_HOST)
                .addRoutes(Route.newBuilder()
                        .setName(EnvoyNames.READINESS_HOST + ".ready")
                        .setMatch(RouteMatch.newBuilder().setPath(EnvoyNames.READINESS_PATH))
                        .setDirectResponse(DirectResponseAction.newBuilder()
                                .setStatus(200)
                                .setBody(DataSource.newBuilder().setInlineString("routes delivered\n")))
                        .putTypedPerFilterConfig(
                                EnvoyNames.EXT_AUTHZ_FILTER,
                                Any.pack(ExtAuthzPerRoute.newBuilder()
                                        .setDisabled(true)
                                        .build()))
                        .putTypedPerFilterConfig(
                                EnvoyNames.EXT_PROC_FILTER,
                                Any.pack(ExtProcPerRoute.newBuilder()
                                        .setDisabled(true)
                                        .build())))
                .addRoutes(notFoundRoute(EnvoyNames.READINESS_HOST))
                .build();
    }

    /**
     * Every host no virtual host names: 404 {@code not_found}, as a served host's unknown path. Without it Envoy's
     * router answers 404 only after the listener's filters ran with no route: ext_authz Checks a request that cannot
     * reach anything and the DLP server, given no route's profile, fails the stream closed, so a scanner's stray Host
     * got 500. Envoy searches exact domains, then suffix and prefix wildcards, and the special wildcard {@code *}
     * last ("Domain search order", {@code VirtualHost.domains} in route_components.proto), so it never takes a
     * served host's request.
     */
    static VirtualHost unservedHost() {
        return VirtualHost.newBuilder()
                .setName(EnvoyNames.UNSERVED_HOST)
                .addDomains("*")
                .addRoutes(notFoundRoute(EnvoyNames.UNSERVED_HOST))
                .build();
    }

    /**
     * A virtual host: the one built before from the same instances when the draft's objects are the ones read before
     * ({@link GatewayConfig#reusing}), found without hashing or comparing a route, else built (each route from the
     * ones remembered by their inputs' equality).
     */
    private VirtualHost virtualHost(
            List<String> hosts,
            List<Api> apis,
            Map<String, List<io.meshguard.xds.model.Route>> routesByVersion,
            CorsPolicies cors,
            UpstreamHosts upstreams,
            boolean forEnvoy) {
        VirtualHostInputs inputs = VirtualHostInputs.of(hosts, apis, routesByVersion, upstreams, forEnvoy);
        return remembered(builtHosts, inputs, () -> buildVirtualHost(inputs, apis, routesByVersion, cors, upstreams));
    }

    private VirtualHost buildVirtualHost(
            VirtualHostInputs inputs,
            List<Api> apis,
            Map<String, List<io.meshguard.xds.model.Route>> routesByVersion,
            CorsPolicies cors,
            UpstreamHosts upstreams) {
        VIRTUAL_HOSTS_BUILT.incrementAndGet();
        List<String> hosts = inputs.hosts();
        boolean forEnvoy = inputs.forEnvoy();
        VirtualHost.Builder vh = VirtualHost.newBuilder().setName(hosts.get(0));
        for (String host : hosts) {
            vh.addDomains(host);
            vh.addDomains(host + ":*");
        }
        cors.virtualHostPolicy().ifPresent(p -> vh.putTypedPerFilterConfig(EnvoyNames.CORS_FILTER, p));
        // preflights before anything: they match whatever method the API's routes want
        for (Api api : apis) {
            cors.preflightRoute(api).ifPresent(vh::addRoutes);
        }
        // versioned paths first: the default version's unversioned prefixes would otherwise swallow them
        for (Api api : apis) {
            for (Api.ApiVersion v : api.versions()) {
                vh.addAllRoutes(cors.decorate(api, versionRoutes(routesByVersion, api, v, true, upstreams, forEnvoy)));
            }
        }
        for (Api api : apis) {
            api.version(api.defaultVersion())
                    .ifPresent(v -> vh.addAllRoutes(
                            cors.decorate(api, versionRoutes(routesByVersion, api, v, false, upstreams, forEnvoy))));
        }
        if (forEnvoy) {
            vh.addRoutes(notFoundRoute(hosts.get(0)));
        }
        return vh.build();
    }

    private List<Route> versionRoutes(
            Map<String, List<io.meshguard.xds.model.Route>> routesByVersion,
            Api api,
            Api.ApiVersion v,
            boolean versioned,
            UpstreamHosts upstreams,
            boolean forEnvoy) {
        String root = versioned ? api.basePath() + "/" + v.version() : api.basePath();
        String idBase = api.name() + "." + v.version() + (versioned ? "" : ".default");
        List<Route> out = new ArrayList<>();
        switch (v.status()) {
            case SUNSET -> out.addAll(closedVersion(api, v, root, idBase, 410, forEnvoy));
            case RETIRED -> out.addAll(closedVersion(api, v, root, idBase, 404, forEnvoy));
            case ACTIVE, DEPRECATED -> {
                List<io.meshguard.xds.model.Route> routes =
                        routesByVersion.getOrDefault(api.name() + "\u0000" + v.version(), List.of()).stream()
                                .sorted(ROUTE_ORDER)
                                .toList();
                for (io.meshguard.xds.model.Route r : routes) {
                    out.add(route(api, v, r, root, idBase, upstreams, forEnvoy));
                }
            }
        }
        return out;
    }

    /** Exact paths first, then longer prefixes, then regexes; ties keep the stored order. */
    private static final Comparator<io.meshguard.xds.model.Route> ROUTE_ORDER = Comparator.comparingInt(
                    (io.meshguard.xds.model.Route r) -> r.match().pathExact().isPresent()
                            ? 0
                            : r.match().pathPrefix().isPresent() ? 1 : 2)
            .thenComparingInt(r -> -r.match().pathPrefix().map(String::length).orElse(0))
            .thenComparingInt(
                    r -> r.match().methods().isEmpty() && r.match().headers().isEmpty() ? 1 : 0)
            // a total order: the same configuration renders the same routes whatever order its list came in
            .thenComparing(io.meshguard.xds.model.Route::name);

    /** Everything a built route is a function of (see {@link #route}). */
    private record RouteInputs(
            Api api,
            Api.ApiVersion v,
            io.meshguard.xds.model.Route r,
            String root,
            String idBase,
            boolean rewritesHost,
            Optional<String> hostLiteral,
            boolean forEnvoy) {}

    /** Everything a built virtual host is a function of (see {@link #virtualHost}). */
    private record VirtualHostInputs(
            List<String> hosts, boolean forEnvoy, SameObjects models, List<Object> upstreamFacts) {

        /** The group, the APIs and their routes by identity; hostnames and the routes' upstream facts by value. */
        static VirtualHostInputs of(
                List<String> hosts,
                List<Api> apis,
                Map<String, List<io.meshguard.xds.model.Route>> routesByVersion,
                UpstreamHosts upstreams,
                boolean forEnvoy) {
            List<Object> same = new ArrayList<>();
            List<Object> upstreamFacts = new ArrayList<>();
            same.add(upstreams.group());
            for (Api api : apis) {
                same.add(api);
                for (Api.ApiVersion v : api.versions()) {
                    for (io.meshguard.xds.model.Route r :
                            routesByVersion.getOrDefault(api.name() + "\u0000" + v.version(), List.of())) {
                        same.add(r);
                        if (forEnvoy) {
                            upstreamFacts.add(upstreams.rewritesHost(r));
                            upstreamFacts.add(upstreams.hostLiteral(r));
                        }
                    }
                }
            }
            return new VirtualHostInputs(hosts, forEnvoy, new SameObjects(same.toArray()), upstreamFacts);
        }
    }

    /** The configuration's objects a virtual host is built from, equal when they are the same instances. */
    private static final class SameObjects {
        private final Object[] objects;
        private final int hash;

        SameObjects(Object[] objects) {
            this.objects = objects;
            int h = 1;
            for (Object o : objects) {
                h = 31 * h + System.identityHashCode(o);
            }
            this.hash = h;
        }

        @Override
        public boolean equals(Object o) {
            if (!(o instanceof SameObjects other) || other.objects.length != objects.length || other.hash != hash) {
                return false;
            }
            for (int i = 0; i < objects.length; i++) {
                if (objects[i] != other.objects[i]) {
                    return false;
                }
            }
            return true;
        }

        @Override
        public int hashCode() {
            return hash;
        }
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
        return remembered(builtHosts, new SameObjects(new Object[] {UpstreamParts.class, u, group}), () -> {
            UpstreamInputs inputs = new UpstreamInputs(u, group);
            Upstream.Discovery discovery = u.discovery();
            return new UpstreamParts(
                    remembered(inputs, () -> UpstreamClusters.cluster(u, group)),
                    remembered(new UpstreamInputs.Assignment(inputs), () -> UpstreamClusters.edsAssignment(u, group)),
                    discovery == Upstream.Discovery.LOGICAL_DNS || discovery == Upstream.Discovery.STRICT_DNS);
        });
    }

    /** Everything a proxyless client's listener for one host is a function of (see {@link #proxylessListener}). */
    private record ProxylessListenerInputs(
            String host, String group, GatewayGroup.ProxylessAuthz authz, FilterTargets targets) {}

    /**
     * How many built virtual hosts, routes, clusters and load assignments are kept for reuse. Every draft change
     * validates the whole draft (a build with the default filter targets), every publish builds what it serves, and
     * the next publish again; each of these depends on its inputs only, so an unchanged one is taken from here, and
     * equal inputs give the same instance, whose checks ({@code EnvoyLoadCheck}) and hash protobuf memoizes (issue
     * 48). Virtual hosts are found by the identity of the objects they are built from (a draft read again keeps the
     * unchanged ones' instances), routes and the rest by their inputs' equality. Bounded by entries, least recently
     * used out.
     */
    static final int REMEMBERED_PARTS = 65_536;

    /** Groups whose last build a builder keeps to start the next one from, least recently built out. */
    static final int REMEMBERED_GROUPS = 1_024;

    /** The parts every builder of this process shares (validation and publish build the same ones). */
    private static final Map<Object, Object> SHARED_PARTS = rememberedParts();

    /** Routes built anew (not taken from the remembered ones), for what a change costs. */
    private static final java.util.concurrent.atomic.AtomicLong ROUTES_BUILT =
            new java.util.concurrent.atomic.AtomicLong();

    /** Virtual hosts built anew (not the instances built before). */
    private static final java.util.concurrent.atomic.AtomicLong VIRTUAL_HOSTS_BUILT =
            new java.util.concurrent.atomic.AtomicLong();

    private static Map<Object, Object> rememberedParts() {
        return new LinkedHashMap<>(1024, 0.75f, true) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<Object, Object> eldest) {
                return size() > REMEMBERED_PARTS;
            }
        };
    }

    /** What {@code build} made from equal {@code inputs} before, or what it makes now (then remembered). */
    @SuppressWarnings("unchecked") // each inputs record type maps to one output type
    private <T> T remembered(Object inputs, java.util.function.Supplier<T> build) {
        return remembered(builtParts, inputs, build);
    }

    @SuppressWarnings("unchecked") // each inputs record type maps to one output type
    private static <T> T remembered(Map<Object, Object> parts, Object inputs, java.util.function.Supplier<T> build) {
        synchronized (parts) {
            Object known = parts.get(inputs);
            if (known != null) {
                return (T) known;
            }
        }
        T built = build.get();
        synchronized (parts) {
            parts.put(inputs, built);
        }
        return built;
    }

    /** A builder that remembers nothing built before: every route built from its inputs (a from-scratch build). */
    public static SnapshotBuilder fresh(FilterTargets targets) {
        Map<Object, Object> own = rememberedParts();
        return new SnapshotBuilder(targets, own, own);
    }

    /**
     * A builder for one build of a configuration that arrived whole (new instances, never seen again): it shares the
     * routes and clusters remembered by their content, but keeps the virtual hosts it builds, remembered by the
     * identity of their objects, to itself, so they leave with it instead of pushing out the draft's.
     */
    public static SnapshotBuilder forOneOff(FilterTargets targets) {
        return new SnapshotBuilder(targets, SHARED_PARTS, new java.util.HashMap<>());
    }

    /** The number of routes built anew so far by every builder (monotonic; compare two readings). */
    public static long routesBuilt() {
        return ROUTES_BUILT.get();
    }

    /** The number of virtual hosts built anew so far by every builder (monotonic; compare two readings). */
    public static long virtualHostsBuilt() {
        return VIRTUAL_HOSTS_BUILT.get();
    }

    private Route route(
            Api api,
            Api.ApiVersion v,
            io.meshguard.xds.model.Route r,
            String root,
            String idBase,
            UpstreamHosts upstreams,
            boolean forEnvoy) {
        boolean rewritesHost = forEnvoy && upstreams.rewritesHost(r);
        Optional<String> hostLiteral = forEnvoy ? upstreams.hostLiteral(r) : Optional.empty();
        return remembered(new RouteInputs(api, v, r, root, idBase, rewritesHost, hostLiteral, forEnvoy), () -> {
            ROUTES_BUILT.incrementAndGet();
            return buildRoute(api, v, r, root, idBase, rewritesHost, hostLiteral, forEnvoy);
        });
    }

    private Route buildRoute(
            Api api,
            Api.ApiVersion v,
            io.meshguard.xds.model.Route r,
            String root,
            String idBase,
            boolean rewritesHost,
            Optional<String> hostLiteral,
            boolean forEnvoy) {
        Route.Builder b =
                Route.newBuilder().setName(idBase + "." + r.name()).setMatch(match(r.match(), root, forEnvoy));
        RouteAction.Builder action = RouteAction.newBuilder();
        List<io.meshguard.xds.model.Route.Destination> live =
                r.destinations().stream().filter(d -> d.weight() > 0).toList();
        if (live.size() == 1) {
            action.setCluster(live.get(0).upstream());
        } else {
            WeightedCluster.Builder wc = WeightedCluster.newBuilder();
            for (var d : live) {
                wc.addClusters(WeightedCluster.ClusterWeight.newBuilder()
                        .setName(d.upstream())
                        .setWeight(UInt32Value.of(d.weight())));
            }
            action.setWeightedClusters(wc);
        }
        RouteTimeouts.apply(action, r);
        if (rewritesHost) {
            // The upstream sees its own name as Host, the client's in x-forwarded-host. In Kubernetes the gateway's
            // sidecar routes outbound HTTP by Host: the client's (api.bank.example) names no Service, falls to
            // PassthroughCluster in plaintext and a STRICT workload resets it (istio/istio
            // pilot/pkg/networking/core/httproute.go, buildCatchAllVirtualHost); and the workload's own Check must
            // see the Service host its rules name (policies/authz.yaml, ledger-postings). auto_host_rewrite takes the
            // DNS cluster's endpoint name (no port) and leaves hosts without a hostname (EDS IPs) alone
            // (envoyproxy/envoy api/envoy/config/route/v3/route_components.proto; source/common/router/router.cc,
            // Http::Utility::updateAuthority appends the old Host to x-forwarded-host).
            action.setAutoHostRewrite(BoolValue.of(true)).setAppendXForwardedHost(true);
        }
        // replaces auto_host_rewrite (RouteAction.host_rewrite_specifier is a oneof, route_components.proto); the
        // x-forwarded-host removal below runs first (RouteEntryImplBase::finalizeRequestHeaders), so the upstream's
        // x-forwarded-host holds exactly the client's Host, as for auto_host_rewrite
        hostLiteral.ifPresent(h -> action.setHostRewriteLiteral(h).setAppendXForwardedHost(true));
        r.retry().ifPresent(retry -> {
            RetryPolicy.Builder rp = RetryPolicy.newBuilder()
                    .setRetryOn(retry.retryOn())
                    .setNumRetries(UInt32Value.of(retry.attempts()))
                    .setRetryBackOff(RetryPolicy.RetryBackOff.newBuilder()
                            .setBaseInterval(duration(retry.backoffBaseMs()))
                            .setMaxInterval(duration(retry.backoffMaxMs())));
            retry.perTryTimeoutMs().ifPresent(t -> rp.setPerTryTimeout(duration(t)));
            action.setRetryPolicy(rp);
        });
        b.setRoute(action);
        if (forEnvoy) {
            for (var h : r.requestHeadersToAdd()) {
                b.addRequestHeadersToAdd(overwrite(h.name(), h.value()));
            }
            b.addAllRequestHeadersToRemove(r.requestHeadersToRemove());
            if ((rewritesHost || hostLiteral.isPresent())
                    && !r.requestHeadersToRemove().contains(X_FORWARDED_HOST)) {
                // A client-sent x-forwarded-host would come first in the list the rewrite appends to, and an
                // upstream reading the first element would trust it. Route header removal runs in the router's
                // decodeHeaders (finalizeRequestHeaders), the rewrite later in UpstreamRequest::onPoolReady
                // (source/common/router/upstream_request.cc), so the upstream sees exactly the client's Host.
                b.addRequestHeadersToRemove(X_FORWARDED_HOST);
            }
            for (var h : r.responseHeadersToAdd()) {
                b.addResponseHeadersToAdd(overwrite(h.name(), h.value()));
            }
            if (r.streaming()) {
                b.addAllResponseHeadersToAdd(RouteTimeouts.streamingResponseHeaders(r));
            }
            if (v.status() == Api.Status.DEPRECATED) {
                b.addAllResponseHeadersToAdd(lifecycleHeaders(api, v));
            }
            b.setMetadata(usageMetadata(api, v, r.name(), true));
            b.putTypedPerFilterConfig(
                    EnvoyNames.EXT_AUTHZ_FILTER,
                    Any.pack(ExtAuthzPerRoute.newBuilder()
                            .setCheckSettings(CheckSettings.newBuilder()
                                    .putAllContextExtensions(RouteContractValues.authzContext(api, v, r)))
                            .build()));
            b.putTypedPerFilterConfig(
                    EnvoyNames.EXT_PROC_FILTER,
                    Any.pack(ExtProcPerRoute.newBuilder()
                            .setOverrides(ExtProcOverrides.newBuilder()
                                    .addAllGrpcInitialMetadata(
                                            RouteContractValues.dlpMetadata(api, v, r).entrySet().stream()
                                                    .map(e -> metadata(e.getKey(), e.getValue()))
                                                    .toList()))
                            .build()));
        }
        return b.build();
    }

    /**
     * The route's identity for the gateway's access log (docs/route-contract.md, {@code AccessLogTags}): the
     * access logger copies each key into {@code custom_tags}, so usage per API version needs no parsing of
     * Envoy's route names.
     */
    private static Metadata usageMetadata(Api api, Api.ApiVersion v, String gatewayRoute, boolean authzChecked) {
        Struct.Builder fields = Struct.newBuilder()
                .putFields(RouteContract.AccessLogTags.API, text(api.name()))
                .putFields(RouteContract.AccessLogTags.API_VERSION, text(v.version()))
                .putFields(RouteContract.AccessLogTags.GATEWAY_ROUTE, text(gatewayRoute))
                .putFields(
                        RouteContract.AccessLogTags.LIFECYCLE,
                        text(v.status().name().toLowerCase(Locale.ROOT)))
                .putFields(
                        RouteContract.AccessLogTags.AUTHZ,
                        text(
                                authzChecked
                                        ? RouteContract.AccessLogTags.AUTHZ_CHECKED
                                        : RouteContract.AccessLogTags.AUTHZ_NONE));
        v.sunsetAt().ifPresent(t -> fields.putFields(RouteContract.AccessLogTags.SUNSET, text(t.toString())));
        return Metadata.newBuilder()
                .putFilterMetadata(RouteContract.AccessLogTags.METADATA_NAMESPACE, fields.build())
                .build();
    }

    private static Value text(String s) {
        return Value.newBuilder().setStringValue(s).build();
    }

    private static HeaderValue metadata(String key, String value) {
        return HeaderValue.newBuilder().setKey(key).setValue(value).build();
    }

    /**
     * The last route of every Envoy virtual host: a canned 404 with ext_authz and ext_proc off. Without it an unrouted
     * path still runs the decoder filters before the router's 404 (envoyproxy/envoy source/common/router/router.cc):
     * ext_authz skips its Check (no route, ext_authz.cc getPerRouteFlags) but ext_proc opens a DLP stream without a
     * profile and the DLP server writes an api_call row, so a scan of random paths became DLP and PostgreSQL work.
     */
    private static Route notFoundRoute(String virtualHost) {
        return Route.newBuilder()
                .setName(virtualHost + ".not-found")
                .setMatch(RouteMatch.newBuilder().setPrefix("/"))
                .setDirectResponse(DirectResponseAction.newBuilder()
                        .setStatus(404)
                        .setBody(DataSource.newBuilder().setInlineString("{\"error\":\"not_found\"}")))
                .addResponseHeadersToAdd(overwrite("content-type", "application/json"))
                .putTypedPerFilterConfig(
                        EnvoyNames.EXT_AUTHZ_FILTER,
                        Any.pack(ExtAuthzPerRoute.newBuilder().setDisabled(true).build()))
                .putTypedPerFilterConfig(
                        EnvoyNames.EXT_PROC_FILTER,
                        Any.pack(ExtProcPerRoute.newBuilder().setDisabled(true).build()))
                .build();
    }

    /** 410 for a sunset version, 404 for a retired one, as a JSON body that names the successor. */
    private List<Route> closedVersion(
            Api api, Api.ApiVersion v, String root, String idBase, int status, boolean forEnvoy) {
        StringBuilder body = new StringBuilder("{\"error\":\"")
                .append(status == 410 ? "api_version_sunset" : "not_found")
                .append("\",\"api\":\"")
                .append(api.name())
                .append("\",\"version\":\"")
                .append(v.version())
                .append('"');
        if (status == 410) {
            v.sunsetAt().ifPresent(s -> body.append(",\"sunset\":\"").append(s).append('"'));
            v.successor().ifPresent(s -> body.append(",\"successor\":\"")
                    .append(api.basePath())
                    .append('/')
                    .append(s)
                    .append('"'));
        }
        body.append('}');
        DirectResponseAction direct = DirectResponseAction.newBuilder()
                .setStatus(status)
                .setBody(DataSource.newBuilder().setInlineString(body.toString()))
                .build();
        List<Route> out = new ArrayList<>();
        RouteMatch exact =
                RouteMatch.newBuilder().setPath(root.isEmpty() ? "/" : root).build();
        RouteMatch below = RouteMatch.newBuilder().setPrefix(root + "/").build();
        for (RouteMatch m : List.of(exact, below)) {
            Route.Builder b = Route.newBuilder()
                    .setName(idBase + (m == exact ? ".closed-root" : ".closed"))
                    .setMatch(m);
            if (!forEnvoy) {
                // gRPC maps the HTTP status with its standard table (410 → UNKNOWN, 404 → UNIMPLEMENTED)
                b.setRoute(RouteAction.newBuilder().setCluster(EnvoyNames.CLOSED_CLUSTER));
                b.putTypedPerFilterConfig(
                        EnvoyNames.FAULT_FILTER,
                        Any.pack(HTTPFault.newBuilder()
                                .setAbort(FaultAbort.newBuilder()
                                        .setHttpStatus(status)
                                        .setPercentage(FractionalPercent.newBuilder()
                                                .setNumerator(100)
                                                .setDenominator(FractionalPercent.DenominatorType.HUNDRED)))
                                .build()));
            } else {
                b.setDirectResponse(direct);
                b.setMetadata(usageMetadata(api, v, RouteContract.AccessLogTags.CLOSED_ROUTE, false));
                b.addResponseHeadersToAdd(overwrite("content-type", "application/json"));
                if (status == 410) {
                    b.addAllResponseHeadersToAdd(lifecycleHeaders(api, v));
                }
                // a canned answer reaches no upstream: nothing to authorize or scan, and the authz server (which
                // denies routes it does not know) would turn the 410/404 into a 403
                b.putTypedPerFilterConfig(
                        EnvoyNames.EXT_AUTHZ_FILTER,
                        Any.pack(ExtAuthzPerRoute.newBuilder().setDisabled(true).build()));
                b.putTypedPerFilterConfig(
                        EnvoyNames.EXT_PROC_FILTER,
                        Any.pack(ExtProcPerRoute.newBuilder().setDisabled(true).build()));
            }
            out.add(b.build());
        }
        return out;
    }

    /** RFC 9745 Deprecation, RFC 8594 Sunset and the successor-version Link. */
    private static List<HeaderValueOption> lifecycleHeaders(Api api, Api.ApiVersion v) {
        List<HeaderValueOption> h = new ArrayList<>();
        v.deprecatedAt().ifPresent(t -> h.add(overwrite("deprecation", "@" + t.getEpochSecond())));
        v.sunsetAt().ifPresent(t -> h.add(overwrite("sunset", HTTP_DATE.format(t))));
        v.successor()
                .ifPresent(
                        s -> h.add(overwrite("link", "<" + api.basePath() + "/" + s + ">; rel=\"successor-version\"")));
        return h;
    }

    /**
     * A prefix match that stops at a segment boundary: {@code /transfers} must not also route
     * {@code /transfersAdmin} under the transfers route's authorisation and DLP profile. Envoy's
     * {@code path_separated_prefix} matches the path without its query when it equals the prefix or continues with
     * {@code /}; the value may contain no {@code ?} or {@code #} and must not end in {@code /} (envoyproxy/envoy
     * {@code api/envoy/config/route/v3/route_components.proto}, {@code RouteMatch.path_separated_prefix}, pattern
     * {@code ^[^?#]+[^?#/]$}; {@code PathSeparatedPrefixRouteEntryImpl} in {@code source/common/router/config_impl.cc}).
     * A prefix ending in {@code /} (and the root) is already segment-aware and stays a plain {@code prefix}.
     */
    static RouteMatch.Builder pathPrefix(RouteMatch.Builder b, String prefix) {
        if (prefix.isEmpty() || prefix.endsWith("/")) {
            return b.setPrefix(prefix.isEmpty() ? "/" : prefix);
        }
        return b.setPathSeparatedPrefix(prefix);
    }

    /**
     * The proxyless form of {@link #pathPrefix}: grpc-java's xDS client knows {@code prefix}, {@code path} and
     * {@code safe_regex} only (XdsRouteConfigureResource, "Unknown path match type"; grpc-js the same,
     * route-config-resource-type.ts {@code SUPPORTED_PATH_SPECIFIERS}), so a prefix that does not end in {@code /}
     * becomes the regex of the prefix quoted (RE2 {@code QuoteMeta}) followed by {@code (/.*)?}: {@code /pkg.Greeter}
     * must not also route {@code /pkg.GreeterAdmin/…} (review 4, R4-12). Both clients match it against the whole path
     * (RE2J, re2-wasm).
     */
    static RouteMatch.Builder proxylessPrefix(RouteMatch.Builder b, String prefix) {
        if (prefix.isEmpty() || prefix.endsWith("/")) {
            return b.setPrefix(prefix.isEmpty() ? "/" : prefix);
        }
        return b.setSafeRegex(RegexMatcher.newBuilder().setRegex(com.google.re2j.Pattern.quote(prefix) + "(/.*)?"));
    }

    private static RouteMatch match(io.meshguard.xds.model.Route.Match m, String root, boolean forEnvoy) {
        RouteMatch.Builder b = RouteMatch.newBuilder();
        if (m.pathExact().isPresent()) {
            String p = root + m.pathExact().get();
            b.setPath(p.isEmpty() ? "/" : p);
        } else if (m.pathPrefix().isPresent()) {
            String p = root + m.pathPrefix().get();
            if (forEnvoy) {
                pathPrefix(b, p);
            } else {
                proxylessPrefix(b, p);
            }
        } else {
            String regex = m.pathRegex().orElseThrow();
            String anchored = regex.startsWith("^") ? regex.substring(1) : regex;
            b.setSafeRegex(RegexMatcher.newBuilder().setRegex(com.google.re2j.Pattern.quote(root) + anchored));
        }
        if (!m.methods().isEmpty()) {
            TreeSet<String> methods = new TreeSet<>(m.methods());
            StringMatcher sm = methods.size() == 1
                    ? StringMatcher.newBuilder().setExact(methods.first()).build()
                    : StringMatcher.newBuilder()
                            .setSafeRegex(RegexMatcher.newBuilder().setRegex(String.join("|", methods)))
                            .build();
            b.addHeaders(HeaderMatcher.newBuilder().setName(":method").setStringMatch(sm));
        }
        for (var h : m.headers()) {
            HeaderMatcher.Builder hm = HeaderMatcher.newBuilder().setName(h.name());
            if (h.exact().isPresent()) {
                hm.setStringMatch(StringMatcher.newBuilder().setExact(h.exact().get()));
            } else if (h.prefix().isPresent()) {
                hm.setStringMatch(
                        StringMatcher.newBuilder().setPrefix(h.prefix().get()));
            } else if (h.regex().isPresent()) {
                hm.setStringMatch(StringMatcher.newBuilder()
                        .setSafeRegex(
                                RegexMatcher.newBuilder().setRegex(h.regex().get())));
            } else {
                hm.setPresentMatch(true);
            }
            b.addHeaders(hm);
        }
        return b.build();
    }

    /**
     * A header set to the literal {@code value}: Envoy parses header values as format strings
     * ({@code SubstitutionFormatParser}), so every {@code %} is written {@code %%} or the route table is refused.
     */
    private static HeaderValueOption overwrite(String name, String value) {
        return HeaderValueOption.newBuilder()
                .setHeader(HeaderValue.newBuilder().setKey(name).setValue(HeaderFormat.literal(value)))
                .setAppendAction(HeaderValueOption.HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD)
                .build();
    }
}
