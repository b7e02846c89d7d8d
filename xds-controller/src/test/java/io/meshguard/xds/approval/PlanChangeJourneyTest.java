package io.meshguard.xds.approval;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import io.meshguard.access.AdminEvent;
import io.meshguard.access.AdminGate;
import io.meshguard.access.AdminTokenVerifier;
import io.meshguard.access.RoleBindings;
import io.meshguard.audit.AuditWriter;
import io.meshguard.audit.AuditWriterSettings;
import io.meshguard.audit.ConnectionSource;
import io.meshguard.audit.spool.SpoolSettings;
import io.meshguard.catalog.CatalogStore;
import io.meshguard.catalog.PlanChangeReplay;
import io.meshguard.catalog.api.CatalogApi;
import io.meshguard.catalog.api.CatalogService;
import io.meshguard.contract.RouteContract;
import io.meshguard.extauthz.audit.AuditSinkDecisions;
import io.meshguard.extauthz.audit.DecisionEvents;
import io.meshguard.extauthz.decision.Decision;
import io.meshguard.extauthz.decision.HttpRequestView;
import io.meshguard.extauthz.decision.Identity;
import io.meshguard.extauthz.decision.PlanUse;
import io.meshguard.extauthz.decision.Reason;
import io.meshguard.extauthz.policy.AuthzPolicyParser;
import io.meshguard.extauthz.replay.KeptFacts;
import io.meshguard.extauthz.tools.CheckRequests;
import io.meshguard.runtime.http.BearerTokens;
import io.meshguard.runtime.http.HttpServerSettings;
import io.meshguard.runtime.http.StatusHttpServer;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.testing.TestIssuer;
import io.meshguard.xds.XdsController;
import io.meshguard.xds.XdsSettings;
import io.meshguard.xds.model.ConfigJson;
import io.meshguard.xds.server.AdsPeerPolicy;
import io.meshguard.xds.snapshot.FilterTargets;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.StringReader;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 47's plan change with real parts: a real PostgreSQL, the controller publishing the product, the catalogue API
 * over HTTP with OIDC tokens from a real JWKS server, decision rows written by extauthz's recording path
 * ({@link DecisionEvents}, the audit writer). Globex's checkout calls the gold plan eight times a second apart under
 * 10 per minute; alice asks for 5 per minute. Asked while the decision audit is away, the request has no report and
 * cannot be approved; its report, computed again, says the last three calls of tenant globex would now be refused by
 * the plan's new rate limit; alice cannot approve her own request; bob does, and the plan's limits are the new ones.
 * Every step is an admin event.
 */
@IntegrationTest
class PlanChangeJourneyTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @TempDir
    Path dir;

    static final String BINDINGS = """
            claims: [groups]
            roles:
              system-admin:
                permissions: [config:read, group:read, group:update, upstream:read, upstream:update, api:read,
                              api:update, route:read, route:update, revision:read, revision:publish, render:read,
                              cluster:read, cluster:update]
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
            """;
    static final Map<String, List<String>> GROUPS = Map.of(
            "root", List.of("platform"),
            "alice", List.of("acme-providers"),
            "bob", List.of("acme-providers"),
            "cora", List.of("globex-customers"));

    /** The policy the decisions were made on: what their rows keep follows from it. */
    static final String POLICY = """
            routes:
              - {name: payments-charge, match: {path_prefix: /payments}, auth: apikey}
            """;

    static final HttpClient CLIENT = HttpClient.newHttpClient();

    @Test
    void downgrade_showsGlobexCallsNowRefused_needsACurrentReportAndASecondPerson_thenApplies() throws Exception {
        List<AdminEvent> events = new CopyOnWriteArrayList<>();
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try (TestIssuer issuer = new TestIssuer();
                XdsController xds = XdsController.create(
                        new XdsSettings(
                                "127.0.0.1",
                                0,
                                Optional.empty(),
                                FilterTargets.DEFAULTS,
                                Optional.empty(),
                                Duration.ofMillis(10),
                                Duration.ofMinutes(1),
                                Duration.ZERO,
                                "test",
                                AdsPeerPolicy.localDevelopment()),
                        PG.dataSource(),
                        registry,
                        c -> {});
                StatusHttpServer http = new StatusHttpServer("plan-changes", HttpServerSettings.onPort(0), registry);
                AuditWriter audit = AuditWriter.start(
                        AuditWriterSettings.defaults(SpoolSettings.defaults(dir.resolve("spool"))),
                        ConnectionSource.of(PG.dataSource()),
                        new SimpleMeterRegistry())) {
            AdminGate gate = new AdminGate(
                    Optional.of(new AdminTokenVerifier(new AdminTokenVerifier.Settings(
                            issuer.issuer(), "meshguard-admin", Duration.ofSeconds(30)))),
                    RoleBindings.parse("bindings", BINDINGS),
                    new BearerTokens(Optional.empty()),
                    false,
                    events::add,
                    Clock.systemUTC(),
                    "xds.admin.token_file");
            xds.mountAdminApi(http, gate);
            http.addHandler(CatalogApi.PREFIX, catalogue(gate, events, xds, xds.planChangeReplay()));
            xds.start();
            http.start();
            // the same catalogue while the decision audit cannot be read: requests open without a report
            HttpServer away = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            away.createContext(CatalogApi.PREFIX, catalogue(gate, events, xds, PlanChangeReplay.NONE));
            away.start();
            try {
                Admin main = new Admin(issuer, http.port());
                Admin auditAway = new Admin(issuer, away.getAddress().getPort());
                String subscription = goldSubscriber(main);

                // globex's checkout: eight calls a second apart, all admitted under 10 per minute, as extauthz records
                Instant start = Instant.now().minus(Duration.ofHours(1)).truncatedTo(ChronoUnit.SECONDS);
                KeptFacts kept = KeptFacts.of(new AuthzPolicyParser().parse("authz.yaml", new StringReader(POLICY)));
                for (int i = 1; i <= 8; i++) {
                    audit.record(AuditSinkDecisions.toAuditEvent(
                            decision("call-" + i, start.plusSeconds(i), subscription, kept)));
                }
                Awaitility.await()
                        .atMost(Duration.ofSeconds(20))
                        .until(() -> PG.dsl()
                                        .fetchCount(PG.dsl()
                                                .selectFrom("audit_event")
                                                .where("kind = 'authz_decision'"))
                                == 8);

                // someone's calls depend on the plan: its limits are not edited directly
                HttpResponse<String> direct = main.call(
                        "alice",
                        "PUT",
                        "/v1/provider/plans/payments-gold/limits",
                        "{\"limits\": {\"rates\": [{\"requests\": 5, \"per\": \"1m\"}]}}");
                assertThat(direct.statusCode()).as(direct.body()).isEqualTo(409);
                assertThat(direct.body()).contains("1 live subscription").contains("change-requests");

                JsonNode opened = auditAway.ok(
                        "alice",
                        "POST",
                        "/v1/provider/plans/payments-gold/change-requests",
                        "{\"limits\": {\"rates\": [{\"requests\": 5, \"per\": \"1m\"}]},"
                                + " \"reason\": \"gold is oversold, CB-7\"}");
                long id = opened.path("id").asLong();
                assertThat(opened.path("state").asText()).isEqualTo("pending");
                assertThat(opened.has("report")).isFalse();
                HttpResponse<String> blind = main.call(
                        "bob", "POST", "/v1/provider/plan-change-requests/" + id + "/approve", reason("looks fine"));
                assertThat(blind.statusCode()).as(blind.body()).isEqualTo(409);
                assertThat(blind.body()).contains("no replay report");

                JsonNode reported =
                        main.ok("alice", "POST", "/v1/provider/plan-change-requests/" + id + "/report", "{}");
                assertThat(reported.path("report_current").asBoolean()).isTrue();
                JsonNode report = reported.path("report");
                assertThat(report.path("decisions").asLong()).isEqualTo(8);
                assertThat(report.path("flipped").asLong()).isEqualTo(3);
                assertThat(report.path("not_replayable").asLong()).isZero();
                JsonNode group = report.path("detail").path("groups").get(0);
                assertThat(group.path("tenant").asText()).isEqualTo("globex");
                assertThat(group.path("route").asText()).isEqualTo("payments-charge");
                assertThat(group.path("from").asText()).isEqualTo("allow 200");
                assertThat(group.path("to").asText()).isEqualTo("deny 429");
                assertThat(group.path("rule").asText()).isEqualTo("rate limit plan:gold 5 per 1m");
                assertThat(group.path("caller").asText())
                        .contains("globex-checkout")
                        .contains(subscription);
                assertThat(ConfigJson.mapper().convertValue(group.path("samples"), List.class))
                        .containsExactly("call-6", "call-7", "call-8");
                assertThat(report.path("text").asText())
                        .contains("3 decisions of tenant globex on route payments-charge")
                        .contains("simulated as one counter");

                HttpResponse<String> own = main.call(
                        "alice", "POST", "/v1/provider/plan-change-requests/" + id + "/approve", reason("mine"));
                assertThat(own.statusCode()).as(own.body()).isEqualTo(403);
                assertThat(own.body()).contains("another person must approve it");
                assertThat(plan(main)
                                .path("limits")
                                .path("rates")
                                .get(0)
                                .path("requests")
                                .asLong())
                        .as("nothing applies before the approval")
                        .isEqualTo(10);

                JsonNode approved = main.ok(
                        "bob",
                        "POST",
                        "/v1/provider/plan-change-requests/" + id + "/approve",
                        reason("read the report, globex is told, CB-7"));
                assertThat(approved.path("state").asText()).isEqualTo("approved");
                assertThat(approved.path("decided_by").asText()).contains("bob");
                JsonNode rate = plan(main).path("limits").path("rates").get(0);
                assertThat(rate.path("requests").asLong()).isEqualTo(5);
                assertThat(rate.path("per").asText()).isEqualTo("60s");

                assertThat(events)
                        .filteredOn(e -> e.target().startsWith("plan-change-request/payments-gold/" + id))
                        .extracting(AdminEvent::action)
                        .containsExactly("plan:change", "plan:change", "plan:approve");
                assertThat(events)
                        .filteredOn(e -> e.action().equals("plan:approve"))
                        .extracting(AdminEvent::outcome)
                        .anySatisfy(o -> assertThat(o).contains("3 flipped of 8 decisions"));
            } finally {
                away.stop(0);
            }
        }
    }

    private static CatalogApi catalogue(
            AdminGate gate, List<AdminEvent> events, XdsController xds, PlanChangeReplay replay) {
        return new CatalogApi(
                new CatalogService(
                        new CatalogStore(PG.dataSource()), gate, events::add, Clock.systemUTC(), Optional.empty()),
                gate,
                "example.test",
                xds.productServing(),
                "{}".getBytes(java.nio.charset.StandardCharsets.UTF_8),
                replay);
    }

    /** Acme's payments product with a published gold plan of 10 per minute; globex's checkout subscribed to it. */
    private static String goldSubscriber(Admin a) throws Exception {
        PG.dsl().execute("insert into tenant (id) values ('acme'), ('globex') on conflict do nothing");
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

    /** One admitted call on the gold plan, as extauthz's engine decides and its audit records it. */
    private static io.meshguard.extauthz.audit.AuthzDecisionEvent decision(
            String requestId, Instant at, String subscription, KeptFacts kept) {
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

    private static JsonNode plan(Admin a) throws Exception {
        for (JsonNode p : a.ok("alice", "GET", "/v1/provider/products/payments/plans", null)) {
            if (p.path("id").asText().equals("payments-gold")) {
                return p;
            }
        }
        throw new AssertionError("no plan payments-gold");
    }

    private static String reason(String why) {
        return "{\"reason\": \"" + why + "\"}";
    }

    /** The admin port as one person at a time calls it, with a token from the test issuer. */
    private record Admin(TestIssuer issuer, int port) {
        HttpResponse<String> call(String who, String method, String path, String body) throws Exception {
            return CLIENT.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                            .header(
                                    "Authorization",
                                    "Bearer " + issuer.accessToken(who, "meshguard-admin", GROUPS.get(who)))
                            .method(
                                    method,
                                    body == null
                                            ? HttpRequest.BodyPublishers.noBody()
                                            : HttpRequest.BodyPublishers.ofString(body))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
        }

        JsonNode ok(String who, String method, String path, String body) throws Exception {
            HttpResponse<String> r = call(who, method, path, body);
            assertThat(r.statusCode()).as(method + " " + path + ": " + r.body()).isBetween(200, 202);
            return ConfigJson.mapper().readTree(r.body());
        }
    }
}
