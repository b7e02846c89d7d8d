package io.meshguard.xds.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import io.meshguard.xds.model.ConfigJson;
import io.meshguard.xds.model.GatewayConfig;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/** What changed between two configurations, field by field, with objects matched by name. */
public final class RevisionDiff {
    private RevisionDiff() {}

    /**
     * One difference. {@code before} is null-node for an added object or field, {@code after} for a removed one.
     *
     * @param path e.g. {@code routes[local/chat].destinations}
     */
    public record Change(String path, JsonNode before, JsonNode after) {}

    public static List<Change> diff(GatewayConfig from, GatewayConfig to) {
        JsonNode a = ConfigJson.mapper().valueToTree(from);
        JsonNode b = ConfigJson.mapper().valueToTree(to);
        List<Change> out = new ArrayList<>();
        for (String kind : List.of("groups", "upstreams", "apis", "routes")) {
            Map<String, JsonNode> before = byName(a.path(kind));
            Map<String, JsonNode> after = byName(b.path(kind));
            TreeSet<String> names = new TreeSet<>(before.keySet());
            names.addAll(after.keySet());
            for (String name : names) {
                compare(kind + "[" + name + "]", before.getOrDefault(name, NullNode.getInstance()),
                        after.getOrDefault(name, NullNode.getInstance()), out);
            }
        }
        return out;
    }

    private static Map<String, JsonNode> byName(JsonNode list) {
        Map<String, JsonNode> m = new TreeMap<>();
        for (JsonNode n : list) {
            String key = n.has("group") && n.has("api") ? n.path("group").asText() + "/" + n.path("name").asText()
                    : n.path("name").asText();
            m.put(key, n);
        }
        return m;
    }

    private static void compare(String path, JsonNode before, JsonNode after, List<Change> out) {
        if (before.equals(after)) {
            return;
        }
        if (before.isObject() && after.isObject()) {
            TreeSet<String> fields = new TreeSet<>();
            before.fieldNames().forEachRemaining(fields::add);
            for (Iterator<String> it = after.fieldNames(); it.hasNext(); ) {
                fields.add(it.next());
            }
            for (String f : fields) {
                compare(path + "." + f, before.path(f).isMissingNode() ? NullNode.getInstance() : before.get(f),
                        after.path(f).isMissingNode() ? NullNode.getInstance() : after.get(f), out);
            }
            return;
        }
        out.add(new Change(path, before, after));
    }
}
