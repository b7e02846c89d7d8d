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
        Path dir = RepoPaths.manifests().resolve(relative);
        return YamlDocuments.parse("kubectl kustomize manifests/istio/" + relative, Kustomize.render(dir)).stream()
                .map(SourcedDocument::node)
                .toList();
    }

    /** The documents of one plain YAML file under {@code manifests/istio}. */
    public static List<JsonNode> file(String relative) {
        return YamlDocuments.read(RepoPaths.manifests().resolve(relative)).stream()
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
