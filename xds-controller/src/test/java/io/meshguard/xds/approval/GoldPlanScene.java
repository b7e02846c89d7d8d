package io.meshguard.xds.approval;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.meshguard.access.AdminEvent;
import io.meshguard.access.AdminGate;
import io.meshguard.access.AdminTokenVerifier;
import io.meshguard.access.RoleBindings;
import io.meshguard.audit.AuditWriter;
import io.meshguard.authz.policy.AuthzPolicyParser;
import io.meshguard.authz.replay.KeptFacts;
import io.meshguard.authz.request.Decision;
import io.meshguard.authz.request.HttpRequestView;
import io.meshguard.authz.request.Identity;
import io.meshguard.authz.request.PlanUse;
import io.meshguard.authz.request.Reason;
import io.meshguard.catalog.CatalogStore;
import io.meshguard.catalog.PlanChangeReplay;
import io.meshguard.catalog.api.CatalogApi;
import io.meshguard.catalog.api.CatalogService;
import io.meshguard.contract.RouteContract;
import io.meshguard.extauthz.audit.AuditSinkDecisions;
import io.meshguard.extauthz.audit.AuthzDecisionEvent;
import io.meshguard.extauthz.audit.DecisionEvents;
import io.meshguard.extauthz.tools.CheckRequests;
import io.meshguard.testing.AdminHttp;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.testing.TestIssuer;
import io.meshguard.xds.XdsController;
import io.meshguard.xds.model.ConfigJson;
import java.io.StringReader;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.awaitility.Awaitility;

/**
 * The plan-change scene, shared by the journey over the API and the console's screen test: acme's payments
 * product with a published gold plan of 10 per minute, globex's checkout subscribed to it, and eight of its calls a
 * second apart recorded the way extauthz records them. People are alice and bob (acme's providers), cora (globex's
 * customer) and root (the platform).
 */
public final class GoldPlanScene {
    public static final Map<String, List<String>> GROUPS = Map.of(
            "root", List.of("platform"),
            "alice", List.of("acme-providers"),
            "bob", List.of("acme-providers"),
            "cora", List.of("globex-customers"));

    /** The policy the decisions were made on: what their rows keep follows from it. */
    public static final String POLICY = """
            routes:
              - {name: payments-charge, match: {path_prefix: /payments}, auth: apikey}
            """;

    /**
     * The scene's roles: root's platform role, acme's providers (alice, bob) and globex's customers (cora);
     * {@code moreSystemPermissions} (", plan:read, audit:read") is appended to the platform role's list.
     */
    public static String bindings(String moreSystemPermissions) {
        return """
            claims: [groups]
            roles:
              system-admin:
                permissions: [config:read, group:read, group:update, upstream:read, upstream:update, api:read,
                              api:update, route:read, route:update, revision:read, revision:publish, render:read,
                              cluster:read, cluster:update%s]
              provider:
                permissions: [product:read, product:create, product:update, product:lifecycle, plan:read,
                              plan:create, plan:lifecycle, plan:change, plan:approve, publish:read, publish:create,
                              publish:lifecycle, subscription:read]
              customer:
                permissions: [catalog:read, application:read, application:create, subscription:read,
                              subscription:create]
            bindings:
              - {match: platform, role: system-admin, scope: system}
              - {match: acme-providers, role: provider, scope: "tenant:acme"}
              - {match: globex-customers, role: customer, scope: "tenant:globex"}
            """.formatted(moreSystemPermissions);
    }

    private GoldPlanScene() {}

    /** The admin gate trusting the test issuer's tokens for audience meshguard-admin, under these role bindings. */
    public static AdminGate gate(TestIssuer issuer, String bindings, List<AdminEvent> events) {
        return AdminGate.people(
                new AdminTokenVerifier(
                        new AdminTokenVerifier.Settings(issuer.issuer(), "meshguard-admin", Duration.ofSeconds(30))),
                RoleBindings.parse("bindings", bindings),
                events::add,
                "xds.admin.token_file");
    }

    public static CatalogApi catalogue(
            PostgresExtension pg, AdminGate gate, List<AdminEvent> events, XdsController xds, PlanChangeReplay replay) {
        return catalogue(pg.dataSource(), gate, events, xds, replay);
    }

    /** As above, on {@code dataSource} (a pool of the test's own size). */
    public static CatalogApi catalogue(
            javax.sql.DataSource dataSource,
            AdminGate gate,
            List<AdminEvent> events,
            XdsController xds,
            PlanChangeReplay replay) {
        return new CatalogApi(
                new CatalogService(
                        new CatalogStore(dataSource), gate, events::add, Clock.systemUTC(), Optional.empty()),
                gate,
                "example.test",
                xds.productServing(),
                "{}".getBytes(StandardCharsets.UTF_8),
                replay);
    }

    /** Acme's payments product with a published gold plan of 10 per minute; globex's checkout subscribed to it. */
    public static String goldSubscriber(PostgresExtension pg, Admin a) throws Exception {
        pg.dsl().execute("insert into tenant (id) values ('acme'), ('globex') on conflict do nothing");
        a.ok("root", "PUT", "/groups/dev", """
                {"name": "dev", "environment": "dev", "region": "eu", "listener_port": 8080}""");
        a.ok("root", "PUT", "/upstreams/payments?tenant=acme", """
                {"name": "payments", "protocol": "http1", "endpoints": [{"address": "10.1.0.7", "port": 8080}]}""");
        a.ok("root", "PUT", "/apis/payments?tenant=acme", """
                {"name": "payments", "base_path": "/payments", "default_version": "v1",
                 "versions": [{"version": "v1", "status": "active"}]}""");
        a.ok("root", "PUT", "/routes/dev/charges", """
                {"name": "charges", "group": "dev", "api": "payments", "version": "v1", "match": {"path_prefix": "/charges"},
                 "destinations": [{"upstream": "payments", "weight": 100}], "authz_profile": "payments-charges",
                 "dlp_profile": "default"}""");
        a.ok("root", "POST", "/publish", "{\"reason\": \"the payments API\"}");
        a.ok(
                "root",
                "PUT",
                "/v1/operator/clusters/local",
                "{\"region\": \"local\", \"gateway_groups\": {\"dev\": [\"acme\"]}}");
        a.ok("alice", "POST", "/v1/provider/products", """
                {"id": "payments", "name": "Payments", "visibility": "public",
                 "operations": [{"id": "create-charge", "api": "payments", "method": "post", "path": "/charges"}]}""");
        a.ok("alice", "POST", "/v1/provider/products/payments/state", "{\"state\": \"published\"}");
        a.ok("alice", "POST", "/v1/provider/products/payments/plans", """
                {"name": "gold", "approval": "auto", "auth_modes": ["apikey"],
                 "limits": {"rates": [{"requests": 10, "per": "1m"}]}}""");
        a.ok("alice", "POST", "/v1/provider/plans/payments-gold/state", "{\"state\": \"published\"}");
        a.ok("alice", "POST", "/v1/provider/products/payments/product-publishes", """
                {"cluster": "local", "environment": "dev", "auth_mode": "apikey", "gateway_group": "dev"}""");
        a.ok(
                "alice",
                "POST",
                "/v1/provider/product-publishes/payments-dev-local/state",
                "{\"state\": \"published\", \"reason\": \"launch\"}");
        a.ok("cora", "POST", "/v1/customer/applications", "{\"id\": \"globex-checkout\", \"name\": \"Checkout\"}");
        JsonNode sub = a.ok("cora", "POST", "/v1/customer/subscriptions", """
                {"application": "globex-checkout", "product_publish": "payments-dev-local", "plan": "payments-gold"}""");
        assertThat(sub.path("state").asText()).isEqualTo("active");
        return sub.path("id").asText();
    }

    /**
     * Globex's checkout: eight calls a second apart an hour ago ({@code call-1} … {@code call-8}), all admitted under
     * 10 per minute, written by the audit writer as extauthz records them; returns once all eight rows are stored.
     */
    public static void recordEightCalls(PostgresExtension pg, AuditWriter audit, String subscription) throws Exception {
        Instant start = Instant.now().minus(Duration.ofHours(1)).truncatedTo(ChronoUnit.SECONDS);
        KeptFacts kept = KeptFacts.of(new AuthzPolicyParser().parse("authz.yaml", new StringReader(POLICY)));
        for (int i = 1; i <= 8; i++) {
            audit.record(
                    AuditSinkDecisions.toAuditEvent(decision("call-" + i, start.plusSeconds(i), subscription, kept)));
        }
        Awaitility.await()
                .atMost(Duration.ofSeconds(20))
                .until(() ->
                        pg.dsl().fetchCount(pg.dsl().selectFrom("audit_event").where("kind = 'authz_decision'")) == 8);
    }

    /** One admitted call on the gold plan, as extauthz's engine decides and its audit records it. */
    private static AuthzDecisionEvent decision(String requestId, Instant at, String subscription, KeptFacts kept) {
        HttpRequestView request = HttpRequestView.of(CheckRequests.of(
                "POST",
                "payments.dev.local.api.example.test",
                "/payments/v1/charges",
                Map.of("x-request-id", List.of(requestId), "x-api-key", List.of("k")),
                Map.of(
                        RouteContract.AuthzContext.PRODUCT_PUBLISH, "payments-dev-local",
                        RouteContract.AuthzContext.PRODUCT_OPERATION, "create-charge"),
                CheckRequests.Encoding.HEADERS));
        Identity id = new Identity(
                "svc-checkout",
                Optional.of("globex"),
                List.of(),
                List.of(),
                Optional.empty(),
                "apikey",
                "meshguard-apikey",
                Optional.empty(),
                Optional.of("globex0000000001"));
        Decision d = new Decision(
                true,
                200,
                Reason.ALLOWED,
                "allowed",
                requestId,
                Optional.of("payments-charge"),
                Optional.of(id),
                List.of(),
                List.of(),
                Map.of(),
                "",
                false,
                Optional.of(subscription),
                Optional.of(new PlanUse("payments-gold", "globex-checkout", Optional.empty())));
        return DecisionEvents.of(request, d, at, 120, Optional.of(kept));
    }

    /** The gold plan as acme's provider reads it. */
    public static JsonNode plan(Admin a) throws Exception {
        for (JsonNode p : a.ok("alice", "GET", "/v1/provider/products/payments/plans", null)) {
            if (p.path("id").asText().equals("payments-gold")) {
                return p;
            }
        }
        throw new AssertionError("no plan payments-gold");
    }

    /** The admin port as one person at a time calls it, with a token from the test issuer. */
    public record Admin(int port, Function<String, String> tokens) {
        /** The scene's people, each with a token of {@code issuer} carrying their groups. */
        public Admin(TestIssuer issuer, int port) {
            this(port, who -> issuer.accessToken(who, "meshguard-admin", GROUPS.get(who)));
        }

        public String token(String who) {
            return tokens.apply(who);
        }

        public HttpResponse<String> call(String who, String method, String path, String body) throws Exception {
            return AdminHttp.send(port, token(who), method, path, body);
        }

        public JsonNode ok(String who, String method, String path, String body) throws Exception {
            HttpResponse<String> r = call(who, method, path, body);
            assertThat(r.statusCode()).as(method + " " + path + ": " + r.body()).isBetween(200, 202);
            return ConfigJson.mapper().readTree(r.body());
        }
    }
}
