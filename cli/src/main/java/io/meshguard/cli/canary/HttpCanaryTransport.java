package io.meshguard.cli.canary;

import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** Canaries over HTTP(S) with the JDK's client, as any client of the route would reach it. */
public final class HttpCanaryTransport implements CanaryTransport {
    private final HttpClient client;
    private final Duration timeout;

    public HttpCanaryTransport(Duration timeout) {
        this.timeout = timeout;
        // never follow a redirect: a 3xx means the request was answered by something other than the denial
        this.client = HttpClient.newBuilder()
                .connectTimeout(timeout)
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
    }

    @Override
    public Answer send(Request request) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(request.url()).timeout(timeout);
        request.headers().forEach(b::header);
        b.method(
                request.method(),
                request.body().isEmpty()
                        ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(request.body(), StandardCharsets.UTF_8));
        HttpResponse<String> response = client.send(b.build(), HttpResponse.BodyHandlers.ofString());
        return new Answer(response.statusCode(), response.body());
    }
}
