package io.meshguard.dlp.mcp;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Objects;
import java.util.Optional;

/**
 * One tool as the security team accepted it: what a {@code tools/list} answer must list unchanged for agents to see
 * it, and the schema a {@code tools/call}'s arguments must fit before they leave the gateway.
 *
 * @param description the exact text the server describes the tool with; empty when it gives none
 * @param inputSchema the tool's {@code inputSchema} (a JSON Schema object); never changed after construction
 */
public record PinnedTool(String name, Optional<String> description, JsonNode inputSchema) {
    public PinnedTool {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(description, "description");
        Objects.requireNonNull(inputSchema, "inputSchema");
        inputSchema = inputSchema.deepCopy();
    }

    /** {@link ToolDigest#of}: equal to the digest of a listed tool exactly when the listing matches this pin. */
    public String digest() {
        return ToolDigest.of(name, description, inputSchema);
    }
}
