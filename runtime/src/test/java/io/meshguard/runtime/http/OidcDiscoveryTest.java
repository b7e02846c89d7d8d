package io.meshguard.runtime.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Every reader of an issuer's discovery document: the issuer it names and where its keys may come from. */
class OidcDiscoveryTest {
    private HttpServer idp;
    private String issuer;
    private final AtomicReference<String> body = new AtomicReference<>();
    private final AtomicInteger status = new AtomicInteger(200);
    private final AtomicInteger fetches = new AtomicInteger();
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void start() throws IOException {
        idp = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        issuer = "http://127.0.0.1:" + idp.getAddress().getPort() + "/realms/bank";
        idp.createContext("/realms/bank/.well-known/openid-configuration", exchange -> {
            fetches.incrementAndGet();
            byte[] bytes = body.get().getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(status.get(), bytes.length);
            exchange.getResponseBody().write(bytes);
            exchange.close();
        });
        idp.start();
    }

    @AfterEach
    void stop() {
        idp.stop(0);
        http.close();
    }

    private OidcDiscovery discovery() {
        return new OidcDiscovery(issuer, http, Duration.ofSeconds(5));
    }

    private void serve(String issuerNamed, String jwksUri) {
        body.set("{\"issuer\":\"" + issuerNamed + "\",\"jwks_uri\":\"" + jwksUri
                + "\",\"token_endpoint\":\"https://idp.bank.example/token\"}");
    }

    @Test
    void location_withAndWithoutTrailingSlash_isTheWellKnownDocument() {
        assertThat(OidcDiscovery.location("https://idp.bank.example/realms/bank"))
                .isEqualTo(URI.create("https://idp.bank.example/realms/bank/.well-known/openid-configuration"));
        assertThat(OidcDiscovery.location("https://idp.bank.example/realms/bank/"))
                .isEqualTo(URI.create("https://idp.bank.example/realms/bank/.well-known/openid-configuration"));
    }

    @Test
    void document_namingTheIssuer_isReadOnceAndKept() throws IOException {
        serve(issuer, "https://idp.bank.example/certs");

        assertThat(discovery().endpoint("token_endpoint")).isEqualTo("https://idp.bank.example/token");
        OidcDiscovery kept = discovery();
        kept.document();
        kept.jwksUri();

        assertThat(fetches.get()).isEqualTo(2);
    }

    @Test
    void document_namingAnotherIssuer_refused() {
        serve("https://idp.attacker.example/realms/bank", "https://idp.attacker.example/certs");

        assertThatThrownBy(() -> discovery().document())
                .isInstanceOf(IOException.class)
                .hasMessageContaining("discovery names issuer https://idp.attacker.example/realms/bank");
    }

    @Test
    void document_namingTheIssuerWithATrailingSlash_refused() {
        serve(issuer + "/", "https://idp.bank.example/certs");

        assertThatThrownBy(() -> discovery().document()).hasMessageContaining("discovery names issuer");
    }

    @Test
    void document_failedFetch_refusedAndFetchedAgainNextTime() throws IOException {
        serve(issuer, "https://idp.bank.example/certs");
        status.set(503);
        OidcDiscovery discovery = discovery();

        assertThatThrownBy(discovery::document).hasMessageContaining("answered 503");
        status.set(200);

        assertThat(discovery.document()).containsEntry("issuer", issuer);
    }

    @Test
    void document_notJson_refused() {
        body.set("<html>sign in</html>");

        assertThatThrownBy(() -> discovery().document()).hasMessageContaining("not a JSON object");
    }

    @Test
    void jwksUri_plainHttpToAnotherHost_refused() {
        serve(issuer, "http://idp.attacker.example/certs");

        assertThatThrownBy(() -> discovery().jwksUri())
                .hasMessageContaining("http://idp.attacker.example/certs")
                .hasMessageContaining(KeySetLocations.RULE);
    }

    @Test
    void jwksUri_httpsOrHttpOnLoopback_allowed() throws IOException {
        serve(issuer, "https://idp.bank.example/certs");
        assertThat(discovery().jwksUri()).isEqualTo(URI.create("https://idp.bank.example/certs"));

        serve(issuer, "http://127.0.0.1:8080/certs");
        assertThat(discovery().jwksUri()).isEqualTo(URI.create("http://127.0.0.1:8080/certs"));
    }

    @Test
    void jwksUri_missing_refused() {
        body.set("{\"issuer\":\"" + issuer + "\"}");

        assertThatThrownBy(() -> discovery().jwksUri()).hasMessageContaining("no jwks_uri");
    }

    @Test
    void endpoint_notOffered_refused() {
        serve(issuer, "https://idp.bank.example/certs");

        assertThatThrownBy(() -> discovery().endpoint("device_authorization_endpoint"))
                .hasMessageContaining("does not offer device_authorization_endpoint");
    }
}
