package io.meshguard.catalog.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import io.meshguard.access.AdminEvent;
import io.meshguard.access.AdminGate;
import io.meshguard.access.AdminRoute;
import io.meshguard.access.AdminTokenVerifier;
import io.meshguard.access.Permissions;
import io.meshguard.access.RoleBindings;
import io.meshguard.catalog.CatalogStore;
import io.meshguard.catalogmodel.AccessDecision;
import io.meshguard.catalogmodel.AuthMode;
import io.meshguard.catalogmodel.DenyReason;
import io.meshguard.catalogmodel.Product;
import io.meshguard.catalogmodel.SubscriptionSnapshot;
import io.meshguard.testing.AdminHttp;
import io.meshguard.testing.ApiKeyRows;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.testing.TestIssuer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The catalogue API over real HTTP, real tokens from a self-issued JWKS server and a real PostgreSQL: each persona
 * does what its role allows in its own tenant, nothing else, and every change is an admin event.
 */
@IntegrationTest
class CatalogApiTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    static final String BINDINGS = """
            claims: [groups]
            roles:
              system-admin:
                permissions: [cluster:read, cluster:update, cluster:delete, product:read, subscription:read,
                              application:create,
                              subscription:create, credential:create, credential:rotate]
              provider:
                permissions: [product:read, product:create, product:update, product:lifecycle, plan:read,
                              plan:create, plan:lifecycle, publish:read, publish:create, publish:lifecycle,
                              subscription:read, subscription:approve, subscription:suspend, subscription:plan]
              customer:
                permissions: [catalog:read, application:read, application:create, application:suspend, subscription:read,
                              subscription:create, subscription:plan, subscription:close, credential:read,
                              credential:create, credential:rotate, credential:revoke]
              approver-elsewhere:
                permissions: [subscription:approve]
            bindings:
              - {match: ops, role: system-admin, scope: system}
              - {match: acme-providers, role: provider, scope: "tenant:acme"}
              - {match: globex-providers, role: provider, scope: "tenant:globex"}
              - {match: initech-customers, role: customer, scope: "tenant:initech"}
              - {match: initech-customers, role: approver-elsewhere, scope: "tenant:initech"}
              - {match: globex-customers, role: customer, scope: "tenant:globex"}
              - {match: acme-customers, role: customer, scope: "tenant:acme"}
            """;
    static final io.meshguard.catalog.RecordingGateway GATEWAY = new io.meshguard.catalog.RecordingGateway();
    static final Map<String, List<String>> GROUPS = Map.of(
            "ops",
            List.of("ops"),
            "alice",
            List.of("acme-providers"),
            "gina",
            List.of("globex-providers"),
            "ina",
            List.of("initech-customers"),
            "bo",
            List.of("initech-customers", "globex-customers"),
            "olga",
            List.of("acme-providers", "acme-customers"),
            "pete",
            List.of("acme-providers"));

    static TestIssuer issuer;
    static HttpServer server;
    static final List<AdminEvent> EVENTS = new CopyOnWriteArrayList<>();
    static final HttpClient CLIENT = HttpClient.newHttpClient();
    static final byte[] PORT_DOCUMENT = "{\"openapi\": \"3.1.0\", \"info\": {\"title\": \"the port's\"}}"
            .getBytes(java.nio.charset.StandardCharsets.UTF_8);
    static HttpServer portDocument;

    @BeforeAll
    static void start() throws Exception {
        issuer = new TestIssuer();
        PG.dsl().execute("insert into tenant (id) values ('acme'), ('globex'), ('initech')");
        PG.dsl().execute("insert into api (name, tenant) values ('payments-api', 'acme')");
        ApiKeyRows.insert(
                PG.dsl(), "initech", "initech000000001", "initech000000002", "initech000000003", "initech000000004");
        ApiKeyRows.insert(PG.dsl(), "globex", "globex0000000001", "globex0000000002");
        AdminGate gate = AdminGate.people(
                new AdminTokenVerifier(
                        new AdminTokenVerifier.Settings(issuer.issuer(), "meshguard-admin", Duration.ofSeconds(30))),
                RoleBindings.parse("bindings", BINDINGS),
                EVENTS::add,
                "admin.token_file");
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext(
                CatalogApi.PREFIX,
                new CatalogApi(
                        new CatalogStore(PG.dataSource()),
                        gate,
                        EVENTS::add,
                        Clock.systemUTC(),
                        "example.test",
                        GATEWAY));
        // as the admin plane mounts it: answering /v1/openapi.json with the port's one document, handed in
        portDocument = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        portDocument.createContext(
                CatalogApi.PREFIX,
                new CatalogApi(
                        new CatalogStore(PG.dataSource()),
                        gate,
                        EVENTS::add,
                        Clock.systemUTC(),
                        "example.test",
                        Optional.empty(),
                        GATEWAY,
                        PORT_DOCUMENT.clone()));
        server.start();
        portDocument.start();
    }

    @AfterAll
    static void stop() {
        server.stop(0);
        portDocument.stop(0);
        issuer.close();
    }

    static HttpResponse<String> call(String who, String method, String path, String body) throws Exception {
        String bearer = who == null ? null : issuer.accessToken(who, "meshguard-admin", GROUPS.get(who));
        return AdminHttp.send(server.getAddress().getPort(), bearer, method, path, body);
    }

    static JsonNode ok(HttpResponse<String> r) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isBetween(200, 201);
        return CatalogJson.MAPPER.readTree(r.body());
    }

    @Test
    void approve_manualSubscription_byThePersonWhoAskedForIt_refused403_evenInOneTenant() throws Exception {
        ok(call(
                "ops",
                "PUT",
                "/v1/operator/clusters/busan-1",
                "{\"region\": \"kr-busan\", \"gateway_groups\": {\"local\": [\"acme\"]}}"));
        ok(call("olga", "POST", "/v1/provider/products", """
                {"id": "ledger", "name": "Ledger", "visibility": "public",
                 "operations": [{"id": "post-entry", "api": "payments-api", "method": "post", "path": "/entries"}]}"""));
        ok(call("olga", "POST", "/v1/provider/products/ledger/state", "{\"state\": \"published\"}"));
        ok(call("olga", "POST", "/v1/provider/products/ledger/plans", """
                {"name": "internal", "approval": "manual", "auth_modes": ["apikey"]}"""));
        ok(call("olga", "POST", "/v1/provider/plans/ledger-internal/state", "{\"state\": \"published\"}"));
        ok(call("olga", "POST", "/v1/provider/products/ledger/product-publishes", """
                {"cluster": "busan-1", "environment": "dev", "auth_mode": "apikey", "gateway_group": "local"}"""));
        ok(call(
                "olga",
                "POST",
                "/v1/provider/product-publishes/ledger-dev-busan-1/state",
                "{\"state\": \"published\", \"reason\": \"internal launch\"}"));
        // provider and customer are one tenant, and olga holds both roles in it
        ok(call("olga", "POST", "/v1/customer/applications", "{\"id\": \"acme-treasury\", \"name\": \"Treasury\"}"));
        String id = ok(call("olga", "POST", "/v1/customer/subscriptions", """
                {"application": "acme-treasury", "product_publish": "ledger-dev-busan-1", "plan": "ledger-internal"}"""))
                .path("id")
                .asText();

        HttpResponse<String> self =
                call("olga", "POST", "/v1/provider/subscriptions/" + id + "/approve", "{\"reason\": \"my own\"}");
        assertThat(self.statusCode()).as(self.body()).isEqualTo(403);
        assertThat(self.body()).contains("another person");
        JsonNode approved = ok(call(
                "pete",
                "POST",
                "/v1/provider/subscriptions/" + id + "/approve",
                "{\"reason\": \"treasury needs it\"}"));
        assertThat(approved.path("state").asText()).isEqualTo("active");
    }

    @Test
    void journey_providerPublishes_customerSubscribes_manualPlanWaitsForTheProvider() throws Exception {
        ok(call(
                "ops",
                "PUT",
                "/v1/operator/clusters/seoul-1",
                "{\"region\": \"kr-seoul\", \"gateway_groups\": {\"local\": [\"acme\"]}}"));
        JsonNode product = ok(call("alice", "POST", "/v1/provider/products", """
                {"id": "payments", "name": "Payments", "visibility": "public",
                 "operations": [{"id": "charge", "api": "payments-api", "method": "post", "path": "/charges"}]}"""));
        assertThat(product.path("tenant").asText()).isEqualTo("acme");
        assertThat(product.path("state").asText()).isEqualTo("draft");
        ok(call("alice", "POST", "/v1/provider/products/payments/state", "{\"state\": \"published\"}"));
        ok(call("alice", "POST", "/v1/provider/products/payments/plans", """
                {"name": "free", "approval": "auto", "auth_modes": ["apikey"],
                 "limits": {"rates": [{"requests": 5, "per": "1s"}], "quota": {"period": "day", "limit": 100}}}"""));
        ok(call("alice", "POST", "/v1/provider/products/payments/plans", """
                {"name": "gold", "approval": "manual", "auth_modes": ["apikey"],
                 "operation_limits": {"charge": {"rates": [{"requests": 50, "per": "1s"}]}}}"""));
        ok(call("alice", "POST", "/v1/provider/plans/payments-free/state", "{\"state\": \"published\"}"));
        ok(call("alice", "POST", "/v1/provider/plans/payments-gold/state", "{\"state\": \"published\"}"));
        JsonNode pub = ok(call("alice", "POST", "/v1/provider/products/payments/product-publishes", """
                {"cluster": "seoul-1", "environment": "dev", "auth_mode": "apikey", "gateway_group": "local"}"""));
        assertThat(pub.path("host").asText()).isEqualTo("payments.dev.kr-seoul.api.example.test");
        JsonNode published = ok(call(
                "alice",
                "POST",
                "/v1/provider/product-publishes/payments-dev-seoul-1/state",
                "{\"state\": \"published\", \"reason\": \"launch\"}"));
        // the gateway group serves it as a revision, and the revision says who asked and why
        assertThat(published.path("gateway").path("revision").asLong()).isPositive();
        var served = GATEWAY.calls().get(GATEWAY.calls().size() - 1);
        assertThat(served.publish().host().name()).isEqualTo("payments.dev.kr-seoul.api.example.test");
        assertThat(served.publish().operations())
                .extracting(Product.Operation::id)
                .containsExactly("charge");
        assertThat(served.serve()).isTrue();
        assertThat(served.change().actor()).startsWith("alice");
        assertThat(served.change().reason()).contains("published").contains("launch");

        assertThat(ok(call("ina", "GET", "/v1/customer/products", null)).findValuesAsText("id"))
                .contains("payments");
        assertThat(ok(call("ina", "GET", "/v1/customer/products/payments/plans", null))
                        .findValuesAsText("id"))
                .contains("payments-free", "payments-gold");
        // a product the catalogue does not list has no plans to offer: 404, not an empty list
        assertThat(call("ina", "GET", "/v1/customer/products/no-such-product/plans", null)
                        .statusCode())
                .isEqualTo(404);
        ok(call("ina", "POST", "/v1/customer/applications", "{\"id\": \"initech-web\", \"name\": \"Web\"}"));
        JsonNode free = ok(call("ina", "POST", "/v1/customer/subscriptions", """
                {"application": "initech-web", "product_publish": "payments-dev-seoul-1", "plan": "payments-free"}"""));
        assertThat(free.path("state").asText()).isEqualTo("active");
        ok(call("ina", "POST", "/v1/customer/applications", "{\"id\": \"initech-batch\", \"name\": \"Batch\"}"));
        JsonNode gold = ok(call("ina", "POST", "/v1/customer/subscriptions", """
                {"application": "initech-batch", "product_publish": "payments-dev-seoul-1", "plan": "payments-gold"}"""));
        assertThat(gold.path("state").asText()).isEqualTo("pending");
        String goldId = gold.path("id").asText();

        // the customer holds subscription:approve in its own tenant, which is not the provider's: as if absent
        assertThat(call("ina", "POST", "/v1/provider/subscriptions/" + goldId + "/approve", "{\"reason\": \"self\"}")
                        .statusCode())
                .isEqualTo(404);
        // another provider cannot see it either
        assertThat(call("gina", "POST", "/v1/provider/subscriptions/" + goldId + "/approve", "{\"reason\": \"x\"}")
                        .statusCode())
                .isEqualTo(404);
        assertThat(ok(call("gina", "GET", "/v1/provider/subscriptions", null))).isEmpty();
        assertThat(call("alice", "POST", "/v1/provider/subscriptions/" + goldId + "/approve", "{}")
                        .statusCode())
                .isEqualTo(422);
        JsonNode approved = ok(call(
                "alice",
                "POST",
                "/v1/provider/subscriptions/" + goldId + "/approve",
                "{\"reason\": \"contract 2026-118 signed\"}"));
        assertThat(approved.path("state").asText()).isEqualTo("active");
        assertThat(call("alice", "POST", "/v1/provider/subscriptions/" + goldId + "/approve", "{\"reason\": \"again\"}")
                        .statusCode())
                .isEqualTo(409);

        ok(call("ina", "POST", "/v1/customer/credentials", """
                {"kind": "apikey", "id": "initech000000001", "application": "initech-web"}"""));
        // usage: extauthz's audit rows that name this subscription, nothing else: not the application's calls on
        // another subscription, not a refusal made before any subscription was found (written as extauthz writes them)
        String freeId = free.path("id").asText();
        String row = "insert into audit_event (event_id, occurred_at, kind, decision, reason, details) values"
                + " (gen_random_uuid(), now(), 'authz_decision', '%s', '%s',"
                + " jsonb_strip_nulls(jsonb_build_object('product_publish', '%s', 'api_key_id', '%s',"
                + " 'subscription', %s)))";
        String onFree = "'" + freeId + "'";
        PG.dsl().execute(row.formatted("allow", "allowed", "payments-dev-seoul-1", "initech000000001", onFree));
        PG.dsl().execute(row.formatted("allow", "allowed", "payments-dev-seoul-1", "initech000000001", onFree));
        PG.dsl().execute(row.formatted("deny", "rate_limited", "payments-dev-seoul-1", "initech000000001", onFree));
        PG.dsl().execute(row.formatted("deny", "no_subscription", "payments-dev-seoul-1", "initech000000001", "null"));
        PG.dsl().execute(row.formatted("allow", "allowed", "payments-dev-seoul-1", "someone0000000000", "null"));
        PG.dsl()
                .execute(row.formatted(
                        "allow", "allowed", "payments-dev-seoul-1", "initech000000001", "'" + goldId + "'"));
        for (String who : List.of("alice", "ina")) {
            String side = who.equals("alice") ? "provider" : "customer";
            JsonNode usage = ok(call(who, "GET", "/v1/" + side + "/subscriptions/" + freeId + "/usage?hours=1", null));
            assertThat(usage.path("calls").asLong()).as(who).isEqualTo(3);
            assertThat(usage.path("allowed").asLong()).isEqualTo(2);
            assertThat(usage.path("refused_by_reason").path("rate_limited").asLong())
                    .isEqualTo(1);
            assertThat(usage.path("by_credential").path("initech000000001").asLong())
                    .isEqualTo(3);
        }
        assertThat(call("gina", "GET", "/v1/provider/subscriptions/" + freeId + "/usage", null)
                        .statusCode())
                .isEqualTo(404);
        assertThat(call("ina", "GET", "/v1/customer/subscriptions/" + freeId + "/usage?hours=0", null)
                        .statusCode())
                .isEqualTo(422);

        JsonNode rotated = ok(call(
                "ina",
                "POST",
                "/v1/customer/credentials/apikey/initech000000001/rotate",
                "{\"successor\": \"initech000000002\", \"overlap\": \"48h\"}"));
        assertThat(rotated.path("predecessor").path("state").asText()).isEqualTo("rotating");
        assertThat(call(
                                "ina",
                                "POST",
                                "/v1/customer/credentials/apikey/initech000000002/rotate",
                                "{\"successor\": \"x\", \"overlap\": \"31d\"}")
                        .statusCode())
                .isEqualTo(422);

        assertThat(EVENTS)
                .filteredOn(e -> e.action().equals("subscription:approve")
                        && e.outcome().startsWith("changed")
                        && e.actor().contains("alice"))
                .singleElement()
                .satisfies(e -> {
                    assertThat(e.actor()).contains("alice");
                    assertThat(e.outcome()).contains("contract 2026-118 signed");
                    assertThat(e.afterDigest()).hasSize(64);
                });
    }

    /** Everything a credential binding names across tables, as one text (to see that a refusal changed nothing). */
    static String bindings() {
        return PG.dsl()
                        .fetch("select kind, id, application_id, tenant, state from credential order by 1, 2")
                        .formatCSV()
                + PG.dsl()
                        .fetch("select * from credential_subscription order by 1, 2, 3")
                        .formatCSV();
    }

    static void refusedAndNothingBound(String who, String path, String body) throws Exception {
        String before = bindings();
        HttpResponse<String> r = call(who, "POST", path, body);
        assertThat(r.statusCode()).as("%s %s %s: %s", who, path, body, r.body()).isEqualTo(404);
        assertThat(bindings()).as("after %s %s", who, body).isEqualTo(before);
    }

    /** A published public product of acme with an automatic apikey plan, on cluster seoul-1, named {@code id}. */
    static String publishedProduct(String id) throws Exception {
        ok(call(
                "ops",
                "PUT",
                "/v1/operator/clusters/seoul-1",
                "{\"region\": \"kr-seoul\", \"gateway_groups\": {\"local\": [\"acme\"]}}"));
        ok(call("alice", "POST", "/v1/provider/products", """
                {"id": "%s", "name": "P", "visibility": "public",
                 "operations": [{"id": "charge", "api": "payments-api", "method": "post", "path": "/charges"}]}""".formatted(id)));
        ok(call("alice", "POST", "/v1/provider/products/" + id + "/state", "{\"state\": \"published\"}"));
        ok(call(
                "alice",
                "POST",
                "/v1/provider/products/" + id + "/plans",
                "{\"name\": \"free\", \"approval\": \"auto\", \"auth_modes\": [\"apikey\"]}"));
        ok(call("alice", "POST", "/v1/provider/plans/" + id + "-free/state", "{\"state\": \"published\"}"));
        ok(call("alice", "POST", "/v1/provider/products/" + id + "/product-publishes", """
                {"cluster": "seoul-1", "environment": "dev", "auth_mode": "apikey", "gateway_group": "local"}"""));
        ok(call(
                "alice",
                "POST",
                "/v1/provider/product-publishes/" + id + "-dev-seoul-1/state",
                "{\"state\": \"published\"}"));
        return id + "-dev-seoul-1";
    }

    /**
     * PostgreSQL checks foreign keys without row-level security, so each reference a tenant supplies when it binds a
     * credential is checked to be the application's own: the API key (as bound, or as a rotation's successor) and
     * each subscription it names. Refused alike for a one-tenant customer, a caller acting for both tenants and an
     * operator at system scope.
     */
    @Test
    void bindingAnotherTenantsKeyOrAnotherApplicationsSubscription_refused404AndNothingBound() throws Exception {
        String publish = publishedProduct("bindings");
        ok(call("ina", "POST", "/v1/customer/applications", "{\"id\": \"initech-bind\", \"name\": \"Bind\"}"));
        ok(call("ina", "POST", "/v1/customer/applications", "{\"id\": \"initech-other\", \"name\": \"Other\"}"));
        ok(call(
                "bo",
                "POST",
                "/v1/customer/applications",
                "{\"id\": \"globex-app\", \"name\": \"G\", \"tenant\": \"globex\"}"));
        String otherSub = ok(call("ina", "POST", "/v1/customer/subscriptions", """
                {"application": "initech-other", "product_publish": "%s", "plan": "bindings-free"}""".formatted(publish)))
                .path("id")
                .asText();
        String globexSub = ok(call("bo", "POST", "/v1/customer/subscriptions", """
                {"application": "globex-app", "product_publish": "%s", "plan": "bindings-free"}""".formatted(publish)))
                .path("id")
                .asText();

        for (String who : List.of("ina", "bo", "ops")) {
            refusedAndNothingBound(
                    who,
                    "/v1/customer/credentials",
                    "{\"kind\": \"apikey\", \"id\": \"globex0000000001\", \"application\": \"initech-bind\"}");
        }
        refusedAndNothingBound(
                "ina",
                "/v1/customer/credentials",
                "{\"kind\": \"apikey\", \"id\": \"initech000000003\","
                        + " \"application\": \"initech-bind\", \"subscriptions\": [\"" + otherSub + "\"]}");
        refusedAndNothingBound(
                "bo",
                "/v1/customer/credentials",
                "{\"kind\": \"apikey\", \"id\": \"initech000000003\","
                        + " \"application\": \"initech-bind\", \"subscriptions\": [\"" + globexSub + "\"]}");

        ok(call(
                "ina",
                "POST",
                "/v1/customer/credentials",
                "{\"kind\": \"apikey\", \"id\": \"initech000000003\", \"application\": \"initech-bind\"}"));
        for (String who : List.of("ina", "bo", "ops")) {
            refusedAndNothingBound(
                    who,
                    "/v1/customer/credentials/apikey/initech000000003/rotate",
                    "{\"successor\": \"globex0000000002\", \"overlap\": \"1h\"}");
        }
        // the owner can still bind its own keys, and a rotation to the tenant's own key goes through
        ok(call(
                "bo",
                "POST",
                "/v1/customer/credentials",
                "{\"kind\": \"apikey\", \"id\": \"globex0000000001\", \"application\": \"globex-app\","
                        + " \"subscriptions\": [\"" + globexSub + "\"]}"));
        ok(call(
                "ina",
                "POST",
                "/v1/customer/credentials/apikey/initech000000003/rotate",
                "{\"successor\": \"initech000000004\", \"overlap\": \"1h\"}"));
    }

    /**
     * A publish's placement is the operators': its group must be one the cluster serves, assigned for the provider's
     * tenant; a provider naming another group, another cluster's group or a group of another tenant is refused, and
     * a draft whose assignment an operator took back is not published.
     */
    @Test
    void publishNamingAGroupItsClusterDoesNotServeForTheTenant_refused422_andNothingServed() throws Exception {
        ok(call(
                "ops",
                "PUT",
                "/v1/operator/clusters/daegu-1",
                "{\"region\": \"kr-daegu\","
                        + " \"gateway_groups\": {\"daegu-gw\": [\"acme\"], \"daegu-globex\": [\"globex\"]}}"));
        ok(call(
                "ops",
                "PUT",
                "/v1/operator/clusters/tokyo-1",
                "{\"region\": \"jp-tokyo\"," + " \"gateway_groups\": {\"tokyo-gw\": [\"acme\"]}}"));
        ok(call("alice", "POST", "/v1/provider/products", """
                {"id": "placed", "name": "Placed", "visibility": "public",
                 "operations": [{"id": "charge", "api": "payments-api", "method": "post", "path": "/charges"}]}"""));
        ok(call("alice", "POST", "/v1/provider/products/placed/state", "{\"state\": \"published\"}"));
        for (String group : List.of("edge-prod", "tokyo-gw", "daegu-globex")) {
            String before =
                    PG.dsl().fetch("select id from product_publish order by id").formatCSV();
            HttpResponse<String> r =
                    call("alice", "POST", "/v1/provider/products/placed/product-publishes", """
                    {"cluster": "daegu-1", "environment": "dev", "auth_mode": "apikey", "gateway_group": "%s"}""".formatted(group));
            assertThat(r.statusCode()).as("%s: %s", group, r.body()).isEqualTo(422);
            assertThat(r.body()).contains("not assigned to cluster daegu-1 for tenant acme");
            assertThat(PG.dsl()
                            .fetch("select id from product_publish order by id")
                            .formatCSV())
                    .isEqualTo(before);
        }
        ok(call("alice", "POST", "/v1/provider/products/placed/product-publishes", """
                {"cluster": "daegu-1", "environment": "dev", "auth_mode": "apikey", "gateway_group": "daegu-gw"}"""));
        // the operator takes the group back from acme before the draft is published
        ok(call(
                "ops",
                "PUT",
                "/v1/operator/clusters/daegu-1",
                "{\"region\": \"kr-daegu\"," + " \"gateway_groups\": {\"daegu-gw\": []}}"));
        int served = GATEWAY.calls().size();
        HttpResponse<String> published = call(
                "alice",
                "POST",
                "/v1/provider/product-publishes/placed-dev-daegu-1/state",
                "{\"state\": \"published\"}");
        assertThat(published.statusCode()).as(published.body()).isEqualTo(422);
        assertThat(GATEWAY.calls()).as("no gateway group was asked to serve it").hasSize(served);
    }

    @Test
    void personas_withoutThePermission_areRefused403_andAnonymous401() throws Exception {
        assertThat(call("ina", "POST", "/v1/provider/products", "{\"id\": \"sneaky\", \"name\": \"x\"}")
                        .statusCode())
                .isEqualTo(403);
        assertThat(call("alice", "PUT", "/v1/operator/clusters/x", "{\"region\": \"x\"}")
                        .statusCode())
                .isEqualTo(403);
        assertThat(EVENTS).anySatisfy(e -> {
            assertThat(e.action()).isEqualTo("POST /v1/provider/products");
            assertThat(e.outcome()).startsWith("refused 403");
        });
        HttpResponse<String> anonymous = call(null, "GET", "/v1/provider/products", null);
        assertThat(anonymous.statusCode()).isEqualTo(401);
        assertThat(anonymous.headers().firstValue("WWW-Authenticate")).contains("Bearer");
        assertThat(call(null, "GET", "/v1/no/such/thing", null).statusCode()).isEqualTo(401);
        assertThat(call("alice", "GET", "/v1/no/such/thing", null).statusCode()).isEqualTo(404);
    }

    @Test
    void hostileBodies_getClearErrors() throws Exception {
        assertThat(call("alice", "POST", "/v1/provider/products", "{not json").statusCode())
                .isEqualTo(400);
        assertThat(call("alice", "POST", "/v1/provider/products", "[1,2]").statusCode())
                .isEqualTo(400);
        HttpResponse<String> badId =
                call("alice", "POST", "/v1/provider/products", "{\"id\": \"Big.Name\", \"name\": \"x\"}");
        assertThat(badId.statusCode()).isEqualTo(422);
        ok(call("alice", "POST", "/v1/provider/products", "{\"id\": \"twice\", \"name\": \"x\"}"));
        HttpResponse<String> twice =
                call("alice", "POST", "/v1/provider/products", "{\"id\": \"twice\", \"name\": \"x\"}");
        assertThat(twice.statusCode()).isEqualTo(409);
        assertThat(twice.body()).contains("a product with").contains("already exists");
        // said in words: never PostgreSQL's text
        assertThat(List.of(badId.body(), twice.body())).allSatisfy(b -> assertThat(b)
                .doesNotContain("ERROR")
                .doesNotContain("constraint")
                .doesNotContain("violates"));
        assertThat(call("alice", "POST", "/v1/provider/products", "x".repeat(CatalogApi.MAX_BODY + 1))
                        .statusCode())
                .isEqualTo(413);
        assertThat(call(
                                "alice",
                                "POST",
                                "/v1/provider/products",
                                "{\"id\": \"t\", \"name\": \"x\", \"tenant\": \"globex\"}")
                        .statusCode())
                .isEqualTo(404);
    }

    @Test
    void misspeltOrMistypedBodyFields_refused422NamingTheNearestField_andNothingCreated() throws Exception {
        ok(call("alice", "POST", "/v1/provider/products", "{\"id\": \"typos\", \"name\": \"Typos\"}"));
        HttpResponse<String> aproval = call(
                "alice",
                "POST",
                "/v1/provider/products/typos/plans",
                "{\"name\": \"gold\", \"auth_modes\": [\"apikey\"], \"aproval\": \"manual\"}");
        assertThat(aproval.statusCode()).isEqualTo(422);
        assertThat(aproval.body()).contains("unknown field 'aproval'").contains("did you mean 'approval'");
        HttpResponse<String> limit = call(
                "alice",
                "POST",
                "/v1/provider/products/typos/plans",
                "{\"name\": \"free\", \"auth_modes\": [\"apikey\"], \"limit\": {\"quota\": {}}}");
        assertThat(limit.statusCode()).isEqualTo(422);
        assertThat(limit.body()).contains("unknown field 'limit'").contains("did you mean 'limits'");
        HttpResponse<String> tags = call(
                "alice",
                "POST",
                "/v1/provider/products",
                "{\"id\": \"tagged\", \"name\": \"Tagged\", \"tags\": \"payments\"}");
        assertThat(tags.statusCode()).isEqualTo(422);
        assertThat(tags.body()).contains("tags: an array, got string");
        assertThat(ok(call("alice", "GET", "/v1/provider/products/typos/plans", null)))
                .isEmpty();
        assertThat(call("alice", "GET", "/v1/provider/products/tagged", null).statusCode())
                .isEqualTo(404);
    }

    @Test
    void credentialExpiresAt_isKeptAndPushed_aPastOrMalformedEndIsRefused422_andARotationKeepsTheEnd()
            throws Exception {
        String publish = publishedProduct("expiring");
        ok(call("ina", "POST", "/v1/customer/applications", "{\"id\": \"initech-exp\", \"name\": \"Exp\"}"));
        ok(call("ina", "POST", "/v1/customer/subscriptions", """
                {"application": "initech-exp", "product_publish": "%s", "plan": "expiring-free"}""".formatted(publish)));
        ApiKeyRows.insert(PG.dsl(), "initech", "initech00000000e", "initech00000000f");
        String before = bindings();
        for (String end : List.of("2020-01-01T00:00:00Z", "next tuesday", "2030-01-01")) {
            HttpResponse<String> r = call(
                    "ina",
                    "POST",
                    "/v1/customer/credentials",
                    "{\"kind\": \"apikey\","
                            + " \"id\": \"initech00000000e\", \"application\": \"initech-exp\", \"expires_at\": \""
                            + end
                            + "\"}");
            assertThat(r.statusCode()).as(end + ": " + r.body()).isEqualTo(422);
            assertThat(r.body()).contains("expires_at");
        }
        assertThat(bindings()).isEqualTo(before);
        Instant end = Instant.now().plus(Duration.ofDays(30)).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
        JsonNode bound = ok(call(
                "ina",
                "POST",
                "/v1/customer/credentials",
                "{\"kind\": \"apikey\","
                        + " \"id\": \"initech00000000e\", \"application\": \"initech-exp\", \"expires_at\": \""
                        + end.atOffset(java.time.ZoneOffset.ofHours(9)) + "\"}"));
        assertThat(Instant.parse(bound.path("expires_at").asText())).isEqualTo(end);
        // what extauthz decides from: the pushed state carries the end, and after it the answer is credential_expired
        SubscriptionSnapshot state = new CatalogStore(PG.dataSource()).snapshot(1);
        assertThat(state.decide(publish, AuthMode.APIKEY, "initech00000000e", end.minusSeconds(1)))
                .isInstanceOf(AccessDecision.Granted.class);
        assertThat(state.decide(publish, AuthMode.APIKEY, "initech00000000e", end))
                .isEqualTo(new AccessDecision.Denied(
                        DenyReason.CREDENTIAL_EXPIRED, "the credential presented has expired"));
        JsonNode rotated = ok(call(
                "ina",
                "POST",
                "/v1/customer/credentials/apikey/initech00000000e/rotate",
                "{\"successor\": \"initech00000000f\", \"overlap\": \"1h\"}"));
        assertThat(Instant.parse(rotated.path("successor").path("expires_at").asText()))
                .isEqualTo(end);
    }

    @Test
    void suspendingAnApplication_refusesItsCallsWhateverItsSubscriptions_andResumeLetsThemIn() throws Exception {
        String publish = publishedProduct("suspendable");
        ok(call("ina", "POST", "/v1/customer/applications", "{\"id\": \"initech-sus\", \"name\": \"Sus\"}"));
        ok(call("ina", "POST", "/v1/customer/subscriptions", """
                {"application": "initech-sus", "product_publish": "%s", "plan": "suspendable-free"}""".formatted(publish)));
        ApiKeyRows.insert(PG.dsl(), "initech", "initech00000000s");
        ok(call(
                "ina",
                "POST",
                "/v1/customer/credentials",
                "{\"kind\": \"apikey\", \"id\": \"initech00000000s\", \"application\": \"initech-sus\"}"));
        assertThat(call("ina", "POST", "/v1/customer/applications/initech-sus/suspend", "{}")
                        .statusCode())
                .isEqualTo(422);
        // another tenant's customer cannot see it; an operator at system scope may suspend it (an incident)
        assertThat(call("olga", "POST", "/v1/customer/applications/initech-sus/suspend", "{\"reason\": \"x\"}")
                        .statusCode())
                .isEqualTo(404);
        JsonNode suspended = ok(call(
                "ina",
                "POST",
                "/v1/customer/applications/initech-sus/suspend",
                "{\"reason\": \"key leaked in a mobile build\"}"));
        assertThat(suspended.path("state").asText()).isEqualTo("suspended");
        assertThat(new CatalogStore(PG.dataSource())
                        .snapshot(1)
                        .decide(publish, AuthMode.APIKEY, "initech00000000s", Instant.now()))
                .isEqualTo(new AccessDecision.Denied(DenyReason.APPLICATION_SUSPENDED, "application initech-sus"));
        assertThat(call("ina", "POST", "/v1/customer/applications/initech-sus/suspend", "{\"reason\": \"again\"}")
                        .statusCode())
                .isEqualTo(409);
        ok(call("ina", "POST", "/v1/customer/applications/initech-sus/resume", "{\"reason\": \"new build out\"}"));
        assertThat(new CatalogStore(PG.dataSource())
                        .snapshot(1)
                        .decide(publish, AuthMode.APIKEY, "initech00000000s", Instant.now()))
                .isInstanceOf(AccessDecision.Granted.class);
        assertThat(EVENTS)
                .filteredOn(e -> e.action().equals("application:suspend"))
                .singleElement()
                .satisfies(e -> assertThat(e.outcome()).contains("key leaked in a mobile build"));
    }

    @Test
    void createApplication_withANameItsTenantHasInAnySpelling_is409WithItsCode() throws Exception {
        ok(call("ina", "POST", "/v1/customer/applications", "{\"id\": \"initech-mobile\", \"name\": \"Mobile\"}"));
        for (String spelling : List.of("Mobile", "mobile", "MOBILE", " Mobile ")) {
            HttpResponse<String> again = call(
                    "ina",
                    "POST",
                    "/v1/customer/applications",
                    CatalogJson.MAPPER.createObjectNode().put("name", spelling).toString());
            assertThat(again.statusCode()).as(spelling).isEqualTo(409);
            JsonNode body = CatalogJson.MAPPER.readTree(again.body());
            assertThat(body.path("code").asText()).isEqualTo("MG-APPLICATION-001");
            assertThat(body.path("error").asText()).contains("initech-mobile");
        }
        assertThat(ok(call("ina", "GET", "/v1/customer/applications", null)).findValuesAsText("name"))
                .filteredOn(n -> n.equalsIgnoreCase("mobile"))
                .containsExactly("Mobile");
    }

    @Test
    void createApplication_withANameAnotherTenantHas_isAllowed() throws Exception {
        ok(call("ina", "POST", "/v1/customer/applications", "{\"id\": \"initech-ledger\", \"name\": \"Ledger\"}"));
        String sameNameInGlobex = "{\"id\": \"globex-ledger\", \"tenant\": \"globex\", \"name\": \"Ledger\"}";
        JsonNode globex = ok(call("bo", "POST", "/v1/customer/applications", sameNameInGlobex));
        assertThat(globex.path("name").asText()).isEqualTo("Ledger");
        assertThat(globex.path("tenant").asText()).isEqualTo("globex");
    }

    @Test
    void renameApplication_toANameItsTenantHas_is409_toItsOwnNameInAnotherCase_isAllowed() throws Exception {
        ok(call("ina", "POST", "/v1/customer/applications", "{\"id\": \"initech-pos\", \"name\": \"Till\"}"));
        ok(call("ina", "POST", "/v1/customer/applications", "{\"id\": \"initech-kiosk\", \"name\": \"Kiosk\"}"));

        HttpResponse<String> taken =
                call("ina", "POST", "/v1/customer/applications/initech-kiosk/name", "{\"name\": \"till\"}");
        assertThat(taken.statusCode()).isEqualTo(409);
        assertThat(CatalogJson.MAPPER.readTree(taken.body()).path("code").asText())
                .isEqualTo("MG-APPLICATION-001");

        JsonNode recased =
                ok(call("ina", "POST", "/v1/customer/applications/initech-kiosk/name", "{\"name\": \"KIOSK\"}"));
        assertThat(recased.path("name").asText()).isEqualTo("KIOSK");
        JsonNode renamed = ok(
                call("ina", "POST", "/v1/customer/applications/initech-kiosk/name", "{\"name\": \"Self checkout\"}"));
        assertThat(renamed.path("name").asText()).isEqualTo("Self checkout");
        // another tenant's application is not found, as everywhere
        assertThat(call("olga", "POST", "/v1/customer/applications/initech-kiosk/name", "{\"name\": \"x\"}")
                        .statusCode())
                .isEqualTo(404);
        assertThat(EVENTS)
                .filteredOn(e ->
                        e.action().equals("application:rename") && e.target().equals("application/initech-kiosk"))
                .hasSize(2);
    }

    @Test
    void deletingACluster_needsItsZoneRevoked_andNoProductPublish_andTakesItsZoneRowsWithIt() throws Exception {
        String publish = publishedProduct("carried");
        assertThat(publish).endsWith("-seoul-1");
        HttpResponse<String> carrying = call("ops", "DELETE", "/v1/operator/clusters/seoul-1", "{\"reason\": \"x\"}");
        assertThat(carrying.statusCode()).isEqualTo(409);
        assertThat(carrying.body()).contains("product publish");

        ok(call("ops", "PUT", "/v1/operator/clusters/busan-9", "{\"region\": \"kr-busan\"}"));
        PG.dsl()
                .execute("insert into zone_registration (token_sha256, cluster_id, created_by, expires_at)"
                        + " values (repeat('a', 64), 'busan-9', 'ops', now() + interval '1 hour')");
        assertThat(call("ops", "DELETE", "/v1/operator/clusters/busan-9", "{}").statusCode())
                .isEqualTo(422);
        HttpResponse<String> live = call("ops", "DELETE", "/v1/operator/clusters/busan-9", "{\"reason\": \"gone\"}");
        assertThat(live.statusCode()).isEqualTo(409);
        assertThat(live.body()).contains("revoke it first");
        PG.dsl().execute("update cluster set zone_revoked_at = now() where id = 'busan-9'");
        assertThat(call("alice", "DELETE", "/v1/operator/clusters/busan-9", "{\"reason\": \"gone\"}")
                        .statusCode())
                .as("a provider")
                .isEqualTo(403);
        ok(call("ops", "DELETE", "/v1/operator/clusters/busan-9", "{\"reason\": \"decommissioned\"}"));
        assertThat(ok(call("ops", "GET", "/v1/operator/clusters", null)).findValuesAsText("id"))
                .doesNotContain("busan-9");
        assertThat(PG.dsl().fetchCount(PG.dsl().selectFrom("zone_registration").where("cluster_id = 'busan-9'")))
                .isZero();
        assertThat(call("ops", "DELETE", "/v1/operator/clusters/busan-9", "{\"reason\": \"again\"}")
                        .statusCode())
                .isEqualTo(404);
    }

    @Test
    void putOperations_replacesTheProductsOperations() throws Exception {
        ok(call("alice", "POST", "/v1/provider/products", "{\"id\": \"bookkeeping\", \"name\": \"Bookkeeping\"}"));
        JsonNode replaced = ok(call("alice", "PUT", "/v1/provider/products/bookkeeping/operations", """
                {"operations": [{"id": "refund", "api": "payments-api", "method": "post", "path": "/charges"}]}"""));
        assertThat(replaced.path("operations").findValuesAsText("id")).containsExactly("refund");
        assertThat(ok(call("alice", "GET", "/v1/provider/products/bookkeeping", null))
                        .path("operations")
                        .findValuesAsText("path"))
                .containsExactly("/charges");
    }

    @Test
    void everyRoute_declaresACataloguePermission_andEveryCataloguePermissionHasARoute() throws Exception {
        Set<String> used = CatalogApi.ROUTES.stream()
                .filter(r -> !r.isOpen())
                .map(AdminRoute::permission)
                .collect(Collectors.toCollection(TreeSet::new));
        assertThat(used).isEqualTo(new TreeSet<>(Permissions.CATALOG));
        JsonNode doc = ok(call(null, "GET", "/v1/openapi.json", null));
        for (AdminRoute r : CatalogApi.ROUTES) {
            assertThat(doc.path("paths")
                            .path(r.path())
                            .path(r.method().toLowerCase())
                            .path("x-meshguard-permission")
                            .asText())
                    .as("%s %s", r.method(), r.path())
                    .isEqualTo(r.permission());
        }
        JsonNode plan = doc.at(
                "/paths/~1v1~1provider~1products~1{id}~1plans/post/requestBody/content" + "/application~1json/schema");
        assertThat(plan.path("properties").has("approval")).as(plan.toString()).isTrue();
        assertThat(plan.path("required").toString()).isEqualTo("[\"name\",\"auth_modes\"]");
        assertThat(plan.path("additionalProperties").asBoolean(true)).isFalse();
    }

    @Test
    void openApi_onTheAdminPort_answersTheDocumentHandedIn_asItsBytes() throws Exception {
        HttpResponse<byte[]> r = CLIENT.send(
                HttpRequest.newBuilder(URI.create(
                                "http://127.0.0.1:" + portDocument.getAddress().getPort() + "/v1/openapi.json"))
                        .build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(r.body()).isEqualTo(PORT_DOCUMENT);
    }
}
