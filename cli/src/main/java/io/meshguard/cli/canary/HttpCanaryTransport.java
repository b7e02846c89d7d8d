package io.meshguard.cli.canary;

import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import javax.net.ssl.SSLContext;

/** Canaries over HTTP(S) with the JDK's client, as any client of the route would reach it. */
public final class HttpCanaryTransport implements CanaryTransport {
    private final HttpClient client;
    private final Duration timeout;

    /** @param tls the CAs trusted for HTTPS routes; empty: the JDK trust store */
    public HttpCanaryTransport(Duration timeout, Optional<SSLContext> tls) {
        this.timeout = timeout;
        // never follow a redirect: a 3xx means the request was answered by something other than the denial
        HttpClient.Builder client =
                HttpClient.newBuilder().connectTimeout(timeout).followRedirects(HttpClient.Redirect.NEVER);
        tls.ifPresent(client::sslContext);
        this.client = client.build();
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
