package io.meshguard.access;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The admin plane fetches keys where extauthz would: a discovered {@code jwks_uri} over plain http to another host is
 * refused before any fetch (anyone on the path could serve keys that sign any admin token).
 */
class AdminTokenVerifierKeyLocationTest {
    private HttpServer idp;

    @AfterEach
    void stop() {
        if (idp != null) {
            idp.stop(0);
        }
    }

    private String serveDiscovery(String jwksUri, AtomicInteger discoveries) throws Exception {
        idp = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        String issuer = "http://127.0.0.1:" + idp.getAddress().getPort() + "/realms/meshguard";
        idp.createContext("/realms/meshguard/.well-known/openid-configuration", exchange -> {
            discoveries.incrementAndGet();
            byte[] body = ("{\"issuer\":\"" + issuer + "\",\"jwks_uri\":\"" + jwksUri + "\"}")
                    .getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("content-type", "application/json");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        idp.start();
        return issuer;
    }

    // a well-formed token whose signature is never checked: the key location is refused first
    private static final String TOKEN = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl";

    @Test
    void discoveredJwksUri_plainHttpToAnotherHost_refused() throws Exception {
        AtomicInteger discoveries = new AtomicInteger();
        String issuer = serveDiscovery("http://idp.attacker.example/jwks", discoveries);
        AdminTokenVerifier verifier =
                new AdminTokenVerifier(new AdminTokenVerifier.Settings(issuer, "meshguard-admin", Duration.ZERO));

        AdminTokenVerifier.Result result = verifier.verify(TOKEN);

        assertThat(discoveries.get()).isEqualTo(1);
        assertThat(result).isInstanceOf(AdminTokenVerifier.Rejected.class);
        assertThat(((AdminTokenVerifier.Rejected) result).reason())
                .contains("http://idp.attacker.example/jwks")
                .contains("https only");
    }

    @Test
    void discoveredJwksUri_httpOnLoopback_isFetched() throws Exception {
        AtomicInteger discoveries = new AtomicInteger();
        String issuer = serveDiscovery("http://127.0.0.1:1/jwks", discoveries);
        AdminTokenVerifier verifier =
                new AdminTokenVerifier(new AdminTokenVerifier.Settings(issuer, "meshguard-admin", Duration.ZERO));

        AdminTokenVerifier.Result result = verifier.verify(TOKEN);

        // allowed as a location: the fetch itself fails (nothing listens on port 1), not the rule
        assertThat(result).isInstanceOf(AdminTokenVerifier.Rejected.class);
        assertThat(((AdminTokenVerifier.Rejected) result).reason()).doesNotContain("https only");
    }
}
