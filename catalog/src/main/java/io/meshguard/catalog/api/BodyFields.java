package io.meshguard.catalog.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.meshguard.runtime.http.AdminJson;
import io.meshguard.runtime.yaml.NearestName;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The fields an operation's JSON body may carry, each with its JSON type. Bodies are read strictly, as the policy files
 * are: a misspelt field ({@code aproval}, {@code limit}) is a 422 naming it and the nearest known name, never dropped
 * in silence (a dropped {@code approval: manual} made an auto-approval plan). The same table is the operation's
 * request body in the OpenAPI document.
 *
 * @param types field name → JSON type ({@code string}, {@code array}, {@code object}, {@code boolean})
 * @param required the fields the operation cannot do without
 */
record BodyFields(Map<String, String> types, List<String> required) {

    static final BodyFields NONE = new BodyFields(Map.of(), List.of());

    BodyFields {
        types = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(types));
        required = List.copyOf(required);
    }

    /** Fields as {@code name:type}, a trailing {@code !} for a required one: {@code of("name:string!", "tags:array")}. */
    static BodyFields of(String... fields) {
        Map<String, String> types = new LinkedHashMap<>();
        List<String> required = new ArrayList<>();
        for (String f : fields) {
            boolean mandatory = f.endsWith("!");
            String[] nameType = (mandatory ? f.substring(0, f.length() - 1) : f).split(":", 2);
            types.put(nameType[0], nameType[1]);
            if (mandatory) {
                required.add(nameType[0]);
            }
        }
        return new BodyFields(types, required);
    }

    /** Refuses (422) a body with a field this operation does not take, or a field of the wrong JSON type. */
    void check(JsonNode body) {
        for (var e : (Iterable<Map.Entry<String, JsonNode>>) body::fields) {
            String type = types.get(e.getKey());
            if (type == null) {
                throw new AdminJson.Refusal(
                        422,
                        "unknown field '" + e.getKey() + "'"
                                + NearestName.hint(e.getKey(), types.keySet()) + "; this operation takes "
                                + (types.isEmpty() ? "no body" : String.join(", ", types.keySet())));
            }
            if (!e.getValue().isNull() && !hasType(e.getValue(), type)) {
                throw new AdminJson.Refusal(
                        422,
                        e.getKey() + ": " + article(type) + " " + type + ", got "
                                + e.getValue().getNodeType().name().toLowerCase(java.util.Locale.ROOT));
            }
        }
    }

    /** The JSON Schema of the body, for the OpenAPI document. */
    ObjectNode schema() {
        ObjectNode schema =
                CatalogJson.MAPPER.createObjectNode().put("type", "object").put("additionalProperties", false);
        ObjectNode properties = schema.putObject("properties");
        types.forEach((name, type) -> properties.putObject(name).put("type", type));
        if (!required.isEmpty()) {
            required.forEach(schema.putArray("required")::add);
        }
        return schema;
    }

    private static boolean hasType(JsonNode value, String type) {
        return switch (type) {
            case "string" -> value.isTextual();
            case "array" -> value.isArray();
            case "object" -> value.isObject();
            case "boolean" -> value.isBoolean();
            case "integer" -> value.isIntegralNumber();
            default -> throw new IllegalStateException("no JSON type " + type);
        };
    }

    private static String article(String type) {
        return type.startsWith("a") || type.startsWith("o") || type.startsWith("i") ? "an" : "a";
    }
}
