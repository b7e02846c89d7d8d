package io.meshguard.devstack;

import io.meshguard.testing.AdminHttp;
import java.net.URI;
import java.net.http.HttpResponse;

/** The admin API as the {@code up} tests' signed-in people call it: a bearer token and a JSON body. */
final class AdminCalls {

    private AdminCalls() {}

    /** {@code method url} with {@code body} (none when empty) as the holder of {@code bearer}. */
    static HttpResponse<String> call(String bearer, String method, String url, String body) throws Exception {
        return AdminHttp.send(
                URI.create(url), bearer, method, body.isEmpty() ? null : body, "Content-Type", "application/json");
    }

    /** An API named {@code name} at {@code /name} with one active version, {@code v1}. */
    static String api(String name) {
        return """
                {"name": "%s", "base_path": "/%s", "default_version": "v1",
                 "versions": [{"version": "v1", "status": "active"}]}""".formatted(name, name);
    }
}
