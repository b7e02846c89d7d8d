package io.meshguard.testing;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

/**
 * Admin API calls as the tests make them: a method, a URL (or a path on a loopback port), a bearer token and a body,
 * the answer's body as text. One client for every test: it keeps no state between calls.
 */
public final class AdminHttp {
    private static final HttpClient CLIENT = HttpClient.newHttpClient();

    private AdminHttp() {}

    /**
     * {@code method path} on {@code 127.0.0.1:port} as the holder of {@code bearer} (no {@code Authorization} header
     * when null), with {@code body} (none when null) and any further {@code headers} (name, value, …).
     */
    public static HttpResponse<String> send(
            int port, String bearer, String method, String path, String body, String... headers)
            throws IOException, InterruptedException {
        return send(URI.create("http://127.0.0.1:" + port + path), bearer, method, body, headers);
    }

    /** {@code method url} as {@link #send(int, String, String, String, String, String...)} sends a path. */
    public static HttpResponse<String> send(URI url, String bearer, String method, String body, String... headers)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(url)
                .method(
                        method,
                        body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (bearer != null) {
            b.header("Authorization", "Bearer " + bearer);
        }
        if (headers.length > 0) {
            b.headers(headers);
        }
        return CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }
}
