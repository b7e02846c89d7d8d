package io.meshguard.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.meshguard.access.AdminAccessSettings;
import io.meshguard.cli.idp.LocalRealm;
import io.meshguard.cli.idp.ProductIdp;
import io.meshguard.emulator.DownstreamRequest;
import io.meshguard.emulator.Exchange;
import io.meshguard.emulator.Gateway;
import io.meshguard.emulator.UpstreamServer;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.KeycloakServer;
import io.meshguard.testing.PostgresExtension;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The products journey through the stack as {@code up} wires it and an emulated Envoy: a
 * provider defines a product with two plans and publishes it to {@code dev} on the local cluster (a gateway revision);
 * a customer subscribes on the auto plan and calls with its key; the plan's daily quota refuses the N+1st call; an
 * upgrade to the other plan lifts it without a new key; a second customer's manual subscription answers
 * {@code subscription_pending} until the provider approves it; a suspension denies on every call from then on; an
 * OAuth2 client created in the real Keycloak (as {@code up --idp keycloak} wires the catalogue) calls the same product
 * on its own publish, only there, and not after its credential is revoked. The steps build on each other, in order.
 */
@IntegrationTest
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ProductJourneyTest {
    /** A database of the class's own on the run's shared server (nothing here stops PostgreSQL). */
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    static final String HOST = PaymentsSample.HOST;
    /** The product's OAuth2 publish (its own environment: a publish has one auth mode). */
    static final String OAUTH_HOST = "payments.staging.local.api.meshguard.localhost";

    static KeycloakServer keycloak;
    static E2eStack stack;
    static Gateway gateway;
    static UpstreamServer backend;
    static String initechKey;
    static String globexKey;
    static String initechSubscription;
    static String globexSubscription;

    @BeforeAll
    static void start() throws Exception {
        // the realm up --idp keycloak imports, with its provisioning client; this class's realm in the run's Keycloak
        keycloak = KeycloakServer.shared();
        LocalRealm realm = LocalRealm.generate(AdminAccessSettings.AUDIENCE.defaultValue());
        keycloak.importRealm(realm.toJson());
        stack = E2eStack.start(
                PG, Files.createTempDirectory("meshguard-products"), ProductIdp.of(keycloak.baseUrl(), realm));
        backend = UpstreamServer.json("payments", 0, "{\"charged\": true}");
        gateway = PaymentsSample.publish(stack, backend);
        try (var c = stack.database().getConnection();
                var s = c.createStatement()) {
            s.execute("insert into tenant (id) values ('initech'), ('globex') on conflict do nothing");
        }
        initechKey = stack.apiKey("initech", "products journey");
        globexKey = stack.apiKey("globex", "products journey");
    }

    @AfterAll
    static void stop() throws Exception {
        if (backend != null) {
            backend.close();
        }
        if (stack != null) {
            stack.close();
        }
    }

    /** A call as a second token-file person ({@code reviewer}, added to up's token file, read again on change). */
    static JsonNode reviewer(String method, String path, String body) throws Exception {
        String token = "reviewer-" + java.util.UUID.randomUUID();
        java.nio.file.Files.writeString(
                stack.adminTokenFile(), "\nreviewer:" + token + "\n", java.nio.file.StandardOpenOption.APPEND);
        return stack.adminAs(token, method, path, body);
    }

    static String keyId(String key) {
        return key.split("_")[1];
    }

    /** A charge with {@code key}, sending its tenant as the header contract of the fixture policy asks. */
    static Exchange charge(String key) throws Exception {
        String tenant = key.equals(initechKey) ? "initech" : "globex";
        return gateway.send(PaymentsSample.charge(key, tenant));
    }

    /** Calls until the answer fits (the subscription state reaches extauthz by push); returns it. */
    static Exchange eventually(String key, Predicate<Exchange> fits) {
        return eventually(() -> charge(key), fits);
    }

    /** Calls until the answer fits; a timeout names the last answer. */
    static Exchange eventually(java.util.concurrent.Callable<Exchange> call, Predicate<Exchange> fits) {
        Exchange[] last = new Exchange[1];
        try {
            await().atMost(Duration.ofSeconds(30))
                    .pollInterval(Duration.ofMillis(100))
                    .until(() -> {
                        last[0] = call.call();
                        return fits.test(last[0]);
                    });
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError(
                    "no fitting answer in 30 s; the last: "
                            + (last[0] == null ? "none" : last[0].describe() + " " + last[0].body()),
                    e);
        }
        return last[0];
    }

    @Test
    @Order(1)
    void provider_publishesAProductWithTwoPlans_asARevisionOfTheDevGateway() throws Exception {
        PaymentsSample.productWithFreePlan(stack);
        stack.admin("POST", "/v1/provider/products/payments/plans", """
                {"name": "gold", "approval": "manual", "auth_modes": ["apikey"],
                 "limits": {"quota": {"period": "day", "limit": 1000}}}""");
        stack.admin("POST", "/v1/provider/plans/payments-free/state", "{\"state\": \"published\"}");
        stack.admin("POST", "/v1/provider/plans/payments-gold/state", "{\"state\": \"published\"}");
        stack.admin("POST", "/v1/provider/products/payments/product-publishes", """
                {"cluster": "local", "environment": "dev", "auth_mode": "apikey", "gateway_group": "local"}""");

        JsonNode published = stack.admin(
                "POST",
                "/v1/provider/product-publishes/payments-dev-local/state",
                "{\"state\": \"published\", \"reason\": \"pilot\"}");

        assertThat(published.path("host").asText()).isEqualTo(HOST);
        assertThat(published.path("gateway").path("revision").asLong()).isPositive();
        // served on the publish host only, and a key without a subscription is refused there
        // 404 until the gateway has the route, 503 until extauthz has its first subscription state (fail closed;
        // its state stream may still be redialling the controller, which starts after it)
        Exchange stranger = eventually(initechKey, e -> e.status() != 404 && e.status() != 503);
        assertThat(stranger.status()).as(stranger.describe()).isEqualTo(403);
        assertThat(stranger.body()).contains("no_subscription");
        assertThat(backend.received()).isEmpty();
    }

    @Test
    @Order(2)
    void customer_subscribesOnTheAutoPlan_andCallsWithItsKey() throws Exception {
        stack.admin(
                "POST",
                "/v1/customer/applications",
                "{\"id\": \"initech-web\", \"tenant\": \"initech\", \"name\": \"Web\"}");
        JsonNode sub = stack.admin("POST", "/v1/customer/subscriptions", """
                {"application": "initech-web", "product_publish": "payments-dev-local", "plan": "payments-free"}""");
        assertThat(sub.path("state").asText()).isEqualTo("active");
        initechSubscription = sub.path("id").asText();
        stack.admin("POST", "/v1/customer/credentials", """
                {"kind": "apikey", "id": "%s", "application": "initech-web"}""".formatted(keyId(initechKey)));

        Exchange ok = eventually(initechKey, e -> e.status() == 200);
        assertThat(ok.body()).contains("charged");
        assertThat(backend.received()).isNotEmpty();
    }

    @Test
    @Order(3)
    void thePlansQuota_refusesTheCallAfterIt_andAnUpgradeLiftsItWithoutANewKey() throws Exception {
        Exchange refused = eventually(initechKey, e -> e.status() == 429);
        assertThat(refused.body()).contains("quota");
        assertThat(refused.headers().first("retry-after")).isPresent();
        // both sides see the quota used (PostgreSQL's count, flushed by extauthz every few seconds)
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(
                        stack.admin("GET", "/v1/provider/subscriptions/" + initechSubscription + "/usage", null)
                                .path("quotas")
                                .path("subscription")
                                .path("used")
                                .asLong())
                .isEqualTo(3));

        stack.admin(
                "POST",
                "/v1/provider/subscriptions/" + initechSubscription + "/plan",
                "{\"plan\": \"payments-gold\", \"reason\": \"upgrade\"}");
        Exchange lifted = eventually(initechKey, e -> e.status() == 200);
        assertThat(lifted.body()).contains("charged");
    }

    @Test
    @Order(4)
    void manualPlan_isPendingUntilTheProviderApproves() throws Exception {
        stack.admin(
                "POST",
                "/v1/customer/applications",
                "{\"id\": \"globex-app\", \"tenant\": \"globex\", \"name\": \"App\"}");
        JsonNode sub = stack.admin("POST", "/v1/customer/subscriptions", """
                {"application": "globex-app", "product_publish": "payments-dev-local", "plan": "payments-gold"}""");
        assertThat(sub.path("state").asText()).isEqualTo("pending");
        globexSubscription = sub.path("id").asText();
        stack.admin("POST", "/v1/customer/credentials", """
                {"kind": "apikey", "id": "%s", "application": "globex-app"}""".formatted(keyId(globexKey)));

        Exchange pending = eventually(globexKey, e -> e.body().contains("subscription_pending"));
        assertThat(pending.status()).isEqualTo(403);

        // who asked for a subscription never approves it: a second person of up's token file approves
        reviewer("POST", "/v1/provider/subscriptions/" + globexSubscription + "/approve", "{\"reason\": \"KYC done\"}");
        assertThat(eventually(globexKey, e -> e.status() == 200).body()).contains("charged");
    }

    @Test
    @Order(5)
    void suspension_deniesFromThenOn() throws Exception {
        stack.admin(
                "POST",
                "/v1/provider/subscriptions/" + initechSubscription + "/suspend",
                "{\"reason\": \"unpaid invoice\"}");
        long start = System.nanoTime();
        Exchange suspended = eventually(initechKey, e -> e.status() == 403);
        long millis = (System.nanoTime() - start) / 1_000_000;
        System.out.println("suspension reached the gateway after " + millis + " ms"); // figure for the closing note
        assertThat(suspended.body()).contains("subscription_suspended");
        for (int i = 0; i < 5; i++) {
            assertThat(charge(initechKey).status())
                    .as("every call after the suspension")
                    .isEqualTo(403);
        }
        assertThat(charge(globexKey).status())
                .as("another subscriber is untouched")
                .isEqualTo(200);
    }

    @Test
    @Order(6)
    void oauth2ClientFromKeycloak_callsTheSameProduct_onItsOwnPublishOnly_untilRevoked() throws Exception {
        stack.admin("POST", "/v1/provider/products/payments/plans", """
                {"name": "partner", "approval": "auto", "auth_modes": ["oauth2"],
                 "limits": {"quota": {"period": "day", "limit": 1000}}}""");
        stack.admin("POST", "/v1/provider/plans/payments-partner/state", "{\"state\": \"published\"}");
        stack.admin("POST", "/v1/provider/products/payments/product-publishes", """
                {"cluster": "local", "environment": "staging", "auth_mode": "oauth2", "gateway_group": "local"}""");
        stack.admin(
                "POST",
                "/v1/provider/product-publishes/payments-staging-local/state",
                "{\"state\": \"published\", \"reason\": \"partner pilot\"}");
        stack.admin("POST", "/v1/customer/subscriptions", """
                {"application": "globex-app", "product_publish": "payments-staging-local", "plan": "payments-partner"}""");
        // the catalogue creates the client in Keycloak and shows its secret in this one answer
        JsonNode credential = stack.admin(
                "POST", "/v1/customer/credentials", "{\"kind\": \"oauth2\", \"application\": \"globex-app\"}");
        String clientId = credential.path("id").asText();
        String secret = credential.path("client_secret").asText();
        assertThat(clientId).startsWith("globex-app-");
        assertThat(secret).isNotBlank();
        String token = clientToken(clientId, secret);

        Exchange ok = eventuallyWithToken(OAUTH_HOST, token, e -> e.status() == 200);
        assertThat(ok.body()).contains("charged");
        // the same token on the product's API-key publish: that publish takes keys only (401: the wrong kind of
        // credential, as a missing one)
        Exchange keysOnly = eventuallyWithToken(HOST, token, e -> e.status() == 401);
        assertThat(keysOnly.body()).contains("auth_mode_not_allowed");

        stack.admin("POST", "/v1/customer/credentials/oauth2/" + clientId + "/revoke", "{\"reason\": \"key leaked\"}");
        // the token already issued is refused from the pushed state, without waiting for it to expire (401: the
        // credential itself is no longer good, unlike a suspended subscription's 403)
        Exchange revoked = eventuallyWithToken(OAUTH_HOST, token, e -> e.status() == 401);
        assertThat(revoked.body()).contains("credential_revoked");
        // and Keycloak issues the disabled client no new token
        assertThat(keycloak.token(
                                LocalRealm.NAME,
                                Map.of(
                                        "grant_type",
                                        "client_credentials",
                                        "client_id",
                                        clientId,
                                        "client_secret",
                                        secret))
                        .statusCode())
                .isIn(400, 401);
    }

    static String clientToken(String clientId, String secret) {
        HttpResponse<String> r = keycloak.token(
                LocalRealm.NAME,
                Map.of("grant_type", "client_credentials", "client_id", clientId, "client_secret", secret));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return KeycloakServer.jsonField(r.body(), "access_token");
    }

    static Exchange eventuallyWithToken(String host, String token, Predicate<Exchange> fits) {
        return eventually(
                () -> gateway.send(DownstreamRequest.withBody(
                        "POST",
                        host,
                        "/payments/v1/charges",
                        "{\"amount\": 5}",
                        "authorization",
                        "Bearer " + token,
                        "x-tenant-id",
                        "globex",
                        "content-type",
                        "application/json")),
                fits);
    }
}
