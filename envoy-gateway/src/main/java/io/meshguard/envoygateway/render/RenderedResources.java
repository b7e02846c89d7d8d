package io.meshguard.envoygateway.render;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.meshguard.envoygateway.schema.ResourceValidator;
import io.meshguard.envoygateway.schema.SchemaProblem;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * What a revision renders to for Envoy Gateway: the resources in apply order, and what the renderer itself refused
 * (a route or backend it cannot express without changing its meaning).
 *
 * @param refusals render-time refusals, each naming the route or backend and why
 */
public record RenderedResources(List<ObjectNode> resources, List<String> refusals) {

    public RenderedResources {
        resources = List.copyOf(resources);
        refusals = List.copyOf(refusals);
    }

    /** The problems the API server would report for these resources, for each validator (Gateway API channel). */
    public List<SchemaProblem> problems(List<ResourceValidator> validators) {
        List<SchemaProblem> out = new ArrayList<>();
        for (ResourceValidator v : validators) {
            for (ObjectNode r : resources) {
                for (SchemaProblem p : v.validate(r)) {
                    out.add(new SchemaProblem(
                            p.resource(),
                            p.path(),
                            p.message() + " (" + v.schemas().channel().name().toLowerCase(java.util.Locale.ROOT)
                                    + " channel)"));
                }
            }
        }
        return out;
    }

    /**
     * Every {@code kind namespace/name} that more than one resource of {@code renders} holds, with the groups that
     * render it (one namespace holds one object per kind and name, so two would take each other's place on apply).
     * Over the renders of every {@code envoy-gateway} group a cluster serves, before any of them is published.
     *
     * @param renders each group's render, by group name
     */
    public static List<Duplicate> duplicateNames(Map<String, RenderedResources> renders) {
        Map<String, java.util.TreeSet<String>> holders = new java.util.TreeMap<>();
        Map<String, Integer> counts = new java.util.TreeMap<>();
        renders.forEach((group, rendered) -> {
            for (ObjectNode r : rendered.resources()) {
                String key = r.path("kind").asText() + " "
                        + r.path("metadata").path("namespace").asText() + "/"
                        + r.path("metadata").path("name").asText();
                holders.computeIfAbsent(key, k -> new java.util.TreeSet<>()).add(group);
                counts.merge(key, 1, Integer::sum);
            }
        });
        List<Duplicate> out = new ArrayList<>();
        counts.forEach((key, n) -> {
            if (n > 1) {
                out.add(new Duplicate(key, n, List.copyOf(holders.get(key))));
            }
        });
        return out;
    }

    /** One object name rendered {@code times} times, by {@code groups}. */
    public record Duplicate(String object, int times, List<String> groups) {
        @Override
        public String toString() {
            return object + " is rendered " + times + " times (gateway groups " + String.join(", ", groups)
                    + "): rename a group or a route so that their object names differ";
        }
    }

    /** The resources as one multi-document YAML stream, what {@code kubectl apply -f} takes. */
    public String yaml() {
        DumperOptions options = new DumperOptions();
        options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        options.setIndicatorIndent(0);
        options.setWidth(120);
        options.setSplitLines(false);
        Yaml yaml = new Yaml(options);
        ObjectMapper json = new ObjectMapper();
        StringBuilder b = new StringBuilder();
        for (ObjectNode r : resources) {
            b.append("---\n");
            @SuppressWarnings("unchecked")
            Map<String, Object> map = json.convertValue(r, Map.class);
            b.append(yaml.dump(map));
        }
        return b.toString();
    }
}
