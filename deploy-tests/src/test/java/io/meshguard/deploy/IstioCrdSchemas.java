package io.meshguard.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Istio's own CustomResourceDefinition schemas (../shared/schemas/istio), walked "strictly" the way kubeconform's
 * strict mode does: an object with declared properties accepts no other key (unless it preserves unknown fields),
 * enum values must be listed, scalar types must match. It cross-checks the fabric8 models against the schema the
 * API server enforces. CEL rules ({@code x-kubernetes-validations}) are not evaluated.
 */
final class IstioCrdSchemas {
    private final Map<String, JsonNode> schemas;

    private IstioCrdSchemas(Map<String, JsonNode> schemas) {
        this.schemas = schemas;
    }

    /** Loads every served version of every CRD in the file. */
    static IstioCrdSchemas load(Path crdFile) {
        Map<String, JsonNode> schemas = new HashMap<>();
        for (SourcedDocument crd : YamlDocuments.read(crdFile)) {
            String group = crd.node().path("spec").path("group").asText();
            String kind = crd.node().path("spec").path("names").path("kind").asText();
            for (JsonNode version : crd.node().path("spec").path("versions")) {
                if (version.path("served").asBoolean(false)) {
                    schemas.put(
                            group + "/" + version.path("name").asText() + " " + kind,
                            version.path("schema").path("openAPIV3Schema"));
                }
            }
        }
        return new IstioCrdSchemas(schemas);
    }

    Optional<JsonNode> schemaFor(String apiVersion, String kind) {
        return Optional.ofNullable(schemas.get(apiVersion + " " + kind));
    }

    int size() {
        return schemas.size();
    }

    /** Problems of {@code doc} against its CRD schema; empty when it conforms. */
    List<String> problems(SourcedDocument doc) {
        JsonNode schema = schemaFor(doc.apiVersion(), doc.kind()).orElse(null);
        if (schema == null) {
            return List.of(doc.describe() + ": no CRD schema for " + doc.apiVersion() + " " + doc.kind());
        }
        List<String> problems = new java.util.ArrayList<>();
        // metadata is the API server's ObjectMeta, not part of the CRD's schema.
        doc.node().properties().forEach(field -> {
            if (!field.getKey().equals("metadata")
                    && !field.getKey().equals("apiVersion")
                    && !field.getKey().equals("kind")) {
                JsonNode property = schema.path("properties").path(field.getKey());
                if (property.isMissingNode()) {
                    problems.add(doc.describe() + ": /" + field.getKey() + " is not in the schema");
                } else {
                    walk(field.getValue(), property, "/" + field.getKey(), doc.describe(), problems);
                }
            }
        });
        return problems;
    }

    private static void walk(JsonNode value, JsonNode schema, String path, String where, List<String> problems) {
        if (schema.path("x-kubernetes-preserve-unknown-fields").asBoolean(false) && !schema.has("properties")) {
            return;
        }
        String type = schema.path("type").asText("");
        if (schema.has("enum")) {
            boolean listed = false;
            for (JsonNode allowed : schema.path("enum")) {
                listed |= allowed.asText().equals(value.asText());
            }
            if (!listed) {
                problems.add(where + ": " + path + " = '" + value.asText() + "' is not one of " + schema.path("enum"));
            }
        }
        switch (type) {
            case "object" -> {
                if (!value.isObject()) {
                    problems.add(where + ": " + path + " must be an object");
                    return;
                }
                JsonNode properties = schema.path("properties");
                JsonNode additional = schema.path("additionalProperties");
                value.properties().forEach(field -> {
                    String fieldPath = path + "/" + field.getKey();
                    if (properties.has(field.getKey())) {
                        walk(field.getValue(), properties.path(field.getKey()), fieldPath, where, problems);
                    } else if (additional.isObject()) {
                        walk(field.getValue(), additional, fieldPath, where, problems);
                    } else if (!schema.path("x-kubernetes-preserve-unknown-fields")
                            .asBoolean(false)) {
                        problems.add(where + ": " + fieldPath + " is not in the schema");
                    }
                });
            }
            case "array" -> {
                if (!value.isArray()) {
                    problems.add(where + ": " + path + " must be a list");
                    return;
                }
                for (int i = 0; i < value.size(); i++) {
                    walk(value.get(i), schema.path("items"), path + "/" + i, where, problems);
                }
            }
            case "string" -> {
                if (!value.isTextual()
                        && !schema.path("x-kubernetes-int-or-string").asBoolean(false)) {
                    problems.add(where + ": " + path + " must be a string");
                }
            }
            case "integer" -> {
                if (!value.isIntegralNumber()) {
                    problems.add(where + ": " + path + " must be an integer");
                }
            }
            case "boolean" -> {
                if (!value.isBoolean()) {
                    problems.add(where + ": " + path + " must be true or false");
                }
            }
            default -> {
                // untyped (oneOf/anyOf wrappers, int-or-string): nothing more to check here
            }
        }
    }
}
