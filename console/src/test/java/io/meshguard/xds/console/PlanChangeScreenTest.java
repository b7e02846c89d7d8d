package io.meshguard.xds.console;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
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
import io.meshguard.extauthz.apikey.ApiKeyAdminApi;
import io.meshguard.extauthz.apikey.JdbcApiKeyStore;
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
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Plan changes screen, server-rendered (issue 47): a downgrade of a subscribed plan requested through the
 * catalogue's API, with the replay report of globex's recorded calls; the list and the request page show the limits
 * in force and requested, the report's sentences and the drill-down to the sample rows; approving it in the console
 * is refused to the requester with the API's message and applies the limits when another person approves.
 */
@IntegrationTest
class PlanChangeScreenTest {
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
                              cluster:read, cluster:update, plan:read, audit:read]
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

    static final Pattern HIDDEN = Pattern.compile("name=\"(_signin|_csrf)\" value=\"([^\"]+)\"");

    @Test
    void planChangeRequest_showsItsReportBesideTheLimits_refusesTheRequestersApproval_appliesAnotherPersons()
            throws Exception {
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
                StatusHttpServer http = new StatusHttpServer("plan-screen", HttpServerSettings.onPort(0), registry);
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
            CatalogApi catalog = catalogue(gate, events, xds, xds.planChangeReplay());
            ApiKeyAdminApi keys = new ApiKeyAdminApi(
                    Optional.of(new JdbcApiKeyStore(PG.dataSource())), Clock.systemUTC(), gate, Optional.empty());
            http.addHandler(CatalogApi.PREFIX, catalog);
            ConsoleMount.mount(
                    xds,
                    http,
                    gate,
                    ConsoleSettings.of(Optional.empty(), "meshguard-console", Optional.empty(), "http://127.0.0.1"),
                    Optional.of(new CatalogConsole(new CatalogStore(PG.dataSource()), catalog, keys)));
            xds.start();
            http.start();
            Admin main = new Admin(issuer, http.port());
            String subscription = goldSubscriber(main);
            Instant start = Instant.now().minus(Duration.ofHours(1)).truncatedTo(ChronoUnit.SECONDS);
            KeptFacts kept = KeptFacts.of(new AuthzPolicyParser().parse("authz.yaml", new StringReader(POLICY)));
            for (int i = 1; i <= 8; i++) {
                audit.record(AuditSinkDecisions.toAuditEvent(
                        decision("call-" + i, start.plusSeconds(i), subscription, kept)));
            }
            Awaitility.await()
                    .atMost(Duration.ofSeconds(20))
                    .until(() -> PG.dsl()
                                    .fetchCount(
                                            PG.dsl().selectFrom("audit_event").where("kind = 'authz_decision'"))
                            == 8);
            long id = main.ok(
                            "alice",
                            "POST",
                            "/v1/provider/plans/payments-gold/change-requests",
                            "{\"limits\": {\"rates\": [{\"requests\": 5, \"per\": \"1m\"}]},"
                                    + " \"reason\": \"gold is oversold, CB-7\"}")
                    .path("id")
                    .asLong();

            Browser alice =
                    new Browser(http.port(), issuer.accessToken("alice", "meshguard-admin", GROUPS.get("alice")));
            String list = alice.get("/console/plan-changes").body();
            assertThat(list).contains("href=\"/console/plan-changes\"");
            String row = list.substring(list.indexOf("id=\"plan-change-" + id + "\""));
            assertThat(row).contains("payments-gold").contains("pending").contains("3 of 8");
            assertThat(row.substring(row.indexOf("data-limits")))
                    .contains("{\"requests\":10,")
                    .contains("{\"requests\":5,");

            String page = alice.get("/console/plan-changes/" + id).body();
            int report = page.indexOf("id=\"report\"");
            int limits = page.indexOf("id=\"plan-limits\"");
            assertThat(report).as(page).isPositive();
            assertThat(limits).as("the limits beside the report").isGreaterThan(report);
            assertThat(page.substring(report, limits))
                    .contains("8 decisions: <strong>3 flipped</strong>, 0 not replayable")
                    .contains("3 decisions of tenant globex on route payments-charge")
                    .contains("call-6, call-7, call-8")
                    .contains("href=\"/console/plan-changes/" + id + "?group=0#samples\"");
            assertThat(page).contains("id=\"decide\"");

            // the sample rows are globex's calls: a provider scoped to acme does not read them, the bank's auditor does
            assertThat(alice.get("/console/plan-changes/" + id + "?group=0").body())
                    .contains("Reading the sample rows needs audit:read.");
            Browser root = new Browser(http.port(), issuer.accessToken("root", "meshguard-admin", GROUPS.get("root")));
            String samples =
                    root.get("/console/plan-changes/" + id + "?group=0").body();
            samples = samples.substring(samples.indexOf("id=\"samples\""));
            for (int i = 6; i <= 8; i++) {
                assertThat(samples).contains("<code>call-" + i + "</code>");
            }
            assertThat(samples).doesNotContain("<code>call-1</code>");

            String refused = alice.decide(id, page, "approve", "mine");
            assertThat(refused).contains("another person must approve it").contains("pending");

            Browser bob = new Browser(http.port(), issuer.accessToken("bob", "meshguard-admin", GROUPS.get("bob")));
            String approved =
                    bob.decide(id, bob.get("/console/plan-changes/" + id).body(), "approve", "read it, CB-7");
            assertThat(approved)
                    .contains("Plan-change request " + id + " approved")
                    .contains("data-state>approved");
            JsonNode rate = plan(main).path("limits").path("rates").get(0);
            assertThat(rate.path("requests").asLong()).isEqualTo(5);
            assertThat(events)
                    .filteredOn(e -> e.action().equals("plan:approve"))
                    .extracting(AdminEvent::outcome)
                    .anySatisfy(o -> assertThat(o).contains("3 flipped of 8 decisions"));
        }
    }

    /** One person's browser: signed in to the console with their access token, its session cookie kept. */
    private static final class Browser {
        private final String base;
        private final String session;

        Browser(int port, String token) throws Exception {
            this.base = "http://127.0.0.1:" + port;
            HttpResponse<String> form = CLIENT.send(
                    HttpRequest.newBuilder(URI.create(base + "/console/signin")).build(),
                    HttpResponse.BodyHandlers.ofString());
            String binding = cookie(form, Console.SIGN_IN_COOKIE);
            HttpResponse<String> r = CLIENT.send(
                    HttpRequest.newBuilder(URI.create(base + "/console/signin"))
                            .header("Cookie", Console.SIGN_IN_COOKIE + "=" + binding)
                            .header("Content-Type", "application/x-www-form-urlencoded")
                            .POST(HttpRequest.BodyPublishers.ofString("_signin=" + hidden(form.body(), "_signin")
                                    + "&next=%2Fconsole&token=" + URLEncoder.encode(token, StandardCharsets.UTF_8)))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as(r.body()).isEqualTo(303);
            this.session = Console.SESSION_COOKIE + "=" + cookie(r, Console.SESSION_COOKIE);
        }

        HttpResponse<String> get(String path) throws Exception {
            HttpResponse<String> r = CLIENT.send(
                    HttpRequest.newBuilder(URI.create(base + path))
                            .header("Cookie", session)
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
            return r;
        }

        /** Posts the page's decide form and answers the page it leads back to (with the outcome's sentence). */
        String decide(long id, String page, String verb, String reason) throws Exception {
            String back = "/console/plan-changes/" + id;
            HttpResponse<String> r = CLIENT.send(
                    HttpRequest.newBuilder(
                                    URI.create(base + "/console/provider/plan-change-requests/" + id + "/" + verb))
                            .header("Cookie", session)
                            .header("Content-Type", "application/x-www-form-urlencoded")
                            .POST(HttpRequest.BodyPublishers.ofString("_csrf=" + hidden(page, "_csrf") + "&back="
                                    + URLEncoder.encode(back, StandardCharsets.UTF_8) + "&reason="
                                    + URLEncoder.encode(reason, StandardCharsets.UTF_8)))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as(r.body()).isEqualTo(303);
            return get(back).body();
        }
    }

    private static String cookie(HttpResponse<String> r, String name) {
        String header = r.headers().allValues("Set-Cookie").stream()
                .filter(c -> c.startsWith(name + "="))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no " + name + " cookie: " + r.headers()));
        return header.substring(name.length() + 1, header.indexOf(';'));
    }

    private static String hidden(String body, String name) {
        Matcher m = HIDDEN.matcher(body);
        while (m.find()) {
            if (m.group(1).equals(name)) {
                return URLEncoder.encode(m.group(2), StandardCharsets.UTF_8);
            }
        }
        throw new AssertionError("no hidden " + name + " in:\n" + body);
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
