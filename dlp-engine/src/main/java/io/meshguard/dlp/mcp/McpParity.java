package io.meshguard.dlp.mcp;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshguard.contract.McpHeaders;
import java.io.IOException;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Holds an MCP request's metadata headers to its JSON-RPC body, as MCP's Streamable HTTP transport (2026-07-28,
 * "Server Validation") requires of anything that reads the body: the method, the tool/prompt name or resource URI,
 * the protocol version in {@code params._meta}, and every {@code Mcp-Param-*} header against the argument of that name.
 * A request that fails is answered 400 with JSON-RPC error {@value McpHeaders#HEADER_MISMATCH} and never reaches the
 * server, so a decision made on the headers (extauthz) is a decision on what the server executes.
 *
 * <p>What cannot be checked is refused rather than passed: a body that is not one JSON object (batches, parse errors),
 * a key given twice anywhere (parsers disagree on which one counts), a header sent twice or badly encoded, a header-era
 * request without a header its method requires, and an {@code Mcp-Param-*} header that names no argument (or more than
 * one, at different depths): without the tool's schema the argument is found by name, case-insensitively, through
 * nested objects but never through arrays (the transport's "statically reachable" rule).
 */
public final class McpParity {
    private McpParity() {}

    private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build());

    private static final String META_VERSION = "io.modelcontextprotocol/protocolVersion";

    /**
     * The verdict on one request.
     *
     * @param problem why the request is refused (names headers and fields, never a value); empty when it passes
     * @param id the JSON-RPC id to answer with, as JSON ({@code null} when there is none)
     * @param code the JSON-RPC error code of the refusal: {@value McpHeaders#HEADER_MISMATCH} when headers and body
     *     disagree, {@value McpParity#INVALID_PARAMS} when the body lacks what the version requires of every request
     */
    public record Verdict(Optional<String> problem, String id, int code) {
        /** A header/body disagreement ({@value McpHeaders#HEADER_MISMATCH}), or a pass. */
        public Verdict(Optional<String> problem, String id) {
            this(problem, id, McpHeaders.HEADER_MISMATCH);
        }

        public boolean passes() {
            return problem.isEmpty();
        }

        /** The 400 answer's body: a JSON-RPC error response with the verdict's code. */
        public String errorBody() {
            String kind = code == INVALID_PARAMS ? "Invalid params: " : "Header mismatch: ";
            return "{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"error\":{\"code\":" + code + ",\"message\":"
                    + JSON.getNodeFactory().textNode(kind + problem.orElse("")) + "}}";
        }
    }

    /** JSON-RPC's Invalid params: what the spec answers a request whose {@code _meta} lacks a required field. */
    public static final int INVALID_PARAMS = -32602;

    /**
     * @param headers every MCP header line the request carried ({@link McpHeaders#isMcpHeader}), by lower-case name,
     *     each with all its values in order
     * @param body the whole request body
     */
    public static Verdict check(Map<String, List<String>> headers, byte[] body) {
        JsonNode root;
        try {
            root = JSON.readTree(body);
        } catch (JsonProcessingException e) {
            return refuse("the body is not one JSON object (or gives a key twice)", "null");
        } catch (IOException e) {
            return refuse("the body cannot be read", "null");
        }
        if (root == null || !root.isObject()) {
            return refuse("the body is not one JSON-RPC request object", "null");
        }
        JsonNode idNode = root.get("id");
        String id = idNode != null && (idNode.isTextual() || idNode.isIntegralNumber()) ? idNode.toString() : "null";
        Map<String, String> decoded = new java.util.TreeMap<>();
        for (Map.Entry<String, List<String>> e : headers.entrySet()) {
            if (e.getValue().size() != 1) {
                return refuse(e.getKey() + " sent more than once", id);
            }
            Optional<String> v = McpHeaders.decode(e.getValue().get(0));
            if (v.isEmpty()) {
                return refuse(e.getKey() + " has invalid characters", id);
            }
            decoded.put(e.getKey(), v.get());
        }
        String version = decoded.get(McpHeaders.PROTOCOL_VERSION);
        if (version != null && !McpHeaders.wellFormedVersion(version)) {
            return refuse(McpHeaders.PROTOCOL_VERSION + " is not a protocol version", id);
        }
        boolean headerEra = version != null && McpHeaders.headerEra(version);
        JsonNode methodNode = root.get("method");
        String method = methodNode != null && methodNode.isTextual() ? methodNode.asText() : null;
        JsonNode params = root.get("params");
        if (params != null && !params.isObject()) {
            return refuse("params is not an object", id);
        }

        String headerMethod = decoded.get(McpHeaders.METHOD);
        if (headerMethod != null || headerEra) {
            if (headerMethod == null) {
                return refuse("Mcp-Method header missing", id);
            }
            if (!headerMethod.equals(method)) {
                return refuse("Mcp-Method header does not match the body's method", id);
            }
        }

        String headerName = decoded.get(McpHeaders.NAME);
        boolean named = method != null && McpHeaders.NAMED_METHODS.contains(method);
        if (headerName != null || (headerEra && named)) {
            if (headerName == null) {
                return refuse("Mcp-Name header missing", id);
            }
            String field = method == null ? "name" : McpHeaders.nameField(method);
            JsonNode bodyName = params == null ? null : params.get(field);
            if (bodyName == null || !bodyName.isTextual() || !bodyName.asText().equals(headerName)) {
                return refuse("Mcp-Name header does not match the body's params." + field, id);
            }
        }

        JsonNode meta = params == null ? null : params.get("_meta");
        JsonNode bodyVersion = meta != null && meta.isObject() ? meta.get(META_VERSION) : null;
        if (version != null && headerEra && bodyVersion == null) {
            // nothing to hold the header to: refused, with the code the spec gives a request that lacks a required
            // _meta field (SEP-2575; the official conformance suite checks for it), not as a disagreement
            return new Verdict(
                    Optional.of("params._meta lacks " + META_VERSION + ", which requests of " + McpHeaders.HEADER_ERA
                            + " and later carry"),
                    id,
                    INVALID_PARAMS);
        }
        if (version != null && (headerEra || bodyVersion != null)) {
            if (bodyVersion == null
                    || !bodyVersion.isTextual()
                    || !bodyVersion.asText().equals(version)) {
                return refuse("MCP-Protocol-Version header does not match params._meta's protocol version", id);
            }
        }

        JsonNode arguments = params == null ? null : params.get("arguments");
        for (Map.Entry<String, String> e : decoded.entrySet()) {
            if (!e.getKey().startsWith(McpHeaders.PARAM_PREFIX)) {
                continue;
            }
            String param = e.getKey().substring(McpHeaders.PARAM_PREFIX.length());
            List<JsonNode> found = new ArrayList<>(1);
            if (arguments != null && arguments.isObject()) {
                find(arguments, param, found, 0);
            }
            if (found.size() != 1) {
                return refuse(
                        e.getKey() + (found.isEmpty() ? " names no argument of the call" : " names several arguments"),
                        id);
            }
            if (!same(found.get(0), e.getValue())) {
                return refuse(e.getKey() + " does not match its argument", id);
            }
        }
        return new Verdict(Optional.empty(), id);
    }

    private static Verdict refuse(String why, String id) {
        return new Verdict(Optional.of(why), id);
    }

    private static final int MAX_DEPTH = 32;

    /** Object members named {@code name} (any case), through nested objects only. */
    private static void find(JsonNode object, String name, List<JsonNode> found, int depth) {
        if (depth > MAX_DEPTH || found.size() > 1) {
            return;
        }
        Iterator<Map.Entry<String, JsonNode>> it = object.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> f = it.next();
            if (f.getKey().equalsIgnoreCase(name)) {
                found.add(f.getValue());
            }
            if (f.getValue().isObject()) {
                find(f.getValue(), name, found, depth + 1);
            }
        }
    }

    /** The header's value against the body's: strings exactly, numbers numerically, booleans as true/false. */
    private static boolean same(JsonNode body, String header) {
        if (body.isTextual()) {
            return body.asText().equals(header);
        }
        if (body.isBoolean()) {
            return Boolean.toString(body.asBoolean()).equals(header);
        }
        if (body.isNumber()) {
            try {
                return body.decimalValue().compareTo(new BigDecimal(header)) == 0;
            } catch (NumberFormatException e) {
                return false;
            }
        }
        return false; // null, objects and arrays are never mirrored
    }
}
