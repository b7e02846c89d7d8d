package io.meshguard.xds.validate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayYaml;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The gateway's NetworkPolicy for its upstreams, per class of upstream address: an upstream outside the cluster is
 * either allowed by the rendered {@code ipBlock} rule on its own port, or refused at publish when no address can be
 * pinned (a DNS-only outside name); in-cluster Services and addresses need no rule (the shipped pod rule).
 */
class GatewayEgressTest {
    private static final GatewayEgress EGRESS = GatewayEgress.parse(
            List.of("10.0.0.0/8", "fd00:10::/48"),
            List.of("partner.example.com=203.0.113.0/28|198.51.100.7", "LEDGER.bank.example.=192.0.2.64/26"));

    private static GatewayConfig config(String upstreams) {
        return GatewayYaml.read("egress.yaml", """
                groups: [{name: edge, environment: test, hostnames: [api.bank.example]}]
                upstreams:
                """ + upstreams + """
                apis:
                  - {name: shop, base_path: /shop, default_version: v1, versions: [{version: v1}]}
                routes: []
                """);
    }

    private static GatewayEgress.Destination only(String address, int port) {
        return EGRESS.destination("u", address, port);
    }

    /** The rendered policy's egress rules as port to the CIDRs it allows there. */
    private static Map<Integer, List<String>> rules(JsonNode policy) {
        Map<Integer, List<String>> out = new TreeMap<>();
        for (JsonNode rule : policy.path("spec").path("egress")) {
            assertThat(rule.path("ports")).hasSize(1);
            assertThat(rule.path("ports").get(0).path("protocol").asText()).isEqualTo("TCP");
            List<String> cidrs = new ArrayList<>();
            rule.path("to")
                    .forEach(to -> cidrs.add(to.path("ipBlock").path("cidr").asText()));
            out.put(rule.path("ports").get(0).path("port").asInt(), cidrs);
        }
        return out;
    }

    @Test
    void ipv4LiteralOutsideTheCluster_renderedAsItsOwnSlash32_onItsPort() {
        GatewayConfig c = config("  - {name: vm, endpoints: [{address: 192.168.50.4, port: 8443}]}\n");

        assertThat(EGRESS.problems(c)).isEmpty();
        assertThat(rules(EGRESS.networkPolicy(c, "meshguard")))
                .containsExactly(Map.entry(8443, List.of("192.168.50.4/32")));
    }

    @Test
    void ipv6LiteralOutsideTheCluster_renderedAsItsOwnSlash128() {
        GatewayConfig c = config("  - {name: v6, endpoints: [{address: '2001:db8::1:5', port: 443}]}\n");

        assertThat(only("2001:db8::1:5", 443).reach()).isEqualTo(GatewayEgress.Reach.OUTSIDE_PINNED);
        assertThat(EGRESS.problems(c)).isEmpty();
        assertThat(rules(EGRESS.networkPolicy(c, "meshguard")))
                .containsExactly(Map.entry(443, List.of("2001:db8::1:5/128")));
    }

    @Test
    void inClusterAddresses_andServiceNames_needNoRule() {
        GatewayConfig c = config("""
                  - {name: pod, endpoints: [{address: 10.244.1.7, port: 8080}]}
                  - {name: pod6, endpoints: [{address: 'fd00:10::7', port: 8080}]}
                  - {name: svc, endpoints: [{address: orders.shop.svc.cluster.local, port: 8080}]}
                  - {name: short, endpoints: [{address: ledger.ledger.svc, port: 8080}]}
                """);

        assertThat(EGRESS.destinations(c))
                .extracting(GatewayEgress.Destination::reach)
                .containsOnly(GatewayEgress.Reach.IN_CLUSTER);
        assertThat(EGRESS.problems(c)).isEmpty();
        assertThat(EGRESS.networkPolicy(c, "meshguard").path("spec").path("egress"))
                .isEmpty();
    }

    @Test
    void serviceEntryHostPinnedToRanges_renderedWithEveryRange_onTheUpstreamsPort_anySpellingOfTheName() {
        GatewayConfig c = config("""
                  - {name: partner, endpoints: [{address: partner.example.com, port: 443}]}
                  - {name: ledger, endpoints: [{address: Ledger.Bank.Example., port: 7443}]}
                """);

        assertThat(EGRESS.problems(c)).isEmpty();
        assertThat(rules(EGRESS.networkPolicy(c, "meshguard")))
                .containsExactly(
                        Map.entry(443, List.of("198.51.100.7/32", "203.0.113.0/28")),
                        Map.entry(7443, List.of("192.0.2.64/26")));
    }

    @Test
    void dnsOnlyOutsideHost_refusedAtPublish_withItsCodeAndPath_andNoRule() {
        GatewayConfig c = config("""
                  - {name: ok, endpoints: [{address: 192.168.50.4, port: 443}]}
                  - {name: saas, endpoints: [{address: api.saas.example, port: 443}, {address: api2.saas.example, port: 443}]}
                  - {name: twolabel, endpoints: [{address: orders.shop, port: 8080}]}
                """);

        List<Problem> problems = EGRESS.problems(c);
        assertThat(problems).extracting(Problem::code).containsOnly(ProblemCode.UPSTREAM_EGRESS_UNPINNED);
        assertThat(problems)
                .extracting(Problem::path)
                .containsExactly(
                        "upstreams[1].endpoints[0].address",
                        "upstreams[1].endpoints[1].address",
                        "upstreams[2].endpoints[0].address");
        assertThat(problems).allMatch(p -> p.severity() == Problem.Severity.ERROR);
        assertThat(problems.get(0).message()).contains("api.saas.example", "xds.egress.external_hosts");
        assertThat(rules(EGRESS.networkPolicy(c, "meshguard"))).containsOnlyKeys(443);
    }

    @Test
    void dnsOnlyOutsideHost_refusedByTheValidatorThatPublishes() {
        GatewayConfig c = GatewayYaml.read("egress.yaml", """
                groups: [{name: edge, environment: test, hostnames: [api.bank.example]}]
                upstreams:
                  - {name: saas, endpoints: [{address: api.saas.example, port: 443}]}
                apis:
                  - {name: shop, base_path: /shop, default_version: v1, versions: [{version: v1}]}
                routes:
                  - {name: saas, group: edge, api: shop, version: v1,
                     match: {path_prefix: /saas}, destinations: [{upstream: saas, weight: 100}]}
                """);

        assertThat(new ConfigValidator().validate(c).errors()).isEmpty();
        assertThat(new ConfigValidator(ProfileReferences.NONE, ConfigValidator.TemplateCheck.NONE.and(EGRESS))
                        .validate(c)
                        .errors())
                .extracting(Problem::code)
                .containsExactly(ProblemCode.UPSTREAM_EGRESS_UNPINNED);
    }

    @Test
    void gatewayPodItself_noRule() {
        assertThat(only("127.0.0.1", 9000).reach()).isEqualTo(GatewayEgress.Reach.GATEWAY_POD);
        assertThat(only("::1", 9000).reach()).isEqualTo(GatewayEgress.Reach.GATEWAY_POD);
    }

    @Test
    void renderedPolicy_selectsTheGateway_egressOnly_sameBytesForTheSameConfig() {
        GatewayConfig c = config("""
                  - {name: b, endpoints: [{address: 192.168.50.5, port: 443}, {address: 192.168.50.4, port: 443}]}
                  - {name: a, endpoints: [{address: 192.168.50.4, port: 80}]}
                """);
        JsonNode policy = EGRESS.networkPolicy(c, "meshguard");

        assertThat(policy.path("kind").asText()).isEqualTo("NetworkPolicy");
        assertThat(policy.path("metadata").path("namespace").asText()).isEqualTo("meshguard");
        assertThat(policy.path("spec")
                        .path("podSelector")
                        .path("matchLabels")
                        .path("app.kubernetes.io/name")
                        .asText())
                .isEqualTo("meshguard-gateway");
        assertThat(policy.path("spec").path("policyTypes").toString()).isEqualTo("[\"Egress\"]");
        assertThat(rules(policy))
                .containsExactly(
                        Map.entry(80, List.of("192.168.50.4/32")),
                        Map.entry(443, List.of("192.168.50.4/32", "192.168.50.5/32")));
        assertThat(EGRESS.networkPolicy(c, "meshguard")).isEqualTo(policy);
    }

    @Test
    void unchecked_withoutClusterRanges_nothingRefused() {
        GatewayConfig c = config("  - {name: saas, endpoints: [{address: api.saas.example, port: 443}]}\n");

        assertThat(GatewayEgress.UNCHECKED.checked()).isFalse();
        assertThat(GatewayEgress.UNCHECKED.problems(c)).isEmpty();
    }

    @Test
    void settings_malformedEntries_refusedNamingTheKey() {
        assertThatThrownBy(() -> GatewayEgress.parse(List.of("10.0.0.0/33"), List.of()))
                .hasMessageContaining("xds.egress.cluster_cidrs");
        assertThatThrownBy(() -> GatewayEgress.parse(List.of("10.1.2.3/8"), List.of()))
                .hasMessageContaining("host bits")
                .hasMessageContaining("10.0.0.0/8");
        assertThatThrownBy(() -> GatewayEgress.parse(List.of("cluster.local"), List.of()))
                .hasMessageContaining("not an IP address");
        assertThatThrownBy(() -> GatewayEgress.parse(List.of("10.0.0.0/8"), List.of("partner.example.com")))
                .hasMessageContaining("xds.egress.external_hosts");
        assertThatThrownBy(() ->
                        GatewayEgress.parse(List.of("10.0.0.0/8"), List.of("a.example=1.2.3.4", "A.example=5.6.7.8")))
                .hasMessageContaining("named twice");
        assertThatThrownBy(() -> GatewayEgress.parse(List.of(), List.of("a.example=1.2.3.4")))
                .hasMessageContaining("needs xds.egress.cluster_cidrs");
    }
}
