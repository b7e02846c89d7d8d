package io.meshguard.devstack.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayYaml;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class DemoDraftTest {
    private static GatewayConfig sample() throws Exception {
        try (var in = io.meshguard.xds.XdsController.class.getResourceAsStream("sample-gateway.yaml")) {
            return GatewayYaml.read("sample-gateway.yaml", new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    @Test
    void addingTheDemo_toUpsSample_leavesGroupLocalExactlyAsItWas() throws Exception {
        GatewayConfig sample = sample();
        try (DemoGateway.Upstreams upstreams = DemoGateway.Upstreams.start()) {
            GatewayConfig demo = GatewayYaml.read("demo", DemoGateway.yaml("demo", upstreams));
            GatewayConfig merged = DemoDraft.merge(sample, demo, "demo");
            assertThat(merged.slice("local")).isEqualTo(sample.slice("local"));
            assertThat(merged.slice("demo").routes()).isNotEmpty();
        }
    }

    @Test
    void aGroupRoutingToAnUpstreamOfTheDemosName_isRefused_notRepublishedWithTheDemosBackend() throws Exception {
        GatewayConfig theirs = GatewayYaml.read("theirs", """
                groups: [{name: edge}]
                upstreams: [{name: demo-accounts, endpoints: [{address: 10.0.0.1, port: 8081}]}]
                apis: [{name: shop, base_path: /shop, default_version: v1, versions: [{version: v1}]}]
                routes:
                  - {name: all, group: edge, api: shop, version: v1, match: {path_prefix: /},
                     destinations: [{upstream: demo-accounts, weight: 100}]}
                """);
        try (DemoGateway.Upstreams upstreams = DemoGateway.Upstreams.start()) {
            GatewayConfig demo = GatewayYaml.read("demo", DemoGateway.yaml("demo", upstreams));
            assertThatThrownBy(() -> DemoDraft.merge(theirs, demo, "demo")).hasMessageContaining("'edge'");
        }
    }
}
