package io.meshguard.emulator;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A request as a client sends it to the gateway: method, {@code :authority}, raw {@code :path}, headers (without
 * pseudo-headers) and the body in the chunks the client sends.
 */
public record DownstreamRequest(
        String method, String authority, String path, Headers headers, List<byte[]> bodyChunks) {
    public DownstreamRequest {
        bodyChunks = List.copyOf(bodyChunks);
    }

    public static DownstreamRequest get(String authority, String path, String... headers) {
        return new DownstreamRequest("GET", authority, path, Headers.of(headers), List.of());
    }

    /** A request with a body sent in one chunk, with its content-length. */
    public static DownstreamRequest withBody(
            String method, String authority, String path, String body, String... headers) {
        Headers h = Headers.of(headers);
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        h.set("content-length", Integer.toString(bytes.length));
        return new DownstreamRequest(method, authority, path, h, bytes.length == 0 ? List.of() : List.of(bytes));
    }

    public byte[] body() {
        return Exchange.concat(bodyChunks);
    }

    /** Same request with another method. */
    public DownstreamRequest withMethod(String newMethod) {
        return new DownstreamRequest(newMethod, authority, path, headers.copy(), new ArrayList<>(bodyChunks));
    }

    /** Same request with one more header. */
    public DownstreamRequest with(String name, String value) {
        Headers h = headers.copy();
        h.add(name, value);
        return new DownstreamRequest(method, authority, path, h, new ArrayList<>(bodyChunks));
    }
}
