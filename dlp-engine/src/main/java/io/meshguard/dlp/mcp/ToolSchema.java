package io.meshguard.dlp.mcp;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaException;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.PathType;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A pinned {@code inputSchema} compiled once, when the policy is loaded, and used for every call of its tool (networknt
 * json-schema-validator, JSON Schema 2020-12 unless the schema names draft-07). Compiling refuses what the gateway
 * cannot hold to for certain: a reference outside the schema itself (nothing is fetched while a request waits), a
 * meta-schema other than 2020-12 or draft-07, a pattern RE2 cannot run, and schemas deeper or larger than the bounds.
 */
public final class ToolSchema {
    /** Deeper schemas are refused: a tool's arguments are a few levels of objects, and validation recurses. */
    public static final int MAX_DEPTH = 32;
    /** JSON values in one schema, at most: it is compiled into one validator per keyword. */
    public static final int MAX_NODES = 5_000;
    /** Problems named in one refusal, at most. */
    static final int MAX_PROBLEMS = 5;

    private static final Set<String> META_SCHEMAS = Set.of(
            "https://json-schema.org/draft/2020-12/schema",
            "http://json-schema.org/draft-07/schema#",
            "http://json-schema.org/draft-07/schema");

    private static final SchemaValidatorsConfig CONFIG = SchemaValidatorsConfig.builder()
            .regularExpressionFactory(Re2jExpressions.INSTANCE)
            .pathType(PathType.JSON_PATH)
            .build();

    private final JsonSchema schema;

    private ToolSchema(JsonSchema schema) {
        this.schema = schema;
    }

    /**
     * The schema compiled.
     *
     * @throws IllegalArgumentException naming what cannot be held to (never a value of the schema's defaults or enums)
     */
    public static ToolSchema compile(JsonNode inputSchema) {
        if (!inputSchema.isObject()) {
            throw new IllegalArgumentException("an inputSchema is a JSON Schema object");
        }
        int[] nodes = {0};
        bounded(inputSchema, 1, nodes, "$");
        String meta = inputSchema.path("$schema").asText("https://json-schema.org/draft/2020-12/schema");
        if (!META_SCHEMAS.contains(meta)) {
            throw new IllegalArgumentException(
                    "$schema '" + meta + "' is not one the gateway validates with (JSON Schema 2020-12 or draft-07)");
        }
        SpecVersion.VersionFlag version =
                meta.contains("draft-07") ? SpecVersion.VersionFlag.V7 : SpecVersion.VersionFlag.V202012;
        try {
            // one factory per schema, without its cache: schemas without an $id must not share one by their base IRI
            JsonSchema compiled = JsonSchemaFactory.getInstance(version, b -> b.enableSchemaCache(false))
                    .getSchema(inputSchema, CONFIG);
            compiled.initializeValidators();
            return new ToolSchema(compiled);
        } catch (JsonSchemaException | IllegalArgumentException | IllegalStateException e) {
            throw new IllegalArgumentException("the validator cannot load this inputSchema: " + e.getMessage(), e);
        }
    }

    /**
     * What is wrong with {@code arguments}, at most {@link #MAX_PROBLEMS}, each the argument's place and the keyword it
     * fails ({@code $.amount: type}): never a value, so refusals, logs and audit rows can carry them.
     */
    public List<String> problems(JsonNode arguments) {
        Set<ValidationMessage> messages = schema.validate(arguments);
        List<String> out = new ArrayList<>();
        messages.stream()
                .map(m -> m.getInstanceLocation() + ": " + m.getType())
                .distinct()
                .sorted(Comparator.naturalOrder())
                .limit(MAX_PROBLEMS)
                .forEach(out::add);
        return out;
    }

    /** Walks the schema once: depth, size, and the keywords that would reach outside it or run a regex. */
    private static void bounded(JsonNode n, int depth, int[] nodes, String at) {
        if (depth > MAX_DEPTH) {
            throw new IllegalArgumentException("the schema is nested deeper than " + MAX_DEPTH + " levels at " + at);
        }
        if (++nodes[0] > MAX_NODES) {
            throw new IllegalArgumentException("the schema has more than " + MAX_NODES + " values");
        }
        if (n.isArray()) {
            for (int i = 0; i < n.size(); i++) {
                bounded(n.get(i), depth + 1, nodes, at + "[" + i + "]");
            }
            return;
        }
        if (!n.isObject()) {
            return;
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String key = e.getKey();
            JsonNode v = e.getValue();
            if ((key.equals("$ref") || key.equals("$dynamicRef") || key.equals("$recursiveRef"))
                    && v.isTextual()
                    && !v.textValue().startsWith("#")) {
                throw new IllegalArgumentException(
                        key + " at " + at + " points outside the schema; only references inside it (#…) are taken");
            }
            if (key.equals("pattern") && v.isTextual()) {
                Re2jExpressions.compile(v.textValue());
            }
            if (key.equals("patternProperties") && v.isObject()) {
                v.fieldNames().forEachRemaining(Re2jExpressions::compile);
            }
            bounded(v, depth + 1, nodes, at + "." + key);
        }
    }
}
