package io.meshguard.dlp.mcp;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The tools an MCP route's profile pins ({@code mcp_pins:} in dlp.yaml), each with its schema compiled once per policy
 * version. A listed tool is shown to agents only when it is exactly as pinned; a call runs only for a pinned tool and
 * only with arguments its pinned schema accepts. So a server that changes a tool after review (a "rug pull") changes
 * nothing an agent sees or sends until the new pin is reviewed and rolled out like any policy change.
 */
public final class ToolPins {
    /** Tools one profile may pin: a pin set is reviewed by people, and each schema is compiled. */
    public static final int MAX_TOOLS = 256;

    /** JSON-RPC "Invalid params": the MCP spec's answer to an unknown tool and to arguments that fail its schema. */
    public static final int INVALID_PARAMS = -32602;

    private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build());

    private final Map<String, PinnedTool> pins;
    private final Map<String, String> digests;
    private final Map<String, ToolSchema> schemas;

    /**
     * @throws IllegalArgumentException a tool pinned twice, too many tools, or a schema {@link ToolSchema#compile}
     *     refuses (the message names the tool)
     */
    public ToolPins(List<PinnedTool> tools) {
        if (tools.size() > MAX_TOOLS) {
            throw new IllegalArgumentException("at most " + MAX_TOOLS + " tools are pinned per profile");
        }
        Map<String, PinnedTool> byName = new LinkedHashMap<>();
        Map<String, String> digestByName = new LinkedHashMap<>();
        Map<String, ToolSchema> compiled = new LinkedHashMap<>();
        for (PinnedTool t : tools) {
            if (byName.putIfAbsent(t.name(), t) != null) {
                throw new IllegalArgumentException("tool '" + t.name() + "' is pinned twice");
            }
            try {
                compiled.put(t.name(), ToolSchema.compile(t.inputSchema()));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("tool '" + t.name() + "': " + e.getMessage(), e);
            }
            digestByName.put(t.name(), t.digest());
        }
        this.pins = Map.copyOf(byName);
        this.digests = Map.copyOf(digestByName);
        this.schemas = Map.copyOf(compiled);
    }

    public Map<String, PinnedTool> tools() {
        return pins;
    }

    /** How a tool of a {@code tools/list} answer compares with its pin. */
    public enum Standing {
        /** Listed exactly as pinned: shown. */
        AS_PINNED,
        /** Its name is pinned, but its description or input schema differ: dropped. */
        CHANGED,
        /** Not pinned at all: dropped. */
        NOT_PINNED
    }

    /**
     * One listed tool against its pin.
     *
     * @param pinned the pin's digest; empty for a tool not pinned
     * @param listed the digest of the tool as the server listed it
     */
    public record Review(String tool, Standing standing, Optional<String> pinned, String listed) {
        public boolean shown() {
            return standing == Standing.AS_PINNED;
        }
    }

    /** {@code tool} is a listed tool object with a string name (the caller checked). */
    public Review review(JsonNode tool) {
        String name = tool.get("name").textValue();
        String listed = ToolDigest.ofListed(tool);
        String pinned = digests.get(name);
        if (pinned == null) {
            return new Review(name, Standing.NOT_PINNED, Optional.empty(), listed);
        }
        return new Review(
                name, pinned.equals(listed) ? Standing.AS_PINNED : Standing.CHANGED, Optional.of(pinned), listed);
    }

    /**
     * Why a {@code tools/call} must not leave the gateway.
     *
     * @param code the block reason: {@code mcp_tool_not_pinned} or {@code mcp_arguments_invalid}
     * @param problem what is wrong, naming the tool and argument places, never a value
     * @param id the request's JSON-RPC id as JSON ({@code null} when it has none)
     */
    public record Refusal(String code, String problem, String id) {
        /** The 400 answer's body: a JSON-RPC error response with code {@value ToolPins#INVALID_PARAMS}. */
        public String errorBody() {
            return "{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"error\":{\"code\":" + INVALID_PARAMS + ",\"message\":"
                    + JsonNodeFactory.instance.textNode("Invalid params: " + problem) + "}}";
        }
    }

    /**
     * A request body (one JSON-RPC object, already held to its headers) against the pins: empty when it may go on. Only
     * {@code tools/call} is checked; a body that cannot be read is refused.
     */
    public Optional<Refusal> check(byte[] body) {
        JsonNode root;
        try {
            root = JSON.readTree(body);
        } catch (IOException e) {
            return Optional.of(new Refusal("mcp_arguments_invalid", "the body is not one JSON object", "null"));
        }
        if (root == null || !root.isObject()) {
            return Optional.of(new Refusal("mcp_arguments_invalid", "the body is not one JSON object", "null"));
        }
        JsonNode idNode = root.get("id");
        String id = idNode != null && (idNode.isTextual() || idNode.isIntegralNumber()) ? idNode.toString() : "null";
        if (!"tools/call".equals(root.path("method").textValue())) {
            return Optional.empty();
        }
        JsonNode params = root.path("params");
        JsonNode name = params.get("name");
        if (name == null || !name.isTextual()) {
            return Optional.of(new Refusal("mcp_arguments_invalid", "params.name is not a tool name", id));
        }
        String tool = name.textValue();
        ToolSchema schema = schemas.get(tool);
        if (schema == null) {
            return Optional.of(new Refusal("mcp_tool_not_pinned", "Unknown tool: " + tool, id));
        }
        JsonNode arguments = params.get("arguments");
        if (arguments == null) {
            arguments = JsonNodeFactory.instance.objectNode(); // "arguments" may be left out: no arguments at all
        } else if (!arguments.isObject()) {
            return Optional.of(new Refusal("mcp_arguments_invalid", "params.arguments is not an object", id));
        }
        List<String> problems = schema.problems(arguments);
        if (problems.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new Refusal(
                "mcp_arguments_invalid",
                "arguments of tool " + tool + " do not match its pinned inputSchema: " + String.join("; ", problems),
                id));
    }

    /** Whether a request body (held to its headers) is a {@code tools/list}: its answer is held to the pins. */
    public static boolean listsTools(byte[] body) {
        try {
            JsonNode root = JSON.readTree(body);
            return root != null && "tools/list".equals(root.path("method").textValue());
        } catch (IOException e) {
            return false;
        }
    }
}
