package io.meshguard.xds.model;

import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.meshguard.runtime.yaml.InvalidYamlException;
import io.meshguard.runtime.yaml.YamlDocument;
import io.meshguard.runtime.yaml.YamlEntry;
import io.meshguard.runtime.yaml.YamlNode;

/**
 * Reads a declarative gateway file (YAML with the same fields as the admin API's JSON: {@code groups},
 * {@code upstreams}, {@code apis}, {@code routes}). Errors name the file and line.
 */
public final class GatewayYaml {
    private GatewayYaml() {}

    /** Parses the file; throws {@link InvalidYamlException} with file:line on any problem. */
    public static GatewayConfig read(String sourceName, String text) {
        YamlNode root = YamlDocument.parse(sourceName, text);
        if (root.isNull()) {
            return GatewayConfig.EMPTY;
        }
        JsonNode tree = toJson(root);
        try {
            return ConfigJson.mapper().treeToValue(tree, GatewayConfig.class);
        } catch (JsonMappingException e) {
            throw locate(root, e).error(ConfigJson.describe(e));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw root.error(e.getOriginalMessage());
        }
    }

    /** Scalars become text; the model's types coerce them ("8080" → 8080, "true" → true, ISO dates → Instant). */
    private static JsonNode toJson(YamlNode node) {
        return switch (node.kind()) {
            case MAP -> {
                ObjectNode o = JsonNodeFactory.instance.objectNode();
                for (YamlEntry e : node.entries()) {
                    o.set(e.name(), toJson(e.value()));
                }
                yield o;
            }
            case LIST -> {
                ArrayNode a = JsonNodeFactory.instance.arrayNode();
                node.asList().forEach(n -> a.add(toJson(n)));
                yield a;
            }
            case SCALAR -> JsonNodeFactory.instance.textNode(node.asString());
            case NULL -> JsonNodeFactory.instance.nullNode();
        };
    }

    /** The YAML node at the path of a mapping error, or the nearest existing parent. */
    private static YamlNode locate(YamlNode root, JsonMappingException e) {
        YamlNode at = root;
        for (JsonMappingException.Reference ref : e.getPath()) {
            if (ref.getFieldName() != null && at.isMap() && at.has(ref.getFieldName())) {
                at = at.get(ref.getFieldName());
            } else if (ref.getIndex() >= 0
                    && at.isList()
                    && ref.getIndex() < at.asList().size()) {
                at = at.asList().get(ref.getIndex());
            } else {
                break;
            }
        }
        return at;
    }
}
