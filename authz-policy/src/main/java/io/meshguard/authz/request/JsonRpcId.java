package io.meshguard.authz.request;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.io.InputStream;

/**
 * The {@code id} of a JSON-RPC request body, as JSON text to echo in an error response. Only ever echoed, never
 * decided on: a refusal is a refusal whatever it says. {@code null} (the text) whenever the id cannot be told for
 * certain, as JSON-RPC 2.0 §5 answers a request whose id could not be detected: no body, a body that is not one JSON
 * object, a top-level {@code id} given twice, an id that is not a string or an integer (the types MCP allows), or one
 * whose JSON text is longer than {@value #MAX_ID_CHARS} characters (a refusal does not reflect kilobytes back).
 *
 * <p>A body Envoy cut at {@code max_request_bytes} ({@code x-envoy-auth-partial-body: true}) ends in the middle of the
 * JSON: an id read whole before the cut is echoed. A second {@code id} after the cut cannot be seen, which only
 * matters to a client that sent two.
 */
public final class JsonRpcId {
    private JsonRpcId() {}

    static final int MAX_ID_CHARS = 256;

    /** Nesting the reader follows before it gives up (Jackson's default is 1000; a request needs a handful). */
    private static final int MAX_DEPTH = 64;

    public static final String NULL = "null";

    private static final JsonFactory JSON = JsonFactory.builder()
            .streamReadConstraints(
                    StreamReadConstraints.builder().maxNestingDepth(MAX_DEPTH).build())
            .build();

    /**
     * @param body the request body the Check carried (empty when Envoy sent none)
     * @param partial Envoy sent only the body's first {@code max_request_bytes}
     */
    public static String of(ByteString body, boolean partial) {
        if (body.isEmpty()) {
            return NULL;
        }
        String found = null;
        try (InputStream in = body.newInput();
                JsonParser p = JSON.createParser(in)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return NULL;
            }
            JsonToken t;
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken value = p.nextToken();
                if (name.equals("id")) {
                    if (found != null) {
                        return NULL; // which one counts is the reader's guess: no guessing
                    }
                    found = idText(p, value);
                } else {
                    p.skipChildren();
                }
            }
            if (t != JsonToken.END_OBJECT || p.nextToken() != null) {
                return NULL;
            }
            return found == null ? NULL : found;
        } catch (IOException | RuntimeException e) {
            // a cut body ends mid-value; an id read whole before the cut stands. Any other unreadable body has none
            return partial && found != null ? found : NULL;
        }
    }

    /** The id's JSON text, or {@code "null"} (as text, never Java's null) for a value that is no MCP request id. */
    private static String idText(JsonParser p, JsonToken value) throws IOException {
        String text;
        if (value == JsonToken.VALUE_STRING) {
            text = '"' + new String(JsonStringEncoder.getInstance().quoteAsString(p.getText())) + '"';
        } else if (value == JsonToken.VALUE_NUMBER_INT) {
            text = p.getText();
        } else {
            p.skipChildren();
            return NULL;
        }
        return text.length() > MAX_ID_CHARS ? NULL : text;
    }
}
