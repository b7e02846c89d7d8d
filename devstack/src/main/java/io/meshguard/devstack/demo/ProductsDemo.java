package io.meshguard.devstack.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshguard.cli.xds.AdminClient;
import io.meshguard.emulator.DownstreamRequest;
import io.meshguard.emulator.Exchange;
import io.meshguard.emulator.Gateway;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Predicate;

/**
 * The products journey of {@code meshguard demo} (docs/products.md), through the catalogue API as a provider and a
 * customer would call it and the emulated gateway: publish a product with two plans (a gateway revision), subscribe,
 * call with a key, {@code subscription_pending} until approved, the plan's quota, a plan change that lifts it, and a
 * suspension; with {@code up --idp keycloak}, an OAuth2 client created in Keycloak through the catalogue calls the
 * product until its credential is revoked. The product and its plans are made once and kept; each run subscribes a new application, so the journey
 * replays the same way on a stack that already played it.
 */
final class ProductsDemo {
    static final String PRODUCT = "payments";
    static final String PUBLISH = "payments-dev-local";
    static final String HOST = "payments.dev.local.api.meshguard.localhost";
    /** The same product published for OAuth2 clients only (step 12, with {@code up --idp keycloak}). */
    static final String OAUTH2_PUBLISH = "payments-staging-local";

    static final String OAUTH2_HOST = "payments.staging.local.api.meshguard.localhost";
    /** The tenant the demo's APIs belong to (the admin token's default). */
    static final String TENANT = "default";

    private static final ObjectMapper JSON = new ObjectMapper();

    private final AdminClient admin;
    private final Gateway gateway;
    private final PrintStream out;
    private final String group;
    private final Optional<CustomerTokens> customers;

    /**
     * @param customers where the customers' OAuth2 clients get their tokens (the realm of {@code up --idp keycloak},
     *     in which the catalogue creates them); empty without {@code --idp}: the OAuth2 step is skipped, and says why
     */
    ProductsDemo(
            AdminClient admin, Gateway gateway, PrintStream out, String group, Optional<CustomerTokens> customers) {
        this.admin = admin;
        this.gateway = gateway;
        this.out = out;
        this.group = group;
        this.customers = customers;
    }

    void play() throws Exception {
        out.println();
        out.println("== 11. API products: a product with two plans, published to dev on the local cluster");
        ensurePublished();
        out.println("  provider         product " + PRODUCT + " (operation create-charge: POST /charges), plans free"
                + " (auto approval, 3 calls a day) and gold (manual approval, 1000 a day), served as a revision of"
                + " gateway group " + group + " on " + HOST);

        String run = UUID.randomUUID().toString().substring(0, 8);
        String key = call(
                        "POST",
                        "/apikeys",
                        "{\"name\": \"demo-" + run + "\", \"owner\": \"demo\", \"tenant\": \"" + TENANT
                                + "\", \"tier\": \"free\", \"reason\": \"meshguard demo\"}")
                .path("key")
                .asText();
        String app = "demo-app-" + run;
        call(
                "POST",
                "/v1/customer/applications",
                "{\"id\": \"" + app + "\", \"tenant\": \"" + TENANT + "\", \"name\": \"Demo app " + run + "\"}");
        call(
                "POST",
                "/v1/customer/credentials",
                "{\"kind\": \"apikey\", \"id\": \"" + key.split("_")[1] + "\", \"application\": \"" + app + "\"}");
        show("subscribe         (no subscription yet)", key, e -> e.status() == 403);

        String gold = call(
                        "POST",
                        "/v1/customer/subscriptions",
                        "{\"application\": \"" + app + "\", \"product_publish\": \"" + PUBLISH + "\", \"plan\": \""
                                + PRODUCT + "-gold\"}")
                .path("id")
                .asText();
        show("subscription_pending  (gold needs the provider's approval)", key, e -> e.body()
                .contains("subscription_pending"));
        call("POST", "/v1/provider/subscriptions/" + gold + "/reject", "{\"reason\": \"demo: try the free plan\"}");
        String free = call(
                        "POST",
                        "/v1/customer/subscriptions",
                        "{\"application\": \"" + app + "\", \"product_publish\": \"" + PUBLISH + "\", \"plan\": \""
                                + PRODUCT + "-free\"}")
                .path("id")
                .asText();
        show("subscribed to free (auto approval)", key, e -> e.status() == 200);
        show("quota             (the 4th call of the day on free)", key, e -> e.status() == 429);
        call(
                "POST",
                "/v1/provider/subscriptions/" + free + "/plan",
                "{\"plan\": \"" + PRODUCT + "-gold\", \"reason\": \"demo: upgrade\"}");
        show(
                "plan change       (moved to gold: same key, the day's count carried over, a higher limit)",
                key,
                e -> e.status() == 200);
        call("POST", "/v1/provider/subscriptions/" + free + "/suspend", "{\"reason\": \"demo: unpaid invoice\"}");
        long start = System.nanoTime();
        Exchange suspended = show("suspend           (every replica denies)", key, e -> e.status() == 403);
        out.println("  denied after     " + (System.nanoTime() - start) / 1_000_000 + " ms (the push reached extauthz)"
                + (suspended.status() == 403 ? "" : " — not yet"));
        oauth2(app);
    }

    /**
     * Step 12: the same product published for OAuth2 clients; the application's client is created in Keycloak
     * through the catalogue, its client-credentials token calls the product, and a revocation refuses the token
     * already issued without waiting for it to expire.
     */
    private void oauth2(String app) throws Exception {
        if (!announceOAuth2(out, customers)) {
            return;
        }
        ensureOAuth2Published();
        out.println("  provider         product " + PRODUCT + " also published to staging for OAuth2 clients only (plan"
                + " partner) on " + OAUTH2_HOST);
        call(
                "POST",
                "/v1/customer/subscriptions",
                "{\"application\": \"" + app + "\", \"product_publish\": \"" + OAUTH2_PUBLISH + "\", \"plan\": \""
                        + PRODUCT + "-partner\"}");
        // the catalogue creates a confidential client in Keycloak; its secret is shown in this one answer only
        JsonNode credential =
                call("POST", "/v1/customer/credentials", "{\"kind\": \"oauth2\", \"application\": \"" + app + "\"}");
        String client = credential.path("id").asText();
        String token = customers
                .get()
                .clientCredentials(client, credential.path("client_secret").asText());
        out.println(
                "  customer         OAuth2 client " + client + " created in Keycloak; client-credentials token from "
                        + customers.get().tokenEndpoint());
        show(
                "oauth2            (the client's token on the OAuth2 publish)",
                () -> withToken(token),
                e -> e.status() == 200);
        call("POST", "/v1/customer/credentials/oauth2/" + client + "/revoke", "{\"reason\": \"meshguard demo\"}");
        show(
                "revoked           (the token already issued, before it expires)",
                () -> withToken(token),
                e -> e.status() == 401 && e.body().contains("credential_revoked"));
    }

    /** Prints step 12's title, or that it is skipped and why; whether to play it. */
    static boolean announceOAuth2(PrintStream out, Optional<CustomerTokens> customers) {
        out.println();
        out.println("== 12. An OAuth2 client from Keycloak calls the product, until its credential is revoked");
        if (customers.isEmpty()) {
            out.println("  skipped          this up runs without an identity provider, so the catalogue has nowhere to"
                    + " create OAuth2 clients and product routes accept API keys only; start it with"
                    + " `meshguard up --idp keycloak` to play this step");
        }
        return customers.isPresent();
    }

    /** A plan for OAuth2 clients and the staging publish that takes them, made once; later runs find them. */
    private void ensureOAuth2Published() throws Exception {
        JsonNode publishes = call("GET", "/v1/provider/products/" + PRODUCT + "/product-publishes", null);
        boolean published = false;
        boolean exists = false;
        for (JsonNode p : publishes.findParents("host")) {
            if (p.path("id").asText().equals(OAUTH2_PUBLISH)) {
                exists = true;
                published = p.path("state").asText().equals("published");
            }
        }
        if (!exists) {
            call(
                    "POST",
                    "/v1/provider/products/" + PRODUCT + "/plans",
                    "{\"name\": \"partner\", \"approval\":"
                            + " \"auto\", \"auth_modes\": [\"oauth2\"], \"limits\": {\"quota\": {\"period\": \"day\","
                            + " \"limit\": 1000}}}");
            call("POST", "/v1/provider/plans/" + PRODUCT + "-partner/state", "{\"state\": \"published\"}");
            call(
                    "POST",
                    "/v1/provider/products/" + PRODUCT + "/product-publishes",
                    "{\"cluster\": \"local\","
                            + " \"environment\": \"staging\", \"auth_mode\": \"oauth2\", \"gateway_group\": \"" + group
                            + "\"}");
        }
        if (!published) {
            call(
                    "POST",
                    "/v1/provider/product-publishes/" + OAUTH2_PUBLISH + "/state",
                    "{\"state\": \"published\", \"reason\": \"meshguard demo\"}");
        }
    }

    /** The product, its plans and its publish, made once; later runs find them. */
    private void ensurePublished() throws Exception {
        // the operator places the demo: cluster local serves the group, and the demo's tenant may publish into it
        call(
                "PUT",
                "/v1/operator/clusters/local",
                "{\"region\": \"local\", \"gateway_groups\": {\"" + group + "\": [\"" + TENANT + "\"]}}");
        if (admin.send("GET", "/v1/provider/products/" + PRODUCT, null).statusCode() == 404) {
            call(
                    "POST",
                    "/v1/provider/products",
                    "{\"id\": \"" + PRODUCT + "\", \"tenant\": \"" + TENANT
                            + "\", \"name\": \"Payments\", \"visibility\": \"public\", \"operations\": [{\"id\": \"create-charge\","
                            + " \"api\": \"demo-payments\", \"method\": \"post\", \"path\": \"/charges\"}]}");
            call("POST", "/v1/provider/products/" + PRODUCT + "/state", "{\"state\": \"published\"}");
            call(
                    "POST",
                    "/v1/provider/products/" + PRODUCT + "/plans",
                    "{\"name\": \"free\", \"approval\": \"auto\","
                            + " \"auth_modes\": [\"apikey\"], \"limits\": {\"quota\": {\"period\": \"day\", \"limit\": 3}}}");
            call(
                    "POST",
                    "/v1/provider/products/" + PRODUCT + "/plans",
                    "{\"name\": \"gold\", \"approval\": \"manual\","
                            + " \"auth_modes\": [\"apikey\"], \"limits\": {\"quota\": {\"period\": \"day\", \"limit\": 1000}}}");
            call("POST", "/v1/provider/plans/" + PRODUCT + "-free/state", "{\"state\": \"published\"}");
            call("POST", "/v1/provider/plans/" + PRODUCT + "-gold/state", "{\"state\": \"published\"}");
            call(
                    "POST",
                    "/v1/provider/products/" + PRODUCT + "/product-publishes",
                    "{\"cluster\": \"local\","
                            + " \"environment\": \"dev\", \"auth_mode\": \"apikey\", \"gateway_group\": \"" + group
                            + "\"}");
        }
        JsonNode publishes = call("GET", "/v1/provider/products/" + PRODUCT + "/product-publishes", null);
        for (JsonNode p : publishes.findParents("host")) {
            if (p.path("id").asText().equals(PUBLISH)
                    && !p.path("state").asText().equals("published")) {
                JsonNode moved = call(
                        "POST",
                        "/v1/provider/product-publishes/" + PUBLISH + "/state",
                        "{\"state\": \"published\", \"reason\": \"meshguard demo\"}");
                out.println("  gateway          revision "
                        + moved.path("gateway").path("revision").asText() + " of group " + group + " serves it");
            }
        }
    }

    /** One call through the gateway. */
    private interface GatewayCall {
        Exchange send() throws InterruptedException;
    }

    /** Calls until the answer fits (state reaches extauthz by push, within a second or so) and shows the last one. */
    private Exchange show(String step, String key, Predicate<Exchange> fits) throws Exception {
        return show(step, () -> charge(key), fits);
    }

    private Exchange show(String step, GatewayCall call, Predicate<Exchange> fits) throws Exception {
        Exchange e = call.send();
        for (int i = 0; i < 100 && !fits.test(e); i++) {
            Thread.sleep(50);
            e = call.send();
        }
        out.println("  " + step);
        out.println("  client received  " + e.status() + "  " + e.body().replace("\n", " "));
        return e;
    }

    private Exchange charge(String key) throws InterruptedException {
        return gateway.send(DownstreamRequest.withBody(
                "POST",
                HOST,
                "/payments/v1/charges",
                "{\"amount\": 5}",
                "x-api-key",
                key,
                "x-tenant-id",
                TENANT,
                "content-type",
                "application/json"));
    }

    private Exchange withToken(String token) throws InterruptedException {
        return gateway.send(DownstreamRequest.withBody(
                "POST",
                OAUTH2_HOST,
                "/payments/v1/charges",
                "{\"amount\": 5}",
                "authorization",
                "Bearer " + token,
                "x-tenant-id",
                TENANT,
                "content-type",
                "application/json"));
    }

    private JsonNode call(String method, String path, String body) throws Exception {
        HttpResponse<String> r = admin.send(method, path, body);
        if (r.statusCode() / 100 != 2) {
            throw new IllegalStateException(method + " " + path + " answered " + r.statusCode() + ": " + r.body());
        }
        return r.body().isBlank() ? JSON.createObjectNode() : JSON.readTree(r.body());
    }
}
