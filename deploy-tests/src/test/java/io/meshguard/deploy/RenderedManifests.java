package io.meshguard.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The rendered output of a kustomization as the cluster in a box ({@code io.meshguard.deploy.box}) reads it: each
 * document as a JSON tree, and the strict typed model of one (an unknown field fails, as in every deploy test).
 */
public final class RenderedManifests {
    private RenderedManifests() {}

    /** {@code manifests/istio/<relative>} rendered by {@code kubectl kustomize}, one tree per document. */
    public static List<JsonNode> render(String relative) throws IOException, InterruptedException {
        return render(RepoPaths.manifests(), relative);
    }

    /** {@code <manifests>/<relative>} of another checkout's {@code manifests/istio} (a release's), rendered alike. */
    public static List<JsonNode> render(Path manifests, String relative) throws IOException, InterruptedException {
        Path dir = manifests.resolve(relative);
        return YamlDocuments.parse("kubectl kustomize " + dir, Kustomize.render(dir)).stream()
                .map(SourcedDocument::node)
                .toList();
    }

    /**
     * A per-namespace copy of {@code manifests/istio/<example>} (a folder whose kustomization sets {@code namespace:}
     * and names its base by a relative path), made the way its comment tells an operator to (the same file with
     * another {@code namespace:}, placed in {@code workDir}), rendered by {@code kubectl kustomize}. A Gateway API
     * {@code Gateway} among the documents is parsed with the strict model of a waypoint (an unknown field fails).
     */
    public static List<JsonNode> renderCopyFor(String example, String namespace, Path workDir)
            throws IOException, InterruptedException {
        Path source = RepoPaths.manifests().resolve(example);
        String kustomization = java.nio.file.Files.readString(source.resolve("kustomization.yaml"));
        if (!kustomization.matches("(?s).*\\nnamespace: [a-z0-9-]+\\n.*")) {
            throw new IllegalStateException(example + "/kustomization.yaml sets no namespace: line");
        }
        Path copy = workDir.resolve("kustomize-" + namespace);
        java.nio.file.Files.createDirectories(copy);
        StringBuilder rewritten = new StringBuilder();
        boolean inResources = false;
        for (String line : kustomization.split("\\n", -1)) {
            if (line.startsWith("namespace: ")) {
                line = "namespace: " + namespace;
            }
            if (!line.startsWith(" ") && !line.startsWith("-")) {
                inResources = line.startsWith("resources:");
            } else if (inResources && line.strip().startsWith("- ")) {
                // a base named relative to the example folder, named relative to the copy
                String base = line.strip().substring(2).strip();
                line = "  - "
                        + copy.toAbsolutePath()
                                .relativize(source.resolve(base).normalize().toAbsolutePath());
            }
            rewritten.append(line).append('\n');
        }
        java.nio.file.Files.writeString(copy.resolve("kustomization.yaml"), rewritten.toString());
        List<JsonNode> docs = YamlDocuments.parse(
                        "kubectl kustomize (a copy of manifests/istio/" + example + " for " + namespace + ")",
                        Kustomize.render(copy))
                .stream()
                .map(SourcedDocument::node)
                .toList();
        for (JsonNode d : docs) {
            if (d.path("kind").asText().equals("Gateway")
                    && d.path("apiVersion").asText().startsWith("gateway.networking.k8s.io/")) {
                StrictKubernetesModels.parse(new SourcedDocument("rendered", 0, d), WaypointGateway.Gateway.class);
            }
        }
        return docs;
    }

    /** The documents of one plain YAML file under {@code manifests/istio}. */
    public static List<JsonNode> file(String relative) {
        return file(RepoPaths.manifests(), relative);
    }

    /** The documents of one plain YAML file under another checkout's {@code manifests/istio}. */
    public static List<JsonNode> file(Path manifests, String relative) {
        return YamlDocuments.read(manifests.resolve(relative)).stream()
                .map(SourcedDocument::node)
                .toList();
    }

    /** {@code node} as {@code type}, refusing any field the model does not know. */
    public static <T> T model(JsonNode node, Class<T> type) {
        return StrictKubernetesModels.parse(new SourcedDocument("rendered", 0, node), type);
    }

    /** kubectl is on the PATH. */
    public static boolean kubectlAvailable() {
        return Kustomize.available();
    }

    /** The repository's root directory. */
    public static Path repoRoot() {
        return RepoPaths.root();
    }
}
