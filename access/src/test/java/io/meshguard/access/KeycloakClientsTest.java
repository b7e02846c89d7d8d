package io.meshguard.access;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.KeycloakServer;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Customers' OAuth2 clients are created in the real Keycloak by meshguard's least-privileged provisioning client:
 * the application signs in with client credentials and its token names it ({@code azp}, the id extauthz's
 * subscription check uses) and its tenant; a new secret replaces the old one at once; a disabled client gets no new token.
 */
@IntegrationTest
class KeycloakClientsTest {
    private static final String REALM = "provisioning";
    private static KeycloakServer keycloak;
    private static KeycloakClients clients;

    @BeforeAll
    static void realm() throws Exception {
        keycloak = KeycloakServer.shared();
        try (InputStream in = KeycloakClientsTest.class.getResourceAsStream("/provisioning-realm.json")) {
            keycloak.importRealm(new String(in.readAllBytes(), StandardCharsets.UTF_8)
                    .replace("\"realm\": \"REALM\"", "\"realm\": \"" + REALM + "\""));
        }
        clients = new KeycloakClients(
                keycloak.baseUrl(), REALM, "meshguard-provisioner", "provisioner-secret", "payments-api");
    }

    @Test
    void tokenEndpoint_isTheOneCustomersReach_asTheRealmsDiscoveryNamesIt_notTheControllersAddress() throws Exception {
        // the controller reaches Keycloak inside the cluster; customers reach the realm at its frontend URL
        try (InputStream in = KeycloakClientsTest.class.getResourceAsStream("/provisioning-realm.json")) {
            keycloak.importRealm(
                    new String(in.readAllBytes(), StandardCharsets.UTF_8)
                            .replace(
                                    "\"realm\": \"REALM\"",
                                    "\"realm\": \"public-sso\", \"attributes\": {\"frontendUrl\": \"https://sso.bank.example\"}"));
        }
        KeycloakClients behindFront = new KeycloakClients(
                keycloak.baseUrl(), "public-sso", "meshguard-provisioner", "provisioner-secret", "payments-api");
        KeycloakClients away = new KeycloakClients("http://127.0.0.1:9", REALM, "p", "s", "a");

        assertThat(behindFront.tokenEndpoint())
                .isEqualTo("https://sso.bank.example/realms/public-sso/protocol/openid-connect/token");
        assertThat(clients.tokenEndpoint()).startsWith(keycloak.baseUrl() + "/realms/" + REALM + "/");
        // discovery unanswered: the endpoint at the address it was given
        assertThat(away.tokenEndpoint())
                .isEqualTo("http://127.0.0.1:9/realms/" + REALM + "/protocol/openid-connect/token");
    }

    @Test
    void tokenEndpoint_discoveryFailing_isAskedOnce_notByEveryDocumentThatNamesIt() throws Exception {
        AtomicInteger asked = new AtomicInteger();
        HttpServer failing = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        failing.createContext("/", exchange -> {
            asked.incrementAndGet();
            exchange.sendResponseHeaders(503, -1);
            exchange.close();
        });
        failing.start();
        try {
            KeycloakClients clients = new KeycloakClients(
                    "http://127.0.0.1:" + failing.getAddress().getPort(), REALM, "p", "s", "a");
            for (int i = 0; i < 3; i++) {
                assertThat(clients.tokenEndpoint()).endsWith("/realms/" + REALM + "/protocol/openid-connect/token");
            }
            assertThat(asked).hasValue(1);
        } finally {
            failing.stop(0);
        }
    }

    private static int tokenStatus(String clientId, String secret) {
        return keycloak.token(
                        REALM,
                        Map.of("grant_type", "client_credentials", "client_id", clientId, "client_secret", secret))
                .statusCode();
    }

    @Test
    void createdClient_signsInWithClientCredentials_andItsTokenNamesIt() throws Exception {
        KeycloakClients.Created created = clients.create("initech-web", "initech", "Initech web app, subscription s-1");
        assertThat(created.secret()).hasSizeGreaterThanOrEqualTo(20);
        assertThat(created.toString()).doesNotContain(created.secret());
        var r = keycloak.token(
                REALM,
                Map.of(
                        "grant_type",
                        "client_credentials",
                        "client_id",
                        "initech-web",
                        "client_secret",
                        created.secret()));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        SignedJWT jwt = SignedJWT.parse(KeycloakServer.jsonField(r.body(), "access_token"));
        assertThat(jwt.getJWTClaimsSet().getStringClaim("azp")).isEqualTo("initech-web");
        assertThat(jwt.getJWTClaimsSet().getAudience()).contains("payments-api");
        assertThat(jwt.getJWTClaimsSet().getStringClaim("tenant"))
                .as("fixed in the client")
                .isEqualTo("initech");
        // only the client-credentials grant: no password grant for an application client
        assertThat(keycloak.token(
                                REALM,
                                Map.of(
                                        "grant_type",
                                        "password",
                                        "client_id",
                                        "initech-web",
                                        "client_secret",
                                        created.secret(),
                                        "username",
                                        "x",
                                        "password",
                                        "y"))
                        .statusCode())
                .isNotEqualTo(200);
    }

    @Test
    void newSecret_replacesTheOldOne_andDisabledClientGetsNoToken() {
        KeycloakClients.Created first = clients.create("initech-batch", "initech", "batch");
        KeycloakClients.Created second = clients.regenerateSecret("initech-batch");
        assertThat(second.secret()).isNotEqualTo(first.secret());
        assertThat(tokenStatus("initech-batch", first.secret())).isEqualTo(401);
        assertThat(tokenStatus("initech-batch", second.secret())).isEqualTo(200);
        clients.disable("initech-batch");
        assertThat(clients.enabled("initech-batch")).isFalse();
        assertThat(tokenStatus("initech-batch", second.secret())).isIn(400, 401);
    }

    @Test
    void provisioning_refusesDuplicates_andSaysWhenItCannotSignIn() {
        clients.create("initech-dup", "initech", "first");
        assertThatThrownBy(() -> clients.create("initech-dup", "initech", "again"))
                .isInstanceOf(KeycloakClients.ProvisioningFailed.class)
                .hasMessageContaining("already exists");
        KeycloakClients wrong =
                new KeycloakClients(keycloak.baseUrl(), REALM, "meshguard-provisioner", "wrong", "payments-api");
        assertThatThrownBy(() -> wrong.create("initech-x", "initech", "x"))
                .isInstanceOf(KeycloakClients.ProvisioningFailed.class)
                .hasMessageContaining("sign in as the provisioning client")
                .hasMessageNotContaining("wrong");
        KeycloakClients away = new KeycloakClients("http://127.0.0.1:9", REALM, "p", "s", "a");
        assertThatThrownBy(() -> away.create("c", "t", "d"))
                .isInstanceOf(KeycloakClients.ProvisioningFailed.class)
                .hasMessageContaining("cannot be reached");
    }
}
