package io.meshguard.xds.snapshot;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.common.net.InetAddresses;
import com.google.protobuf.Any;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.meshguard.xds.model.ConfigJson;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayYaml;
import io.meshguard.xds.model.Upstream;
import io.meshguard.xds.validate.ConfigValidator;
import io.meshguard.xds.validate.Problem;
import io.meshguard.xds.validate.ValidationResult;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Upstreams named by DNS. Envoy accepts only IP literals in EDS and STATIC endpoints: {@code
 * ClusterImplBase::resolveProtoAddress} ({@code source/common/upstream/upstream_impl.cc}) answers "malformed IP
 * address: demo-upstream. Consider setting resolver_name or setting cluster type to 'STRICT_DNS' or 'LOGICAL_DNS'",
 * the update is NACKed and every route to the cluster answers 503. Names therefore go to LOGICAL_DNS (one name) or
 * STRICT_DNS (several) clusters with an inline load assignment ({@code logical_dns_cluster.cc}: exactly one
 * endpoint).
 */
class UpstreamDiscoveryTest {
    private static final Path DEMO_GATEWAY = Path.of("../deploy/local/gateway.json");

    private static GatewayConfig config(String upstreams) {
        return oneRoute("upstreams.yaml", "svc", upstreams);
    }

    /** Group edge with one route of API cards to {@code upstream}, one of {@code upstreams} (YAML list items). */
    static GatewayConfig oneRoute(String file, String upstream, String upstreams) {
        return GatewayYaml.read(file, """
                groups:
                  - {name: edge, environment: prod, region: eu-west, domain: bank.example}
                upstreams:
                %s
                apis:
                  - {name: cards, base_path: /cards, default_version: v1, versions: [{version: v1, status: active}]}
                routes:
                  - {name: all, group: edge, api: cards, version: v1, match: {path_prefix: /},
                     destinations: [{upstream: %s, weight: 100}]}
                """.formatted(upstreams.indent(2), upstream));
    }

    private static GroupResources build(GatewayConfig config, String group) {
        assertThat(new ConfigValidator().validate(config).errors()).isEmpty();
        return new SnapshotBuilder(FilterTargets.DEFAULTS).build(config, group);
    }

    private static Cluster cluster(GroupResources r, String name) throws Exception {
        Cluster c = r.clusters().stream()
                .filter(x -> x.getName().equals(name))
                .findFirst()
                .orElseThrow();
        // strictly through Envoy's own types: an unknown field or a wrong type fails here
        assertThat(EnvoyJson.parse(EnvoyJson.print(c), Any.newBuilder()).build().unpack(Cluster.class))
                .isEqualTo(c);
        return c;
    }

    /**
     * The check that would have caught the bug: every address Envoy must take as an IP literal — all EDS load
     * assignments, and the inline assignment of any EDS or STATIC cluster — parses as one, by text alone (no DNS).
     */
    static List<String> nonIpAddressesEnvoyWouldRefuse(GroupResources r) {
        List<String> bad = new ArrayList<>();
        List<ClusterLoadAssignment> literalOnly = new ArrayList<>(r.endpoints());
        for (Cluster c : r.clusters()) {
            if ((c.getType() == Cluster.DiscoveryType.EDS || c.getType() == Cluster.DiscoveryType.STATIC)
                    && c.hasLoadAssignment()) {
                literalOnly.add(c.getLoadAssignment());
            }
        }
        for (ClusterLoadAssignment cla : literalOnly) {
            cla.getEndpointsList().forEach(l -> l.getLbEndpointsList().forEach(e -> {
                String address = e.getEndpoint().getAddress().getSocketAddress().getAddress();
                if (!InetAddresses.isInetAddress(address)) {
                    bad.add(cla.getClusterName() + " → " + address);
                }
            }));
        }
        return bad;
    }

    @Test
    void demoGateway_everyEdsEndpointIsAnIpLiteral_andDemoUpstreamIsALogicalDnsCluster() throws Exception {
        GatewayConfig demo = ConfigJson.readConfig(Files.readString(DEMO_GATEWAY));
        GroupResources r = build(demo, "local");

        assertThat(nonIpAddressesEnvoyWouldRefuse(r)).isEmpty();
        Cluster c = cluster(r, "demo-upstream");
        assertThat(c.getType()).isEqualTo(Cluster.DiscoveryType.LOGICAL_DNS);
        assertThat(c.hasEdsClusterConfig()).isFalse();
        assertThat(c.getDnsLookupFamily()).isEqualTo(Cluster.DnsLookupFamily.V4_PREFERRED);
        SocketAddress a = c.getLoadAssignment()
                .getEndpoints(0)
                .getLbEndpoints(0)
                .getEndpoint()
                .getAddress()
                .getSocketAddress();
        assertThat(a.getAddress() + ":" + a.getPortValue()).isEqualTo("demo-upstream:8000");
        assertThat(c.getLoadAssignment().getClusterName()).isEqualTo("demo-upstream");
        // no EDS resource for a DNS cluster: Envoy would never ask for it
        assertThat(r.endpoints())
                .extracting(ClusterLoadAssignment::getClusterName)
                .doesNotContain("demo-upstream");
    }

    @Test
    void everyShippedAndTestedConfig_emitsOnlyIpLiteralsWhereEnvoyRequiresThem() throws Exception {
        GatewayConfig golden;
        try (InputStream in = getClass().getResourceAsStream("/golden/lifecycle-config.yaml")) {
            golden = GatewayYaml.read("lifecycle-config.yaml", new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
        assertThat(nonIpAddressesEnvoyWouldRefuse(build(golden, "edge"))).isEmpty();
        assertThat(nonIpAddressesEnvoyWouldRefuse(build(config("""
                - name: svc
                  endpoints: [{address: payments.payments.svc.cluster.local, port: 8080},
                              {address: payments.dr.svc.cluster.local, port: 8080, weight: 3}]
                """), "edge"))).isEmpty();
    }

    @Test
    void ipEndpoints_stayEds_withTheirAddressesInTheLoadAssignment() throws Exception {
        GroupResources r = build(config("""
                - name: svc
                  endpoints: [{address: 10.0.0.7, port: 8080}, {address: "2001:db8::7", port: 8080}]
                """), "edge");
        Cluster c = cluster(r, "svc");
        assertThat(c.getType()).isEqualTo(Cluster.DiscoveryType.EDS);
        assertThat(c.hasLoadAssignment()).isFalse();
        ClusterLoadAssignment cla = r.endpoints().stream()
                .filter(e -> e.getClusterName().equals("svc"))
                .findFirst()
                .orElseThrow();
        assertThat(cla.getEndpoints(0).getLbEndpointsList())
                .extracting(e -> e.getEndpoint().getAddress().getSocketAddress().getAddress())
                .containsExactly("10.0.0.7", "2001:db8::7");
    }

    @Test
    void severalDnsNames_becomeOneStrictDnsCluster_keepingEachEndpointsWeight() throws Exception {
        GatewayConfig cfg = config("""
                - name: svc
                  endpoints: [{address: payments.a.svc.cluster.local, port: 8080},
                              {address: payments.b.svc.cluster.local, port: 9090, weight: 3}]
                """);
        Cluster c = cluster(build(cfg, "edge"), "svc");
        assertThat(c.getType()).isEqualTo(Cluster.DiscoveryType.STRICT_DNS);
        List<LbEndpoint> eps = c.getLoadAssignment().getEndpoints(0).getLbEndpointsList();
        assertThat(eps)
                .extracting(e -> e.getEndpoint().getAddress().getSocketAddress().getAddress() + ":"
                        + e.getEndpoint().getAddress().getSocketAddress().getPortValue() + "/"
                        + e.getLoadBalancingWeight().getValue())
                .containsExactly("payments.a.svc.cluster.local:8080/1", "payments.b.svc.cluster.local:9090/3");
        assertThat(new ConfigValidator().validate(cfg).warnings())
                .extracting(Problem::message)
                .anyMatch(m -> m.contains("proxyless gRPC clients accept only EDS and LOGICAL_DNS"));
    }

    @Test
    void validateAnswer_tellsWhichClusterTypeEachUpstreamGets() {
        GatewayConfig cfg = GatewayYaml.read("kinds.yaml", """
                groups: [{name: edge}]
                upstreams:
                  - {name: by-ip, endpoints: [{address: 10.0.0.1, port: 80}]}
                  - {name: by-name, endpoints: [{address: payments.svc.cluster.local, port: 80}]}
                  - {name: by-names, endpoints: [{address: a.example, port: 80}, {address: b.example, port: 80}]}
                """);
        ValidationResult result = new ConfigValidator().validate(cfg);
        assertThat(result.infos())
                .extracting(p ->
                        p.path() + " " + p.message().substring(0, p.message().indexOf(':')))
                .containsExactly(
                        "upstreams[by-ip] Envoy cluster type EDS",
                        "upstreams[by-name] Envoy cluster type LOGICAL_DNS",
                        "upstreams[by-names] Envoy cluster type STRICT_DNS");
        assertThat(result.valid()).isTrue();
    }

    @Test
    void ipAndDnsEndpointsMixed_areRefusedWithAWayOut() {
        ValidationResult result = new ConfigValidator().validate(config("""
                - name: svc
                  endpoints: [{address: 10.0.0.7, port: 8080}, {address: payments.svc.cluster.local, port: 8080}]
                """));
        assertThat(result.errors()).singleElement().satisfies(p -> {
            assertThat(p.path()).isEqualTo("upstreams[svc].endpoints");
            assertThat(p.message())
                    .contains("mixes IP addresses and DNS names")
                    .contains("split it into two upstreams");
        });
    }

    @Test
    void addressesThatAreNeitherIpNorDnsName_areRefused() {
        for (String bad : List.of(
                "demo_upstream",
                "*.example.com",
                "Payments.Example",
                "10.0.0.1:8080",
                "[::1]",
                "http://a.example",
                "a..example",
                "-a.example")) {
            assertThat(new ConfigValidator()
                            .validate(config("""
                    - name: svc
                      endpoints: [{address: "%s", port: 8080}]
                    """.formatted(bad)))
                            .errors())
                    .as(bad)
                    .extracting(Problem::path)
                    .contains("upstreams[svc].endpoints[0].address");
        }
    }

    @Test
    void ipLiteral_isParsedAsTextNeverResolved() {
        assertThat(List.of("10.0.0.1", "::1", "2001:db8::1", "::ffff:10.0.0.1", "255.255.255.255"))
                .allMatch(Upstream::isIpLiteral);
        assertThat(List.of(
                        "localhost",
                        "999.1.1.1",
                        "1.2.3",
                        "01.2.3.4",
                        "10.0.0.1.",
                        "fe80::1%eth0",
                        "[::1]",
                        "0x0a.0.0.1",
                        "",
                        "1.2.3.4 "))
                .noneMatch(Upstream::isIpLiteral);
    }
}
