package io.meshguard.dlp.mcp;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;

/**
 * A {@code tools/list} answer cut down to the tools the caller may call ({@code x-meshguard-mcp-tools}, which extauthz's
 * allow computes from the route's tool rules) and to the tools listed exactly as pinned ({@link ToolPins}), so that an
 * agent is never shown a tool it would be refused. The answer
 * is one JSON-RPC response (JSON) or an event stream whose events carry JSON-RPC messages (SSE, where progress
 * notifications may come before the response). What cannot be read for certain is refused rather than passed: a body
 * that is not JSON, duplicate keys, a {@code result} without a {@code tools} array, a tool without a string name.
 */
public final class McpToolList {
    private McpToolList() {}

    private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
                    .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                    .build())
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    /** The header's tool names; empty when it is not a JSON array of strings (the answer is then refused). */
    public static Optional<Set<String>> allowed(String header) {
        try {
            JsonNode n = JSON.readTree(header);
            if (n == null || !n.isArray()) {
                return Optional.empty();
            }
            Set<String> out = new LinkedHashSet<>();
            for (JsonNode name : n) {
                if (!name.isTextual()) {
                    return Optional.empty();
                }
                out.add(name.textValue());
            }
            return Optional.of(Set.copyOf(out));
        } catch (JsonProcessingException e) {
            return Optional.empty();
        }
    }

    /**
     * The answer with only {@code allowed} tools listed; bytes that need no change are returned as they came.
     *
     * @param eventStream the answer is {@code text/event-stream}, else one JSON-RPC message
     * @return empty when the answer cannot be read for certain: it must not reach the client
     */
    public static Optional<byte[]> filter(byte[] body, boolean eventStream, Set<String> allowed) {
        return filter(
                body, eventStream, tool -> allowed.contains(tool.get("name").textValue()));
    }

    /**
     * The answer with only the tools {@code keep} accepts; bytes that need no change are returned as they came.
     *
     * @param keep sees each listed tool, an object with a string {@code name}
     * @return empty when the answer cannot be read for certain: it must not reach the client
     */
    public static Optional<byte[]> filter(byte[] body, boolean eventStream, Predicate<JsonNode> keep) {
        return eventStream ? events(body, keep) : message(body, keep);
    }

    private static Optional<byte[]> message(byte[] body, Predicate<JsonNode> keep) {
        Optional<JsonNode> parsed = parse(body);
        if (parsed.isEmpty()) {
            return Optional.empty();
        }
        Optional<Optional<JsonNode>> cut = cut(parsed.get(), keep);
        if (cut.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(cut.get().map(McpToolList::bytes).orElse(body));
    }

    /**
     * One JSON-RPC message: a response's {@code result.tools} without the tools not allowed (empty inside: nothing was
     * removed); an error response or a notification unchanged. Empty outside: not one it can read for certain.
     */
    private static Optional<Optional<JsonNode>> cut(JsonNode message, Predicate<JsonNode> keep) {
        if (!message.isObject()) {
            return Optional.empty();
        }
        JsonNode result = message.get("result");
        if (result == null) {
            // an error answer, or a notification (progress) in an event stream: no tools in it
            return message.has("error") || message.has("method") ? Optional.of(Optional.empty()) : Optional.empty();
        }
        JsonNode tools = result.get("tools");
        if (!result.isObject() || tools == null || !tools.isArray()) {
            return Optional.empty();
        }
        ArrayNode kept = JSON.createArrayNode();
        for (JsonNode tool : tools) {
            JsonNode name = tool.get("name");
            if (!tool.isObject() || name == null || !name.isTextual()) {
                return Optional.empty();
            }
            if (keep.test(tool)) {
                kept.add(tool);
            }
        }
        if (kept.size() == tools.size()) {
            return Optional.of(Optional.empty());
        }
        ObjectNode copy = message.deepCopy();
        ((ObjectNode) copy.get("result")).set("tools", kept);
        return Optional.of(Optional.of(copy));
    }

    /**
     * Each event of the stream on its own: one whose data is a tools/list response is written again with one
     * {@code data:} line holding the cut response, its other fields ({@code id:}, {@code event:}, comments) kept in
     * place; every other event goes on byte for byte.
     */
    private static Optional<byte[]> events(byte[] body, Predicate<JsonNode> keep) {
        String text;
        try {
            text = StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(body))
                    .toString();
        } catch (CharacterCodingException e) {
            return Optional.empty();
        }
        StringBuilder out = new StringBuilder(text.length());
        boolean changed = false;
        int at = 0;
        while (at < text.length()) {
            int end = eventEnd(text, at);
            String event = text.substring(at, end);
            at = end;
            List<String> lines = lines(event);
            StringBuilder data = new StringBuilder();
            boolean hasData = false;
            for (String line : lines) {
                if (line.startsWith("data") && (line.length() == 4 || line.charAt(4) == ':')) {
                    String value = line.length() == 4 ? "" : line.substring(5);
                    if (hasData) {
                        data.append('\n');
                    }
                    data.append(value.startsWith(" ") ? value.substring(1) : value);
                    hasData = true;
                }
            }
            if (!hasData) {
                out.append(event);
                continue;
            }
            Optional<JsonNode> parsed = parse(data.toString().getBytes(StandardCharsets.UTF_8));
            if (parsed.isEmpty()) {
                return Optional.empty();
            }
            Optional<Optional<JsonNode>> cut = cut(parsed.get(), keep);
            if (cut.isEmpty()) {
                return Optional.empty();
            }
            if (cut.get().isEmpty()) {
                out.append(event);
                continue;
            }
            changed = true;
            boolean written = false;
            for (String line : lines) {
                if (line.isEmpty()) {
                    continue;
                }
                if (line.startsWith("data") && (line.length() == 4 || line.charAt(4) == ':')) {
                    if (!written) {
                        out.append("data: ")
                                .append(new String(bytes(cut.get().get()), StandardCharsets.UTF_8))
                                .append('\n');
                        written = true;
                    }
                } else {
                    out.append(line).append('\n');
                }
            }
            out.append('\n');
        }
        return Optional.of(changed ? out.toString().getBytes(StandardCharsets.UTF_8) : body);
    }

    /** Where the event starting at {@code from} ends: after its blank line (any of SSE's line ends), or the text's end. */
    private static int eventEnd(String text, int from) {
        int i = from;
        boolean lineStart = true;
        while (i < text.length()) {
            char c = text.charAt(i);
            if (c == '\r' || c == '\n') {
                int next = c == '\r' && i + 1 < text.length() && text.charAt(i + 1) == '\n' ? i + 2 : i + 1;
                if (lineStart && i > from) {
                    return next;
                }
                lineStart = true;
                i = next;
            } else {
                lineStart = false;
                i++;
            }
        }
        return text.length();
    }

    private static List<String> lines(String event) {
        List<String> out = new ArrayList<>();
        for (String line : event.split("\r\n|\r|\n", -1)) {
            out.add(line);
        }
        return out;
    }

    private static Optional<JsonNode> parse(byte[] json) {
        try {
            JsonNode n = JSON.readTree(json);
            return n == null || n.isMissingNode() ? Optional.empty() : Optional.of(n);
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static byte[] bytes(JsonNode n) {
        try {
            return JSON.writeValueAsBytes(n);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write a JSON tree just read", e);
        }
    }
}
