package io.meshguard.emulator;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

/**
 * What happened to one request in the emulated gateway: what the client got back and, step by step, why.
 *
 * @param status the HTTP status the client received
 * @param headers the response headers the client received
 * @param bodyChunks the response body in the pieces the client received them
 * @param route the route name chosen ("" when none matched)
 * @param cluster the upstream cluster picked ("" when the request reached none)
 * @param requestId the request's {@code x-request-id}
 * @param upstreamReached whether a request was sent to an upstream host
 * @param steps the trace, one line per step, for people ({@code meshguard demo}) and failure messages
 */
public record Exchange(
        int status,
        Headers headers,
        List<byte[]> bodyChunks,
        String route,
        String cluster,
        String requestId,
        boolean upstreamReached,
        List<String> steps) {

    public Exchange {
        bodyChunks = List.copyOf(bodyChunks);
        steps = List.copyOf(steps);
    }

    public String body() {
        return new String(concat(bodyChunks), StandardCharsets.UTF_8);
    }

    public Optional<String> header(String name) {
        return headers.first(name);
    }

    /** The trace and outcome as text, for assertion messages. */
    public String describe() {
        return String.join("\n", steps) + "\n=> " + status + " " + headers + " " + body();
    }

    static byte[] concat(List<byte[]> chunks) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        chunks.forEach(out::writeBytes);
        return out.toByteArray();
    }
}
