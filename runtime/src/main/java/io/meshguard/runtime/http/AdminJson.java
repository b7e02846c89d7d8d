package io.meshguard.runtime.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * What the JSON admin APIs share (the controller's config, audit, catalogue and zone APIs, extauthz's {@code /quotas}
 * and {@code /apikeys}): a bounded JSON object body, the path below the endpoint's prefix without percent-encoding, a
 * JSON answer, and one kind of refusal that carries the HTTP status to answer and becomes {@code {"error": …}}.
 */
public final class AdminJson {
    /** A request refused with {@code status} and a message for the caller. */
    public static final class Refusal extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final int status;

        public Refusal(int status, String message) {
            super(message);
            this.status = status;
        }

        public int status() {
            return status;
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private AdminJson() {}

    /** The body as a JSON object of at most {@code maxBytes}. */
    public static JsonNode readObject(HttpExchange exchange, int maxBytes) throws IOException, Refusal {
        try (InputStream in = exchange.getRequestBody()) {
            byte[] bytes = in.readNBytes(maxBytes + 1);
            if (bytes.length > maxBytes) {
                throw new Refusal(413, "request body over " + maxBytes + " bytes");
            }
            JsonNode n;
            try {
                n = JSON.readTree(bytes);
            } catch (IOException e) {
                throw new Refusal(400, "the body must be a JSON object");
            }
            if (n == null || !n.isObject()) {
                throw new Refusal(400, "the body must be a JSON object");
            }
            return n;
        }
    }

    /** The segments of {@code rawPath} below {@code prefix}; encoded characters are refused, not decoded. */
    public static List<String> segmentsBelow(String prefix, String rawPath) throws Refusal {
        if (!rawPath.equals(prefix) && !rawPath.startsWith(prefix + "/")) {
            throw new Refusal(404, "not found");
        }
        List<String> out = new ArrayList<>();
        for (String s : rawPath.substring(prefix.length()).split("/")) {
            if (!s.isEmpty()) {
                if (s.contains("%")) {
                    throw new Refusal(400, "encoded characters are not accepted in the path");
                }
                out.add(s);
            }
        }
        return out;
    }

    /** The body of a refusal: {@code {"error": message}}. */
    public static ObjectNode error(String message) {
        return JSON.createObjectNode().put("error", message);
    }

    /** Answers {@code body} as indented JSON. */
    public static void send(HttpExchange exchange, int status, JsonNode body) throws IOException {
        byte[] bytes = JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(body);
        exchange.getResponseHeaders().set("content-type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }
}
