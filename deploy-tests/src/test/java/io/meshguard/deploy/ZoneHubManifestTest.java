package io.meshguard.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.xds.zone.ZoneConfig;
import java.util.List;
import java.util.Map;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Review 4, R4-03: central's zone port is reachable the way the zone README says, at every layer a cluster has, and a
 * zone may dial it. Rendered with {@code kubectl kustomize} as the operator applies them: {@code overlays/zone-hub}
 * (container and Service port, the hub switched on, the ingress gateway's principal admitted on that port by Istio
 * and by a NetworkPolicy, a TLS Gateway and a VirtualService to that Service port) and {@code zone} (a ServiceEntry
 * for the central host the zone dials, egress to its port).
 */
@IntegrationTest
class ZoneHubManifestTest {
    private static final String INGRESS_PRINCIPAL =
            "cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account";
    private static Manifests hub;
    private static Manifests zone;
    private static Manifests zoneCluster;

    @BeforeAll
    static void render() throws Exception {
        assumeTrue(Kustomize.available(), "kubectl is not on the PATH: kustomize rendering not checked");
        RepoPaths.assumePolicyFiles();
        hub = new Manifests(YamlDocuments.parse(
                "kubectl kustomize manifests/istio/overlays/zone-hub",
                Kustomize.render(RepoPaths.manifests().resolve("overlays/zone-hub"))));
        zone = new Manifests(YamlDocuments.parse(
                "kubectl kustomize manifests/istio/zone",
                Kustomize.render(RepoPaths.manifests().resolve("zone"))));
        zoneCluster = new Manifests(YamlDocuments.parse(
                "kubectl kustomize manifests/istio/overlays/zone",
                Kustomize.render(RepoPaths.manifests().resolve("overlays/zone"))));
    }

    private static Container xds() {
        return hub.workload("meshguard-xds")
                .template()
                .getSpec()
                .getContainers()
                .getFirst();
    }

    private static String env(Container c, String name) {
        return c.getEnv().stream()
                .filter(e -> e.getName().equals(name))
                .map(EnvVar::getValue)
                .findFirst()
                .orElseThrow(() -> new AssertionError(c.getName() + " does not set " + name));
    }

    private static List<JsonNode> all(JsonNode array) {
        return StreamSupport.stream(array.spliterator(), false).toList();
    }

    @Test
    void controller_opensTheHub_onADeclaredContainerAndServicePort() {
        assertThat(env(xds(), ZoneConfig.HUB_ENABLED.envVar())).isEqualTo("true");
        int port = ZoneConfig.HUB_PORT.defaultValue();
        assertThat(xds().getPorts()).anySatisfy(p -> {
            assertThat(p.getName()).isEqualTo("grpc-zone-hub");
            assertThat(p.getContainerPort()).isEqualTo(port);
        });
        assertThat(hub.service("meshguard-xds").getSpec().getPorts()).anySatisfy(p -> {
            assertThat(p.getPort()).isEqualTo(port);
            assertThat(p.getTargetPort().getStrVal()).isEqualTo("grpc-zone-hub");
            assertThat(p.getName()).startsWith("grpc-");
        });
    }

    @Test
    void istio_admitsOnlyTheIngressGatewayOnTheHubPort() {
        JsonNode rules = hub.find("AuthorizationPolicy", "meshguard-xds-callers")
                .node()
                .path("spec")
                .path("rules");
        List<JsonNode> onHub = all(rules).stream()
                .filter(r -> all(r.path("to")).stream()
                        .anyMatch(t -> all(t.path("operation").path("ports")).stream()
                                .anyMatch(p -> p.asText().equals("18001"))))
                .toList();
        assertThat(onHub).as("one rule names the hub's port").hasSize(1);
        assertThat(all(onHub.getFirst().path("from"))).as("one source").hasSize(1);
        assertThat(onHub.getFirst().path("from").findValues("principals"))
                .singleElement()
                .satisfies(p -> assertThat(all(p)).extracting(JsonNode::asText).containsExactly(INGRESS_PRINCIPAL));
    }

    @Test
    void networkPolicies_admitTheIngressGatewayToTheHub_andNoOtherPod() {
        NetworkPolicyFlows flows = NetworkPolicyFlows.of(hub);
        Map<String, String> xdsLabels =
                hub.workload("meshguard-xds").template().getMetadata().getLabels();
        NetworkPolicyFlows.Pod controller = new NetworkPolicyFlows.Pod("meshguard", xdsLabels);
        assertThat(flows.admits(
                        new NetworkPolicyFlows.Pod("istio-system", Map.of("istio", "ingressgateway")),
                        controller,
                        18001))
                .isTrue();
        assertThat(flows.admits(new NetworkPolicyFlows.Pod("shop", Map.of("app", "shop")), controller, 18001))
                .isFalse();
    }

    @Test
    void gateway_terminatesTls_andTheVirtualServiceRoutesToTheHubsServicePort() {
        JsonNode gateway = hub.find("Gateway", "meshguard-zone-hub").node().path("spec");
        JsonNode server = gateway.path("servers").get(0);
        assertThat(server.path("tls").path("mode").asText()).isEqualTo("SIMPLE");
        assertThat(server.path("port").path("number").asInt()).isEqualTo(443);
        String host = server.path("hosts").get(0).asText();
        JsonNode vs = hub.find("VirtualService", "meshguard-zone-hub").node().path("spec");
        assertThat(vs.path("hosts").get(0).asText()).isEqualTo(host);
        JsonNode destination = vs.path("http").get(0).path("route").get(0).path("destination");
        MeshConfigTest.assertGrpcServicePort(
                hub,
                destination.path("host").asText(),
                destination.path("port").path("number").asInt());
        assertThat(destination.path("port").path("number").asInt()).isEqualTo(ZoneConfig.HUB_PORT.defaultValue());
    }

    @Test
    void zone_namesCentralsHostInAServiceEntry_andMayDialItsPort() {
        Container z = zone.workload("meshguard-xds-zone")
                .template()
                .getSpec()
                .getContainers()
                .getFirst();
        String[] central = env(z, ZoneConfig.CENTRAL.envVar()).split(":");
        JsonNode entry = zone.find("ServiceEntry", "meshguard-central").node().path("spec");
        assertThat(all(entry.path("hosts"))).extracting(JsonNode::asText).contains(central[0]);
        assertThat(all(entry.path("ports"))).anySatisfy(p -> {
            assertThat(p.path("number").asInt()).isEqualTo(Integer.parseInt(central[1]));
            assertThat(p.path("protocol").asText()).isEqualTo("TLS");
        });
        JsonNode hubServer = hub.find("Gateway", "meshguard-zone-hub")
                .node()
                .path("spec")
                .path("servers")
                .get(0);
        assertThat(hubServer.path("hosts").get(0).asText())
                .as("the host central's Gateway serves")
                .isEqualTo(central[0]);
        NetworkPolicyFlows flows = new NetworkPolicyFlows(
                zone.models("NetworkPolicy", io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy.class)
                        .toList());
        Map<String, String> labels =
                zone.workload("meshguard-xds-zone").template().getMetadata().getLabels();
        assertThat(flows.egressAdmits(new NetworkPolicyFlows.Pod("meshguard", labels), Integer.parseInt(central[1])))
                .isTrue();
    }

    @Test
    void zoneCluster_runsTheZoneControllerInsteadOfCentrals_underTheSameServiceName() {
        assertThat(zoneCluster.workloads().map(w -> w.name()).toList())
                .contains("meshguard-xds-zone", "meshguard-extauthz", "meshguard-dlp", "meshguard-gateway")
                .doesNotContain("meshguard-xds");
        assertThat(zoneCluster
                        .ofKind("Service")
                        .filter(d -> d.name().equals("meshguard-xds"))
                        .count())
                .isEqualTo(1);
        assertThat(zoneCluster.service("meshguard-xds").getSpec().getSelector())
                .isEqualTo(Map.of("app.kubernetes.io/name", "meshguard-xds"));
        // prod's minAvailable 2 for the controller would hold a one-replica zone's node drains for ever
        assertThat(zoneCluster.ofKind("PodDisruptionBudget").map(d -> d.name()).toList())
                .doesNotContain("meshguard-xds");
        Container z = zoneCluster
                .workload("meshguard-xds-zone")
                .template()
                .getSpec()
                .getContainers()
                .getFirst();
        assertThat(z.getEnv().stream()
                        .filter(e -> e.getName().equals(ZoneConfig.CLUSTER.envVar()))
                        .count())
                .isEqualTo(1);
        assertThat(env(z, ZoneConfig.CENTRAL.envVar()))
                .isEqualTo(zoneCluster
                                .find("ServiceEntry", "meshguard-central")
                                .node()
                                .path("spec")
                                .path("hosts")
                                .get(0)
                                .asText()
                        + ":443");
    }

    @Test
    void zone_trustsTheBanksCaForCentral_fromAnOptionalSecret() {
        Container z = zone.workload("meshguard-xds-zone")
                .template()
                .getSpec()
                .getContainers()
                .getFirst();
        String caFile = env(z, ZoneConfig.CENTRAL_CA_FILE.envVar());
        var pod = zone.workload("meshguard-xds-zone").template().getSpec();
        var mount = z.getVolumeMounts().stream()
                .filter(m -> caFile.startsWith(m.getMountPath() + "/"))
                .findFirst()
                .orElseThrow(() -> new AssertionError("nothing mounted at " + caFile));
        var volume = pod.getVolumes().stream()
                .filter(v -> v.getName().equals(mount.getName()))
                .findFirst()
                .orElseThrow();
        assertThat(volume.getSecret().getSecretName()).isEqualTo("meshguard-central-ca");
        assertThat(volume.getSecret().getOptional())
                .as("no Secret: the JDK's trust store")
                .isTrue();
        assertThat(mount.getMountPath() + "/"
                        + volume.getSecret().getItems().getFirst().getPath())
                .isEqualTo(caFile);
    }
}
