package io.meshguard.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.EnvVar;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * No probe of any shipped workload targets a port bound only to loopback, or a port where nothing listens
 * (review item A1: the gateway probed Envoy admin /ready on 127.0.0.1:9901 and never became Ready). The rendered
 * install gets the same check in {@link KustomizeRenderTest}.
 */
class ProbeReachabilityTest {
    private static Optional<Map<String, String>> generated(String configMap) {
        return GeneratedConfigMaps.named(configMap).map(GeneratedConfigMaps.Generator::data);
    }

    private static Workload gatewayWith(String from, String to) throws Exception {
        String yaml = Files.readString(RepoPaths.manifests().resolve("base/gateway.yaml"));
        assertThat(yaml).contains(from);
        return new Manifests(YamlDocuments.parse("gateway.yaml (edited)", yaml.replace(from, to)))
                .workload("meshguard-gateway");
    }

    @Test
    void everyShippedProbe_reachesAListenerOnThePodAddress() {
        List<String> problems = Manifests.sources()
                .workloads()
                .flatMap(w -> ProbeReachability.problems(w, ProbeReachabilityTest::generated).stream())
                .toList();
        assertThat(problems).isEmpty();
    }

    @Test
    void gatewayProbes_useTheHealthListenerNotTheLoopbackAdminPort() {
        Workload gateway = Manifests.sources().workload("meshguard-gateway");
        var envoy = gateway.template().getSpec().getContainers().getFirst();
        assertThat(envoy.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/ready");
        // Liveness must not follow readiness: a pod taken out of service must not also be restarted.
        assertThat(envoy.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/live");
        var listeners = ProbeReachability.envoyListeners(EnvoyProtos.bootstrap(
                "bootstrap.yaml",
                YamlDocuments.read(RepoPaths.manifests().resolve("base/envoy/bootstrap.yaml"))
                        .getFirst()
                        .node()));
        assertThat(listeners).containsEntry(9901, "127.0.0.1").containsEntry(8081, "0.0.0.0");
    }

    @Test
    void probeOnTheLoopbackAdminPort_isReported() throws Exception {
        // The shipped manifests before the fix: readiness and liveness on admin 9901.
        Workload gateway = gatewayWith("port: http-health", "port: 9901");
        assertThat(ProbeReachability.problems(gateway, ProbeReachabilityTest::generated))
                .hasSize(2)
                .allSatisfy(p -> assertThat(p).contains("port 9901").contains("bound only to 127.0.0.1"));
    }

    @Test
    void probeOnAPortNothingListensOn_isReported() throws Exception {
        Workload gateway = gatewayWith("port: http-health", "port: 8080");
        // 8080 is the edge listener the controller sends over ADS, not a bootstrap listener: nothing at start.
        assertThat(ProbeReachability.problems(gateway, ProbeReachabilityTest::generated))
                .anySatisfy(p -> assertThat(p).contains("port 8080, where nothing listens"));
    }

    @Test
    void serverBoundToLoopbackByItsEnvironment_isReported() {
        Workload extauthz = Manifests.sources().workload("meshguard-extauthz");
        extauthz.template()
                .getSpec()
                .getContainers()
                .getFirst()
                .getEnv()
                .add(new EnvVar("MESHGUARD_GRPC_BIND", "127.0.0.1", null));
        assertThat(ProbeReachability.problems(extauthz, ProbeReachabilityTest::generated))
                .hasSize(3) // startup, readiness and liveness all use gRPC health on 9001
                .allSatisfy(p -> assertThat(p).contains("port 9001, bound only to 127.0.0.1"));
    }

    @Test
    void loopbackSpellings_areRecognised() {
        assertThat(List.of("127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"))
                .allMatch(ProbeReachability::isLoopback);
        assertThat(List.of("0.0.0.0", "::", "10.0.0.7")).noneMatch(ProbeReachability::isLoopback);
    }
}
