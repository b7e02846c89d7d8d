package io.meshguard.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every file under manifests/istio, as written, parses strictly; Envoy config inside parses into Envoy's types. */
class ManifestFilesTest {
    /**
     * Files that are not Kubernetes objects: the Envoy bootstrap, the istiod Helm values and the plain Prometheus rule
     * file (checked by {@link AlertRulesTest}).
     */
    private static boolean isKubernetesManifest(Path file) {
        String rel = RepoPaths.manifests().relativize(file).toString().replace('\\', '/');
        return !rel.startsWith("base/envoy/") && !rel.startsWith("mesh/") && !rel.equals("monitoring/alert-rules.yaml");
    }

    static Stream<Path> manifestFiles() {
        return YamlDocuments.filesUnder(RepoPaths.manifests()).stream().filter(ManifestFilesTest::isKubernetesManifest);
    }

    @ParameterizedTest
    @MethodSource("manifestFiles")
    void manifestFile_parsesStrictlyIntoTypedModels(Path file) {
        List<SourcedDocument> docs = YamlDocuments.read(file);
        assertThat(docs).as("documents in %s", file).isNotEmpty();
        assertThat(ManifestChecks.problems(docs)).as("problems in %s", file).isEmpty();
    }

    @Test
    void gatewayBootstrap_parsesStrictlyIntoEnvoyBootstrap() {
        Path file = RepoPaths.manifests().resolve("base/envoy/bootstrap.yaml");
        var bootstrap = EnvoyProtos.bootstrap(
                file.toString(), YamlDocuments.read(file).getFirst().node());
        assertThat(EnvoyProtos.adsClusterName(bootstrap)).isEqualTo("meshguard-xds");
        assertThat(bootstrap.getStaticResources().getClustersList())
                .extracting(c -> c.getName())
                .containsExactly("meshguard-xds", "meshguard-gateway-edge");
    }

    @Test
    void everyResourceFile_isListedInItsKustomization() {
        // A manifest that no kustomization lists is never applied; catch it before an operator wonders why.
        List<String> listed = Stream.of(
                        "base",
                        "app-namespace",
                        "ambient/kit",
                        "ops",
                        "migrate",
                        "canary",
                        "overlays/dev",
                        "overlays/zone-hub",
                        "overlays/zone-envoy-gateway",
                        "components/admin-ingress",
                        "components/edge-tls",
                        "zone")
                .flatMap(dir -> {
                    Path kustomization = RepoPaths.manifests().resolve(dir).resolve("kustomization.yaml");
                    var node = YamlDocuments.read(kustomization).getFirst().node();
                    return Stream.of(node.path("resources")).flatMap(r -> {
                        List<String> names = new java.util.ArrayList<>();
                        // Other kustomizations (the policies/ folder) are checked by KustomizationLayoutTest.
                        r.forEach(n -> {
                            if (Files.isRegularFile(
                                    RepoPaths.manifests().resolve(dir).resolve(n.asText()))) {
                                names.add(dir + "/" + n.asText());
                            }
                        });
                        return names.stream();
                    });
                })
                .toList();
        List<String> files = manifestFiles()
                .map(f -> RepoPaths.manifests().relativize(f).toString().replace('\\', '/'))
                .filter(f -> !f.endsWith("kustomization.yaml"))
                // Applied on their own, never by a kustomization: the namespace (deleting the install must not
                // delete it and its spool claims), the alert rules (they need the Prometheus Operator's CRDs) and the
                // cluster-scoped admission policies (Kubernetes >= 1.30; waypoint-identity.yaml is required in ambient
                // mode, where check-app-namespace.sh refuses a namespace without it).
                .filter(f -> !f.equals("namespace.yaml") && !f.startsWith("monitoring/") && !f.startsWith("admission/"))
                .toList();
        assertThat(listed).containsExactlyInAnyOrderElementsOf(files);
    }

    @Test
    void ambientKit_attachesEveryL7PieceToTheWaypointByTargetRefs_andClosesThePodToOthers() {
        // Waypoints apply only targetRefs-attached policies and EnvoyFilters ("waypoints never use selector",
        // pilot/pkg/model/policyattachment.go ShouldAttachPolicy); ztunnel drops CUSTOM by selector and ignores
        // targetRefs (pilot/pkg/serviceregistry/kube/controller/ambient/authorization.go convertAuthorizationPolicy).
        List<SourcedDocument> docs = YamlDocuments.filesUnder(
                        RepoPaths.manifests().resolve("ambient/kit"))
                .stream()
                .filter(f -> !f.getFileName().toString().equals("kustomization.yaml"))
                .flatMap(f -> YamlDocuments.read(f).stream())
                .toList();
        var gateway = docs.stream()
                .filter(d -> d.kind().equals("Gateway"))
                .findFirst()
                .orElseThrow();
        String name = gateway.node().path("metadata").path("name").asText();
        assertThat(gateway.node().path("spec").path("gatewayClassName").asText())
                .isEqualTo("istio-waypoint");
        // Service and pod-IP traffic both through the waypoint: "service" (the default) leaves pod IPs open
        assertThat(gateway.node()
                        .path("metadata")
                        .path("labels")
                        .path("istio.io/waypoint-for")
                        .asText())
                .isEqualTo("all");
        for (SourcedDocument d : docs) {
            var spec = d.node().path("spec");
            boolean l7 = d.kind().equals("EnvoyFilter")
                    || d.kind().equals("Telemetry")
                    || spec.path("action").asText().equals("CUSTOM");
            if (l7) {
                assertThat(spec.has("selector") || spec.has("workloadSelector"))
                        .as(d.describe())
                        .isFalse();
                assertThat(spec.path("targetRefs")).as(d.describe()).hasSize(1);
                assertThat(spec.path("targetRefs").path(0).path("kind").asText())
                        .isEqualTo("Gateway");
                assertThat(spec.path("targetRefs").path(0).path("group").asText())
                        .isEqualTo("gateway.networking.k8s.io");
                assertThat(spec.path("targetRefs").path(0).path("name").asText())
                        .isEqualTo(name);
            }
            if (spec.path("action").asText().equals("CUSTOM")) {
                assertThat(spec.path("provider").path("name").asText()).isEqualTo("meshguard-extauthz");
            }
            if (d.kind().equals("EnvoyFilter")) {
                // the waypoint only gets a cluster for a service an EnvoyFilter names (pilot/pkg/model/envoyfilter.go)
                String cluster = spec.path("configPatches")
                        .path(0)
                        .path("patch")
                        .path("value")
                        .path("typed_config")
                        .path("grpc_service")
                        .path("envoy_grpc")
                        .path("cluster_name")
                        .asText();
                String host = cluster.substring(cluster.lastIndexOf('|') + 1);
                assertThat(d.node()
                                .path("metadata")
                                .path("annotations")
                                .path("envoyfilter.istio.io/referenced-services")
                                .asText())
                        .isEqualTo("meshguard/" + host);
            }
        }
        // the L4 rule: ALLOW by selector (so ztunnel enforces it), principals only, naming the waypoint's account
        var l4 = docs.stream()
                .filter(d -> d.kind().equals("AuthorizationPolicy")
                        && d.node().path("spec").path("action").asText().equals("ALLOW"))
                .findFirst()
                .orElseThrow();
        assertThat(l4.node().path("spec").has("targetRefs")).isFalse();
        assertThat(l4.node()
                        .path("spec")
                        .path("selector")
                        .path("matchLabels")
                        .path("meshguard.io/protected")
                        .asText())
                .isEqualTo("true");
        var rule = l4.node().path("spec").path("rules");
        assertThat(rule).hasSize(1);
        assertThat(rule.path(0).has("to")).isFalse();
        assertThat(rule.path(0).has("when")).isFalse();
        assertThat(rule.path(0)
                        .path("from")
                        .path(0)
                        .path("source")
                        .path("principals")
                        .path(0)
                        .asText())
                .endsWith("/sa/" + name);
    }
}
