package io.meshguard.devstack;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

/** The admin API as the {@code up} tests' signed-in people call it: a bearer token and a JSON body. */
final class AdminCalls {
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private AdminCalls() {}

    /** {@code method url} with {@code body} (none when empty) as the holder of {@code bearer}. */
    static HttpResponse<String> call(String bearer, String method, String url, String body) throws Exception {
        return HTTP.send(
                HttpRequest.newBuilder(URI.create(url))
                        .header("Authorization", "Bearer " + bearer)
                        .header("Content-Type", "application/json")
                        .method(
                                method,
                                body.isEmpty()
                                        ? HttpRequest.BodyPublishers.noBody()
                                        : HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** An API named {@code name} at {@code /name} with one active version, {@code v1}. */
    static String api(String name) {
        return """
                {"name": "%s", "base_path": "/%s", "default_version": "v1",
                 "versions": [{"version": "v1", "status": "active"}]}""".formatted(name, name);
    }
}
