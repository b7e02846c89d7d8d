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

    /** A page as a browser asks for it: {@code GET url} with {@code cookie} (no {@code Cookie} header when empty). */
    public static HttpResponse<String> page(URI url, String cookie) throws IOException, InterruptedException {
        return cookie.isEmpty() ? send(url, null, "GET", null) : send(url, null, "GET", null, "Cookie", cookie);
    }

    /** A form as a browser posts it ({@code application/x-www-form-urlencoded}) with {@code cookie}. */
    public static HttpResponse<String> form(URI url, String cookie, String form)
            throws IOException, InterruptedException {
        return send(url, null, "POST", form, "Cookie", cookie, "Content-Type", "application/x-www-form-urlencoded");
    }

    /** The value of the cookie {@code name} that {@code r} sets; fails the test when it sets none. */
    public static String cookie(HttpResponse<?> r, String name) {
        String header = r.headers().allValues("Set-Cookie").stream()
                .filter(c -> c.startsWith(name + "="))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no " + name + " cookie: " + r.headers()));
        return header.substring(name.length() + 1, header.indexOf(';'));
    }
}
