package io.meshguard.devstack.demo;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.testing.IntegrationTest;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayYaml;
import io.meshguard.xds.snapshot.FilterTargets;
import io.meshguard.xds.snapshot.GroupResources;
import io.meshguard.xds.snapshot.SnapshotBuilder;
import io.meshguard.xds.validate.ConfigValidator;
import io.meshguard.xds.validate.EnvoyLoadCheck;
import org.junit.jupiter.api.Test;

/**
 * The demo's gateway configuration (the e2e journeys play the same) becomes resources Envoy loads: every resource, as
 * Envoy, grpc-java and grpc-js receive it, passes Envoy's load-time checks.
 */
@IntegrationTest
class DemoGatewayEnvoyChecksTest {

    @Test
    void demoConfiguration_everyResourcePassesEnvoysChecks_forEveryNodeKind() throws Exception {
        try (DemoGateway.Upstreams upstreams = DemoGateway.Upstreams.start()) {
            GatewayConfig config = GatewayYaml.read("meshguard demo", DemoGateway.yaml(DemoCommand.GROUP, upstreams));
            assertThat(new ConfigValidator().validate(config).errors()).isEmpty();
            GroupResources resources = new SnapshotBuilder(FilterTargets.DEFAULTS).build(config, DemoCommand.GROUP);
            assertThat(resources.routes()).isNotEmpty();
            assertThat(EnvoyLoadCheck.problems(resources)).isEmpty();
        }
    }
}
