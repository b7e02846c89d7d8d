package io.meshguard.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayYaml;
import io.meshguard.xds.validate.GatewayEgress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The gateway's NetworkPolicies and its upstreams outside the cluster (review 5: R5-04): the shipped policy reaches
 * pods only, so a VM, a partner API or a managed service times out at connect; the policy the controller's settings
 * render ({@code meshguard xds render --egress-policy}) beside it admits each outside upstream at exactly its
 * addresses and port, and nothing else outside.
 */
class GatewayUpstreamEgressManifestTest {
    private static final GatewayEgress EGRESS =
            GatewayEgress.parse(List.of("10.0.0.0/8", "fd00:10::/48"), List.of("partner.example.com=203.0.113.0/28"));

    private static final GatewayConfig CONFIG = GatewayYaml.read("egress.yaml", """
            groups: [{name: edge, environment: test, hostnames: [api.bank.example]}]
            upstreams:
              - {name: orders, endpoints: [{address: orders.shop.svc.cluster.local, port: 8080}]}
              - {name: vm, endpoints: [{address: 192.168.50.4, port: 8443}]}
              - {name: v6, endpoints: [{address: '2001:db8::1:5', port: 443}]}
              - {name: partner, endpoints: [{address: partner.example.com, port: 443}]}
            apis: []
            routes: []
            """);

    private final Manifests manifests = Manifests.sources();

    private NetworkPolicyFlows.Pod gateway() {
        Workload w = manifests.workload("meshguard-gateway");
        return new NetworkPolicyFlows.Pod(
                w.metadata().getNamespace(), w.template().getMetadata().getLabels());
    }

    private NetworkPolicyFlows shipped() {
        return NetworkPolicyFlows.of(manifests);
    }

    private NetworkPolicyFlows shippedAndRendered() {
        SourcedDocument rendered =
                new SourcedDocument("rendered egress policy", 0, EGRESS.networkPolicy(CONFIG, "meshguard"));
        List<NetworkPolicy> all = new ArrayList<>(
                manifests.models("NetworkPolicy", NetworkPolicy.class).toList());
        all.add(StrictKubernetesModels.parse(rendered, NetworkPolicy.class));
        return new NetworkPolicyFlows(all);
    }

    @Test
    void shippedPolicy_alone_dropsEveryUpstreamOutsideTheCluster() {
        NetworkPolicyFlows flows = shipped();
        Stream.of(Map.entry("192.168.50.4", 8443), Map.entry("2001:db8::1:5", 443), Map.entry("203.0.113.5", 443))
                .forEach(e -> assertThat(flows.egressAdmits(gateway(), e.getKey(), e.getValue()))
                        .as("gateway -> %s:%d with the shipped policy only", e.getKey(), e.getValue())
                        .isFalse());
    }

    @Test
    void renderedPolicy_admitsEachOutsideUpstream_atItsAddressesAndPortOnly() {
        NetworkPolicyFlows flows = shippedAndRendered();
        assertThat(flows.egressAdmits(gateway(), "192.168.50.4", 8443))
                .as("IPv4 literal")
                .isTrue();
        assertThat(flows.egressAdmits(gateway(), "2001:db8::1:5", 443))
                .as("IPv6 literal")
                .isTrue();
        assertThat(flows.egressAdmits(gateway(), "203.0.113.0", 443))
                .as("pinned host, first of its range")
                .isTrue();
        assertThat(flows.egressAdmits(gateway(), "203.0.113.15", 443))
                .as("pinned host, last of its range")
                .isTrue();

        assertThat(flows.egressAdmits(gateway(), "192.168.50.4", 22))
                .as("another port")
                .isFalse();
        assertThat(flows.egressAdmits(gateway(), "192.168.50.5", 8443))
                .as("a neighbour")
                .isFalse();
        assertThat(flows.egressAdmits(gateway(), "203.0.113.16", 443))
                .as("outside the pinned range")
                .isFalse();
        assertThat(flows.egressAdmits(gateway(), "8.8.8.8", 443))
                .as("anywhere else")
                .isFalse();
    }

    @Test
    void renderedPolicy_keepsTheInClusterFlows() {
        NetworkPolicyFlows flows = shippedAndRendered();
        assertThat(flows.admits(gateway(), new NetworkPolicyFlows.Pod("shop", Map.of("app", "orders")), 8080))
                .as("gateway -> an in-cluster Service's pod")
                .isTrue();
    }
}
