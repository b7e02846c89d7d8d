package io.meshguard.dlp.mcp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;

/**
 * The digest of what a tool promises an agent: its name, description and input schema, in canonical JSON (object keys
 * sorted, numbers by value), so a server that only reorders keys or writes {@code 1.0} for {@code 1} keeps its pin,
 * and any change of a word or a schema keyword does not. Written {@code sha256:<hex>}: what logs and audit rows name.
 */
public final class ToolDigest {
    private ToolDigest() {}

    /** The digest of a pin's parts; an absent description is not the empty one. */
    public static String of(String name, Optional<String> description, JsonNode inputSchema) {
        ObjectNode tool = JsonNodeFactory.instance.objectNode();
        tool.put("name", name);
        description.ifPresent(d -> tool.put("description", d));
        tool.set("inputSchema", inputSchema);
        return sha256(JsonText.canonical(tool));
    }

    /**
     * The digest of a tool as a {@code tools/list} answer lists it: the same three fields taken as they are (a
     * description that is not a string, or a missing schema, digests differently from every pin).
     */
    public static String ofListed(JsonNode tool) {
        ObjectNode parts = JsonNodeFactory.instance.objectNode();
        for (String field : new String[] {"name", "description", "inputSchema"}) {
            JsonNode v = tool.get(field);
            if (v != null) {
                parts.set(field, v);
            }
        }
        return sha256(JsonText.canonical(parts));
    }

    private static String sha256(String text) {
        try {
            return "sha256:"
                    + HexFormat.of()
                            .formatHex(
                                    MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }
}
