package io.meshguard.xds.snapshot;

import static io.meshguard.xds.snapshot.XdsProtos.duration;

import com.google.protobuf.Any;
import com.google.protobuf.BoolValue;
import com.google.protobuf.Struct;
import com.google.protobuf.UInt32Value;
import com.google.protobuf.Value;
import com.google.re2j.Pattern;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.config.core.v3.Metadata;
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
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExtProcOverrides;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExtProcPerRoute;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.FaultAbort;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatcher;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.envoyproxy.envoy.type.v3.FractionalPercent;
import io.meshguard.contract.RouteContract;
import io.meshguard.envoy.validation.HeaderFormat;
import io.meshguard.xds.model.Api;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayGroup;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The RDS part of a group's translation: its route tables, Envoy's and the proxyless clients', each a virtual host
 * per set of hostnames serving the same APIs with their versioned and default-version routes, lifecycle headers,
 * 410 / 404 direct responses and weighted clusters, then the gateway's readiness host and the catch-all for hosts no
 * one names. A pure function of its inputs: each route and virtual host is taken from the {@link RememberedParts} when
 * built before from the same inputs, else built and remembered there.
 */
final class RouteTranslator {
    private static final DateTimeFormatter HTTP_DATE = DateTimeFormatter.ofPattern(
                    "EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.ROOT)
            .withZone(ZoneOffset.UTC);

    private static final String X_FORWARDED_HOST = "x-forwarded-host";

    /** Routes built anew (not taken from the remembered ones), for what a change costs. */
    private static final AtomicLong ROUTES_BUILT = new AtomicLong();

    /** Virtual hosts built anew (not the instances built before). */
    private static final AtomicLong VIRTUAL_HOSTS_BUILT = new AtomicLong();

    /** Built routes by their inputs' equality. */
    private final RememberedParts builtParts;
    /** Built virtual hosts by the identity of what they are built from. */
    private final RememberedParts builtHosts;

    RouteTranslator(RememberedParts builtParts, RememberedParts builtHosts) {
        this.builtParts = builtParts;
        this.builtHosts = builtHosts;
    }

    /** The number of routes built anew so far by every translator (monotonic; compare two readings). */
    static long routesBuilt() {
        return ROUTES_BUILT.get();
    }

    /** The number of virtual hosts built anew so far by every translator (monotonic; compare two readings). */
    static long virtualHostsBuilt() {
        return VIRTUAL_HOSTS_BUILT.get();
    }

    /** The tables as a group's resources list them: by name. */
    static List<RouteConfiguration> sortedTables(List<Table> tables) {
        return tables.stream()
                .map(Table::built)
                .sorted(Comparator.comparing(RouteConfiguration::getName))
                .toList();
    }

    /**
     * A built route table and, for each virtual host built from the group's APIs, its place and inputs, also by API
     * name: a one-route change finds its API's virtual hosts there, not by a pass over all of them.
     */
    record Table(
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
            Map<String, List<HostSlot>> byApi = new HashMap<>();
            for (HostSlot slot : slots) {
                for (Api api : slot.apis()) {
                    byApi.computeIfAbsent(api.name(), n -> new ArrayList<>()).add(slot);
                }
            }
            return byApi;
        }
    }

    /** A virtual host's index in its table, its hostnames and APIs. */
    record HostSlot(int index, List<String> hosts, List<Api> apis) {}

    /** The APIs served on one product publish's host and the routes its operations compiled to. */
    record ProductHost(List<Api> apis, Map<String, List<io.meshguard.xds.model.Route>> routesByVersion) {}

    // ---------------------------------------------------------------- RDS

    /**
     * What a table's routes take from the group beyond their API and route: its CORS policies ({@code group}; none for
     * proxyless clients), which upstreams are DNS names (auto host rewrite) and the {@code host} of IP-literal ones.
     */
    record UpstreamHosts(GatewayGroup group, Set<String> hostnameUpstreams, Map<String, String> hostLiterals) {
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

    Table routeConfiguration(
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
    VirtualHost virtualHost(
            List<String> hosts,
            List<Api> apis,
            Map<String, List<io.meshguard.xds.model.Route>> routesByVersion,
            CorsPolicies cors,
            UpstreamHosts upstreams,
            boolean forEnvoy) {
        VirtualHostInputs inputs = VirtualHostInputs.of(hosts, apis, routesByVersion, upstreams, forEnvoy);
        return builtHosts.get(inputs, () -> buildVirtualHost(inputs, apis, routesByVersion, cors, upstreams));
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
        return builtParts.get(new RouteInputs(api, v, r, root, idBase, rewritesHost, hostLiteral, forEnvoy), () -> {
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
        return b.setSafeRegex(RegexMatcher.newBuilder().setRegex(Pattern.quote(prefix) + "(/.*)?"));
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
            b.setSafeRegex(RegexMatcher.newBuilder().setRegex(Pattern.quote(root) + anchored));
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
