package io.meshguard.xds.snapshot;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import io.meshguard.envoy.validation.EnvoyValidator;
import io.meshguard.envoy.validation.Violation;
import io.meshguard.xds.XdsController;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayGroup;
import io.meshguard.xds.model.GatewayYaml;
import io.meshguard.xds.zone.ZoneLoopbackTest;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every resource the shipped configurations become passes Envoy's load-time checks, as each kind of node receives it:
 * Envoy (no api_listeners), grpc-java (everything) and grpc-js (required ext_authz failing fast). The sample is what
 * {@code meshguard up} and the demo publish, the lifecycle golden every route kind, the zone configuration what the
 * zone journeys serve. (Every publish, the products journey's included, now passes the same check before it is stored.)
 */
class ShippedConfigsPassEnvoyTest {

    static Stream<Arguments> configs() throws Exception {
        return Stream.of(
                Arguments.of("sample-gateway.yaml", XdsController.sampleConfig()),
                Arguments.of("golden/lifecycle-config.yaml", resource("/golden/lifecycle-config.yaml")),
                Arguments.of("zones", ZoneLoopbackTest.config("seoul", "tokyo", true)));
    }

    private static GatewayConfig resource(String name) throws Exception {
        try (InputStream in = ShippedConfigsPassEnvoyTest.class.getResourceAsStream(name)) {
            return GatewayYaml.read(name, new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void everyResourceOfEveryGroup_passesEnvoysChecks_forEveryNodeKind(String name, GatewayConfig config) {
        SnapshotBuilder builder = new SnapshotBuilder(FilterTargets.DEFAULTS);
        List<String> violations = new ArrayList<>();
        int walked = 0;
        for (GatewayGroup g : config.groups()) {
            GroupResources all = builder.build(config, g.name());
            GroupResources failFast = FailFastListeners.of(all);
            Map<String, GroupResources> byNodeKind = Map.of(
                    "envoy",
                            new GroupResources(
                                    g.name(),
                                    all.listeners().stream()
                                            .filter(l -> !l.hasApiListener())
                                            .toList(),
                                    all.routes(),
                                    all.clusters(),
                                    all.endpoints()),
                    "grpc-java", all,
                    "grpc-js", failFast);
            for (Map.Entry<String, GroupResources> kind : byNodeKind.entrySet()) {
                List<Message> resources = new ArrayList<>();
                resources.addAll(kind.getValue().listeners());
                resources.addAll(kind.getValue().routes());
                resources.addAll(kind.getValue().clusters());
                resources.addAll(kind.getValue().endpoints());
                for (Message m : resources) {
                    walked++;
                    for (Violation v : EnvoyValidator.validate(m)) {
                        violations.add(g.name() + " " + kind.getKey() + " "
                                + m.getDescriptorForType().getName() + ": " + v);
                    }
                }
            }
        }
        assertThat(walked).as("resources walked").isGreaterThan(3 * 4);
        assertThat(violations).as(name).isEmpty();
    }
}
