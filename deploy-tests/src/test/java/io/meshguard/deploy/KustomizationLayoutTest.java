package io.meshguard.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code kubectl apply -k manifests/istio} works without flags, checked without kubectl: every kustomization's
 * resources exist (a file, or a folder with its own kustomization), and every file a generator reads lies in or
 * below the kustomization's own folder, which is what kustomize's default load restrictor demands.
 * {@link KustomizeRenderTest} renders for real where kubectl is installed.
 */
class KustomizationLayoutTest {
    static Stream<Path> kustomizations() {
        return Stream.concat(
                        YamlDocuments.filesUnder(RepoPaths.manifests()).stream(),
                        Stream.of(RepoPaths.policies().resolve("kustomization.yaml")))
                .filter(f -> f.getFileName().toString().equals("kustomization.yaml"));
    }

    @ParameterizedTest
    @MethodSource("kustomizations")
    void kustomization_referencesOnlyWhatTheDefaultLoadRestrictorAllows(Path kustomization) {
        Path root = kustomization.getParent().normalize();
        JsonNode k = YamlDocuments.read(kustomization).getFirst().node();
        List<String> problems = new ArrayList<>();
        for (JsonNode r : k.path("resources")) {
            Path target = root.resolve(r.asText()).normalize();
            boolean ok = Files.isRegularFile(target) || Files.isRegularFile(target.resolve("kustomization.yaml"));
            if (!ok) {
                problems.add("resource " + r.asText() + " is neither a file nor a folder with a kustomization.yaml");
            }
        }
        for (String generator : List.of("configMapGenerator", "secretGenerator")) {
            for (JsonNode g : k.path(generator)) {
                for (JsonNode f : g.path("files")) {
                    String spec = f.asText();
                    String file = spec.contains("=") ? spec.substring(spec.indexOf('=') + 1) : spec;
                    Path target = root.resolve(file).normalize();
                    if (!target.startsWith(root)) {
                        problems.add(generator + " " + g.path("name").asText() + " reads " + file + ", outside " + root
                                + ": kubectl apply -k refuses it");
                    } else if (!Files.isRegularFile(target)) {
                        problems.add(generator + " " + g.path("name").asText() + " reads " + file
                                + ", which does not exist");
                    }
                }
            }
        }
        assertThat(problems).as("%s", kustomization).isEmpty();
    }

    @Test
    void base_takesThePolicyConfigMapsFromThePoliciesFolder() {
        JsonNode base = YamlDocuments.read(RepoPaths.manifests().resolve("base/kustomization.yaml"))
                .getFirst()
                .node();
        List<String> resources = new ArrayList<>();
        base.path("resources").forEach(r -> resources.add(r.asText()));
        assertThat(resources).contains("../../../policies");

        JsonNode policies = YamlDocuments.read(RepoPaths.policies().resolve("kustomization.yaml"))
                .getFirst()
                .node();
        List<String> files = new ArrayList<>();
        policies.path("configMapGenerator").forEach(g -> g.path("files").forEach(f -> files.add(f.asText())));
        // Exactly the shipped policy files: never tests, examples, or a development issuer.
        assertThat(files).containsExactlyInAnyOrderElementsOf(RepoPaths.POLICY_FILES);
    }

    /** Every document a kustomization includes, following resource folders with their own kustomization. */
    private static List<SourcedDocument> documentsOf(Path dir) {
        List<SourcedDocument> docs = new ArrayList<>();
        JsonNode k =
                YamlDocuments.read(dir.resolve("kustomization.yaml")).getFirst().node();
        for (JsonNode r : k.path("resources")) {
            Path target = dir.resolve(r.asText()).normalize();
            if (Files.isRegularFile(target.resolve("kustomization.yaml"))) {
                docs.addAll(documentsOf(target));
            } else if (Files.isRegularFile(target)) {
                docs.addAll(YamlDocuments.read(target));
            }
        }
        return docs;
    }

    @Test
    void install_containsNoNamespace() {
        // `kubectl delete -k manifests/istio` deletes what the install lists; a Namespace among it takes every
        // audit spool claim with it, events not yet replayed included (review item A7).
        for (String dir : List.of("", "overlays/dev", "app-namespace", "ops", "migrate", "canary")) {
            assertThat(documentsOf(RepoPaths.manifests().resolve(dir)))
                    .as("manifests/istio/%s", dir)
                    .isNotEmpty()
                    .noneSatisfy(d -> assertThat(d.kind()).isEqualTo("Namespace"));
        }
        assertThat(YamlDocuments.read(RepoPaths.manifests().resolve("namespace.yaml")))
                .singleElement()
                .satisfies(d -> assertThat(d.kind()).isEqualTo("Namespace"));
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"ops", "migrate"})
    void opsJobs_nameTheInstallsImage(String dir) {
        JsonNode base = YamlDocuments.read(RepoPaths.manifests().resolve("base/kustomization.yaml"))
                .getFirst()
                .node();
        JsonNode ops = YamlDocuments.read(RepoPaths.manifests().resolve(dir).resolve("kustomization.yaml"))
                .getFirst()
                .node();
        assertThat(ops.path("images")).isEqualTo(base.path("images"));
        // and the Job takes it from there, not from a literal reference that drifts (review item C7)
        assertThat(documentsOf(RepoPaths.manifests().resolve(dir)).stream()
                        .filter(d -> d.kind().equals("Job"))
                        .flatMap(d -> d.node().findValues("image").stream())
                        .map(JsonNode::asText)
                        .toList())
                .isNotEmpty()
                .containsOnly("meshguard");
    }

    /** Strings only the local development issuer's files contain (cli's DevIssuer and DevPolicy). */
    static final List<String> DEV_ISSUER_MARKERS =
            List.of("urn:meshguard:dev-issuer", "meshguard-dev", "/dev/jwks.json", "dev-demo", "dev-policy");

    @Test
    void shippedFiles_neverMentionTheDevelopmentIssuer() throws Exception {
        List<Path> shipped = new ArrayList<>(YamlDocuments.filesUnder(RepoPaths.manifests()));
        shipped.add(RepoPaths.policies().resolve("kustomization.yaml"));
        RepoPaths.POLICY_FILES.forEach(f -> shipped.add(RepoPaths.policies().resolve(f)));
        for (Path file : shipped) {
            if (Files.isRegularFile(file)) {
                assertThat(Files.readString(file)).as("%s", file).doesNotContain(DEV_ISSUER_MARKERS);
            }
        }
    }
}
