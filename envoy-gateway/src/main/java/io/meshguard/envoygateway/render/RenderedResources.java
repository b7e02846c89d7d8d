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
