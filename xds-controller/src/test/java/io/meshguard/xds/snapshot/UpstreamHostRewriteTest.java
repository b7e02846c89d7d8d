package io.meshguard.xds.snapshot;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.config.route.v3.Route;
import io.meshguard.xds.model.ConfigJson;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayYaml;
import io.meshguard.xds.model.Upstream;
import io.meshguard.xds.validate.ConfigValidator;
import io.meshguard.xds.validate.Problem;
import io.meshguard.xds.validate.ProblemCode;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * An IP-literal (EDS) upstream in the mesh is reached through the gateway's own sidecar, which routes by Host: the
 * upstream's {@code host} (its Service FQDN) is sent as {@code host_rewrite_literal}, and without one the validator
 * warns that a STRICT backend resets the request (review 4: R4-06).
 */
class UpstreamHostRewriteTest {
    private static final FilterTargets IN_CLUSTER = GatewayHopTest.IN_CLUSTER;

    private static final String CONFIG = """
            groups: [{name: edge, environment: test, hostnames: [api.bank.example]}]
            upstreams:
              - {name: orders, host: orders.shop.svc.cluster.local, endpoints: [{address: 10.96.0.12, port: 8080}]}
              - {name: orders-canary, host: orders.shop.svc.cluster.local, endpoints: [{address: 10.244.1.7, port: 8080}]}
              - {name: legacy, endpoints: [{address: 10.0.0.9, port: 8080}]}
              - {name: ledger, endpoints: [{address: ledger.ledger.svc.cluster.local, port: 8080}]}
            apis:
              - {name: shop, base_path: /shop, default_version: v1, versions: [{version: v1}]}
            routes:
              - {name: orders, group: edge, api: shop, version: v1,
                 match: {path_prefix: /orders}, destinations: [{upstream: orders, weight: 100}]}
              - {name: canary, group: edge, api: shop, version: v1, match: {path_prefix: /canary},
                 destinations: [{upstream: orders, weight: 90}, {upstream: orders-canary, weight: 10}]}
              - {name: legacy, group: edge, api: shop, version: v1,
                 match: {path_prefix: /legacy}, destinations: [{upstream: legacy, weight: 100}]}
              - {name: mixed, group: edge, api: shop, version: v1, match: {path_prefix: /mixed},
                 destinations: [{upstream: orders, weight: 50}, {upstream: legacy, weight: 50}]}
              - {name: ledger, group: edge, api: shop, version: v1,
                 match: {path_prefix: /ledger}, destinations: [{upstream: ledger, weight: 100}]}
            """;

    private static GatewayConfig config() {
        return GatewayYaml.read("host.yaml", CONFIG);
    }

    private static Map<String, Route> routes(String configName) {
        GatewayConfig config = config();
        assertThat(new ConfigValidator().validate(config).errors()).isEmpty();
        return BuiltResources.routesByName(new SnapshotBuilder(IN_CLUSTER).build(config, "edge"), configName);
    }

    @Test
    void ipUpstreamWithHost_routeSendsTheServiceFqdn_andKeepsTheClientsHostInXForwardedHost() {
        Map<String, Route> envoy = routes("http-8080");
        for (String name : List.of("shop.v1.orders", "shop.v1.default.orders", "shop.v1.canary")) {
            Route r = envoy.get(name);
            assertThat(r.getRoute().getHostRewriteLiteral()).as(name).isEqualTo("orders.shop.svc.cluster.local");
            assertThat(r.getRoute().getAppendXForwardedHost()).as(name).isTrue();
            assertThat(r.getRequestHeadersToRemoveList()).as(name).containsOnlyOnce("x-forwarded-host");
        }
        // no host, or destinations that disagree: the client's Host is kept (and the validator warns, below)
        assertThat(envoy.get("shop.v1.legacy").getRoute().getHostRewriteLiteral())
                .isEmpty();
        assertThat(envoy.get("shop.v1.mixed").getRoute().getHostRewriteLiteral())
                .isEmpty();
        // a DNS upstream keeps auto_host_rewrite
        assertThat(envoy.get("shop.v1.ledger").getRoute().getAutoHostRewrite().getValue())
                .isTrue();
        // proxyless clients ignore host rewrites unless trusted_xds_server + a grpc-java flag: none emitted
        assertThat(routes(EnvoyNames.PROXYLESS_ROUTES).values())
                .noneMatch(r -> r.getRoute().hasAutoHostRewrite()
                        || !r.getRoute().getHostRewriteLiteral().isEmpty());
    }

    @Test
    void upstreamHostChanged_routesNamingItAreBuiltAgain_thoughTheyAreTheSameInstances() {
        GatewayConfig config = config();
        SnapshotBuilder builder = new SnapshotBuilder(IN_CLUSTER);
        builder.build(config, "edge");
        // the routes and APIs are the instances built before; only the upstream's host moved (to a Service that
        // is also the canary's, so the canary route gets it too)
        GatewayConfig moved = new GatewayConfig(
                config.groups(),
                config.upstreams().stream()
                        .map(u -> u.name().equals("orders-canary")
                                ? new Upstream(
                                        u.name(),
                                        u.protocol(),
                                        u.lbPolicy(),
                                        u.connectTimeoutMs(),
                                        u.endpoints(),
                                        u.healthCheck(),
                                        u.circuitBreaker(),
                                        u.outlierDetection(),
                                        u.tls(),
                                        u.addressExceptions(),
                                        Optional.of("orders-canary.shop.svc.cluster.local"))
                                : u)
                        .toList(),
                config.apis(),
                config.routes());

        Map<String, Route> envoy = new TreeMap<>();
        builder.build(moved, "edge").routes().stream()
                .filter(rc -> rc.getName().equals("http-8080"))
                .flatMap(rc -> rc.getVirtualHostsList().stream())
                .forEach(vh -> vh.getRoutesList().forEach(r -> envoy.put(r.getName(), r)));

        // orders and orders-canary now disagree: the canary route keeps the client's Host
        assertThat(envoy.get("shop.v1.canary").getRoute().getHostRewriteLiteral())
                .isEmpty();
        assertThat(envoy.get("shop.v1.orders").getRoute().getHostRewriteLiteral())
                .isEqualTo("orders.shop.svc.cluster.local");
    }

    @Test
    void ipUpstreamWithoutHost_warnsThatStrictBackendsResetIt_andAnInvalidHostIsRefused() {
        List<Problem> problems = new ConfigValidator().validate(config()).problems();
        List<Problem> warnings = problems.stream()
                .filter(p -> p.code() == ProblemCode.UPSTREAM_IP_WITHOUT_HOST)
                .toList();
        assertThat(warnings).singleElement().satisfies(p -> {
            assertThat(p.path()).isEqualTo("upstreams[legacy].host");
            assertThat(p.message()).contains("STRICT").contains("PassthroughCluster");
        });

        GatewayConfig bad = GatewayYaml.read(
                "bad.yaml",
                CONFIG.replace(
                        "host: orders.shop.svc.cluster.local, endpoints: [{address: 10.96",
                        "host: 'orders.shop.svc:8080', endpoints: [{address: 10.96"));
        assertThat(new ConfigValidator().validate(bad).errors())
                .anySatisfy(p -> assertThat(p.code()).isEqualTo(ProblemCode.UPSTREAM_HOST_INVALID));
    }

    @Test
    void host_roundTripsThroughJson() {
        GatewayConfig config = config();
        GatewayConfig again = ConfigJson.readConfig(ConfigJson.write(config));
        assertThat(again).isEqualTo(config);
        assertThat(again.upstream("orders").orElseThrow().host()).contains("orders.shop.svc.cluster.local");
        assertThat(again.upstream("legacy").orElseThrow().host()).isEmpty();
    }
}
