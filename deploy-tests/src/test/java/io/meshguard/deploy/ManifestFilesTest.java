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
        assertThat(bootstrap
                        .getDynamicResources()
                        .getAdsConfig()
                        .getGrpcServices(0)
                        .getEnvoyGrpc()
                        .getClusterName())
                .isEqualTo("meshguard-xds");
        assertThat(bootstrap.getStaticResources().getClustersList())
                .extracting(c -> c.getName())
                .containsExactly("meshguard-xds", "meshguard-gateway-edge");
    }

    @Test
    void everyResourceFile_isListedInItsKustomization() {
        // A manifest that no kustomization lists is never applied; catch it before an operator wonders why.
        List<String> listed = Stream.of(
                        "base", "app-namespace", "ops", "migrate", "overlays/dev", "overlays/zone-hub", "zone")
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
                // cluster-scoped admission policy (opt-in, Kubernetes >= 1.30).
                .filter(f -> !f.equals("namespace.yaml") && !f.startsWith("monitoring/") && !f.startsWith("admission/"))
                .toList();
        assertThat(listed).containsExactlyInAnyOrderElementsOf(files);
    }
}
