package io.meshguard.dlp.mcp;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The pins of a live {@code tools/list} answer, for a person to review and put under {@code mcp_pins:} (meshguard dlp
 * pin): every tool's name, description and input schema exactly as listed, written as YAML whose values are JSON (a
 * description keeps every character, a schema every keyword), so the written pin digests as the listed tool does.
 */
public final class ToolListPins {
    private ToolListPins() {}

    private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build());

    /**
     * The listed tools of one answer: a JSON-RPC response, or an event stream whose events carry one (the last event
     * with a {@code result} counts).
     *
     * @throws IllegalArgumentException the answer is no tools/list response, or a tool lacks a string name or an
     *     object input schema
     */
    public static List<JsonNode> tools(String answer) {
        JsonNode response = response(answer.strip())
                .orElseThrow(() -> new IllegalArgumentException("not a tools/list response: no JSON-RPC result"));
        JsonNode tools = response.path("result").path("tools");
        if (!tools.isArray()) {
            throw new IllegalArgumentException("not a tools/list response: result.tools is not a list");
        }
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode t : tools) {
            if (!t.path("name").isTextual()) {
                throw new IllegalArgumentException("a listed tool has no string name");
            }
            if (!t.path("inputSchema").isObject()) {
                throw new IllegalArgumentException("tool " + t.get("name").textValue() + " has no inputSchema object");
            }
            if (t.has("description") && !t.get("description").isTextual()) {
                throw new IllegalArgumentException(
                        "tool " + t.get("name").textValue() + " has a description that is not a string");
            }
            out.add(t);
        }
        return out;
    }

    /** {@code mcp_pins:} with the given listed tools, indented for a profile of dlp.yaml (four spaces). */
    public static String yaml(List<JsonNode> tools) {
        StringBuilder out = new StringBuilder("    mcp_pins:\n      tools:\n");
        for (JsonNode t : tools) {
            out.append("        - name: ").append(t.get("name")).append('\n');
            if (t.has("description")) {
                out.append("          description: ")
                        .append(t.get("description"))
                        .append('\n');
            }
            out.append("          input_schema: ")
                    .append(JsonText.spaced(t.get("inputSchema")))
                    .append('\n');
        }
        return out.toString();
    }

    private static Optional<JsonNode> response(String answer) {
        if (answer.startsWith("{")) {
            return parse(answer).filter(n -> n.has("result"));
        }
        Optional<JsonNode> last = Optional.empty();
        for (String line : answer.split("\r\n|\r|\n")) {
            if (line.startsWith("data:")) {
                Optional<JsonNode> n = parse(line.substring(5).strip()).filter(m -> m.has("result"));
                if (n.isPresent()) {
                    last = n;
                }
            }
        }
        return last;
    }

    private static Optional<JsonNode> parse(String json) {
        try {
            JsonNode n = JSON.readTree(json);
            return n != null && n.isObject() ? Optional.of(n) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
