package io.meshguard.devstack.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;

/** Writes OpenAI-style stream events, and reads them back strictly: every event ends with a blank line, every data line is JSON or [DONE]. */
public final class Sse {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Sse() {}

    /** The {@code data:} payloads of the stream, in order; throws when the stream is not well-formed SSE. */
    public static List<String> events(String stream) {
        if (!stream.endsWith("\n\n")) {
            throw new IllegalArgumentException("stream does not end with a complete event: " + stream);
        }
        List<String> data = new ArrayList<>();
        for (String event : stream.substring(0, stream.length() - 2).split("\n\n", -1)) {
            for (String line : event.split("\n")) {
                if (!line.startsWith("data: ")) {
                    throw new IllegalArgumentException("not a data line: '" + line + "' in " + stream);
                }
                data.add(line.substring("data: ".length()));
            }
        }
        return data;
    }

    /** The concatenated {@code choices[0].delta.content} of the stream's JSON events. */
    public static String content(List<String> events) throws Exception {
        StringBuilder text = new StringBuilder();
        for (String e : events) {
            if (e.equals("[DONE]")) {
                continue;
            }
            JsonNode node = JSON.readTree(e);
            text.append(
                    node.path("choices").path(0).path("delta").path("content").asText());
        }
        return text.toString();
    }

    public static String event(String content) {
        return "data: "
                + JSON.createObjectNode()
                        .set(
                                "choices",
                                JSON.createArrayNode()
                                        .add(JSON.createObjectNode()
                                                .set(
                                                        "delta",
                                                        JSON.createObjectNode().put("content", content))))
                + "\n\n";
    }
}
