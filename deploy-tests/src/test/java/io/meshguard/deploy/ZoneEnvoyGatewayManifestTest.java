package io.meshguard.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.meshguard.envoygateway.apply.EnvoyGatewayCluster;
import io.meshguard.testing.IntegrationTest;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A zone applying Envoy Gateway resources ({@code overlays/zone-envoy-gateway}, rendered as the operator applies it)
 * may do exactly what {@link EnvoyGatewayCluster} does on the API server and nothing more: the ClusterRole grants the
 * kinds the renderer emits with the verbs apply, prune, status and drift use, bound to the zone pod's own
 * ServiceAccount, whose token only that pod mounts; its NetworkPolicy lets it reach the API server.
 */
@IntegrationTest
class ZoneEnvoyGatewayManifestTest {
    private static final String ROLE = "meshguard-zone-envoy-gateway";
    private static Manifests zone;

    @BeforeAll
    static void render() throws Exception {
        zone = rendered();
    }

    /** {@code overlays/zone-envoy-gateway} as {@code kubectl kustomize} renders it (skips without kubectl). */
    static Manifests rendered() throws Exception {
        assumeTrue(Kustomize.available(), "kubectl is not on the PATH: kustomize rendering not checked");
        RepoPaths.assumePolicyFiles();
        return new Manifests(YamlDocuments.parse(
                "kubectl kustomize manifests/istio/overlays/zone-envoy-gateway",
                Kustomize.render(RepoPaths.manifests().resolve("overlays/zone-envoy-gateway"))));
    }

    private static Set<String> texts(JsonNode array) {
        return StreamSupport.stream(array.spliterator(), false)
                .map(JsonNode::asText)
                .collect(Collectors.toSet());
    }

    @Test
    void role_grantsExactlyTheKindsTheZoneApplies_withTheVerbsItUses_inMeshguardsNamespaceOnly() {
        Set<String> granted = new HashSet<>();
        var role = zone.find("Role", ROLE);
        assertThat(role.node().path("metadata").path("namespace").asText()).isEqualTo("meshguard");
        for (JsonNode rule : role.node().path("rules")) {
            assertThat(texts(rule.path("verbs")))
                    .as("server-side apply (patch, create when absent), drift and status (get), prune (list, delete)")
                    .containsExactlyInAnyOrder("get", "list", "create", "patch", "delete");
            assertThat(rule.has("resourceNames")).isFalse();
            for (String group : texts(rule.path("apiGroups"))) {
                texts(rule.path("resources")).forEach(r -> granted.add(group + "/" + r));
            }
        }
        Set<String> applied = EnvoyGatewayCluster.kinds().stream()
                .map(k -> k.getGroup() + "/" + k.getPlural())
                .collect(Collectors.toSet());
        assertThat(granted).isEqualTo(applied);
        JsonNode binding = zone.find("RoleBinding", ROLE).node();
        assertThat(binding.path("roleRef").path("kind").asText()).isEqualTo("Role");
        assertThat(binding.path("metadata").path("namespace").asText()).isEqualTo("meshguard");
    }

    @Test
    void clusterRole_neverCreatesOrChanges_anywhere_andDeletesOnlyReferenceGrants() {
        // a ReferenceGrant in another namespace is its owner's consent: cluster-wide create made the zone able to
        // manufacture it for any tenant's upstream (vault.vault.svc)
        for (JsonNode rule : zone.find("ClusterRole", ROLE).node().path("rules")) {
            Set<String> verbs = texts(rule.path("verbs"));
            assertThat(verbs).doesNotContain("create", "patch", "update", "*");
            if (verbs.contains("delete")) {
                assertThat(texts(rule.path("resources"))).containsExactly("referencegrants");
            }
        }
    }

    @Test
    void binding_namesTheZonePodsServiceAccount_andOnlyThatPodMountsItsToken() {
        PodSpec pod = zone.workload("meshguard-xds-zone").template().getSpec();
        JsonNode binding = zone.find("ClusterRoleBinding", ROLE).node();
        assertThat(binding.path("roleRef").path("kind").asText()).isEqualTo("ClusterRole");
        assertThat(binding.path("roleRef").path("name").asText()).isEqualTo(ROLE);
        assertThat(binding.path("subjects")).singleElement().satisfies(s -> {
            assertThat(s.path("kind").asText()).isEqualTo("ServiceAccount");
            assertThat(s.path("name").asText()).isEqualTo(pod.getServiceAccountName());
            assertThat(s.path("namespace").asText()).isEqualTo("meshguard");
        });
        assertThat(pod.getAutomountServiceAccountToken()).isTrue();
        assertThat(zone.workloads().filter(w -> !w.name().equals("meshguard-xds-zone")))
                .allSatisfy(w -> assertThat(w.template().getSpec().getServiceAccountName())
                        .as(w.name())
                        .isNotEqualTo(pod.getServiceAccountName()));
        assertThat(zone.workloads().filter(w -> !w.name().equals("meshguard-xds-zone")))
                .allSatisfy(w -> assertThat(w.template().getSpec().getAutomountServiceAccountToken())
                        .as(w.name())
                        .isNotEqualTo(Boolean.TRUE));
    }

    @Test
    void zoneNetworkPolicy_letsTheZoneReachTheApiServer() {
        JsonNode egress = zone.find("NetworkPolicy", "meshguard-xds-zone")
                .node()
                .path("spec")
                .path("egress");
        assertThat(egress).anySatisfy(rule -> assertThat(rule.path("ports"))
                .anySatisfy(p -> assertThat(p.path("port").asInt()).isEqualTo(6443)));
    }
}
