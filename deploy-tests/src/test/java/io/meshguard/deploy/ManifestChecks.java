package io.meshguard.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.fabric8.istio.api.api.networking.v1alpha3.EnvoyFilterEnvoyConfigObjectPatch;
import io.fabric8.istio.api.networking.v1alpha3.EnvoyFilter;
import io.fabric8.kubernetes.api.model.ConfigMap;
import java.util.ArrayList;
import java.util.List;

/**
 * The validation every manifest set gets, whether read from the source files or rendered by kustomize: each
 * document into its typed model, each EnvoyFilter patch value and each Envoy bootstrap carried in a ConfigMap into
 * Envoy's protobuf types. Returns the problems instead of stopping at the first, so one run lists them all.
 */
final class ManifestChecks {
    /** ConfigMap data keys that hold an Envoy bootstrap. */
    static final String BOOTSTRAP_KEY = "bootstrap.yaml";

    private ManifestChecks() {}

    static List<String> problems(List<SourcedDocument> docs) {
        List<String> problems = new ArrayList<>();
        for (SourcedDocument doc : docs) {
            try {
                Object model = StrictKubernetesModels.parse(doc);
                if (model instanceof EnvoyFilter filter) {
                    checkPatches(doc, filter, problems);
                } else if (model instanceof ConfigMap map
                        && map.getData() != null
                        && map.getData().containsKey(BOOTSTRAP_KEY)) {
                    checkBootstrap(doc, map.getData().get(BOOTSTRAP_KEY), problems);
                }
            } catch (ManifestException e) {
                problems.add(e.getMessage());
            }
        }
        return problems;
    }

    private static void checkPatches(SourcedDocument doc, EnvoyFilter filter, List<String> problems) {
        List<EnvoyFilterEnvoyConfigObjectPatch> patches = filter.getSpec().getConfigPatches();
        for (int i = 0; i < patches.size(); i++) {
            EnvoyFilterEnvoyConfigObjectPatch patch = patches.get(i);
            String where = doc.describe() + " configPatches[" + i + "]";
            // The value as written, not as the model kept it: the Envoy parser must see exactly the input.
            JsonNode value = doc.node()
                    .path("spec")
                    .path("configPatches")
                    .path(i)
                    .path("patch")
                    .path("value");
            if (!value.isObject() || patch.getApplyTo() == null) {
                problems.add(where + ": patch needs applyTo and an object value");
                continue;
            }
            try {
                EnvoyProtos.patchValue(where, patch.getApplyTo().name(), value);
            } catch (ManifestException e) {
                problems.add(e.getMessage());
            }
        }
    }

    private static void checkBootstrap(SourcedDocument doc, String yaml, List<String> problems) {
        try {
            List<SourcedDocument> inner = YamlDocuments.parse(doc.describe() + " data." + BOOTSTRAP_KEY, yaml);
            Bootstrap bootstrap =
                    EnvoyProtos.bootstrap(doc.describe(), inner.getFirst().node());
            if (!bootstrap.hasDynamicResources()
                    || !bootstrap.getDynamicResources().hasAdsConfig()) {
                problems.add(doc.describe() + ": bootstrap has no ADS config");
            }
        } catch (ManifestException e) {
            problems.add(e.getMessage());
        }
    }
}
