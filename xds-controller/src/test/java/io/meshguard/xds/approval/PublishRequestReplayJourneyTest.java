package io.meshguard.xds.approval;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.meshguard.access.AdminGate;
import io.meshguard.audit.AuditWriter;
import io.meshguard.audit.AuditWriterSettings;
import io.meshguard.audit.ConnectionSource;
import io.meshguard.audit.spool.SpoolSettings;
import io.meshguard.audit.trail.AdminTrailVerifier;
import io.meshguard.catalog.apikey.JdbcApiKeyStore;
import io.meshguard.catalogmodel.apikey.ApiKeyService;
import io.meshguard.contract.RouteContract;
import io.meshguard.extauthz.audit.AuditSinkDecisions;
import io.meshguard.extauthz.server.ExtAuthzConfig;
import io.meshguard.extauthz.server.ExtAuthzServer;
import io.meshguard.extauthz.tools.CheckRequests;
import io.meshguard.runtime.http.BearerTokens;
import io.meshguard.runtime.http.HttpServerSettings;
import io.meshguard.runtime.http.StatusHttpServer;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.xds.LoopbackSettings;
import io.meshguard.xds.XdsController;
import io.meshguard.xds.model.ConfigJson;
import io.meshguard.xds.policy.PolicyFileSet;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The journey for a gateway publish, with real parts: a real PostgreSQL, extauthz deciding real gRPC Checks
 * (carrying the contract the served routes send) and writing them to the audit, the controller's admin API over HTTP
 * loading the same authz policy. alice's draft of the protected group drops the refunds route and re-points the
 * charges route to a stricter profile: its publish request's report shows the refunds decisions now 404 and the
 * charges decisions now denied, grouped by route; bob cannot approve it without a report computed since it was
 * requested, and rejects it. alice's second draft only adds a route no recorded request takes: it flips nothing and
 * bob approves it. Every step is a row of the admin trail.
 */
@IntegrationTest
class PublishRequestReplayJourneyTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @TempDir
    Path dir;

    static final String AUTHZ = """
            rate_limits:
              default_tier: free
              tiers: {free: {requests_per_second: 1000, burst: 1000}}
            routes:
              - {name: payments-write, match: {path_prefix: /payments}, auth: apikey}
              - {name: payments-admin, match: {path_prefix: /payments/admin}, auth: apikey, roles: [payments-admin]}
            """;
    static final String DLP = "version: 1\nprofiles:\n  - name: default\n    request:\n      detectors: {card: mask}\n";

    static final int CHARGES = 9;
    static final int REFUNDS = 4;

    @Test
    void droppedAndRepointedRoutes_showTheirFlipsByRoute_approvalNeedsACurrentReport_aHarmlessRevisionIsApproved()
            throws Exception {
        Files.writeString(dir.resolve("authz.yaml"), AUTHZ);
        Files.writeString(dir.resolve("dlp.yaml"), DLP);
        Path tokens = dir.resolve("tokens");
        Files.writeString(tokens, "alice:" + "a".repeat(32) + "\nbob:" + "b".repeat(32) + "\n");
        try (AuditWriter audit = AuditWriter.start(
                        AuditWriterSettings.defaults(SpoolSettings.defaults(dir.resolve("spool"))),
                        ConnectionSource.of(PG.dataSource()),
                        new SimpleMeterRegistry());
                XdsController xds = controller(Optional.of(PolicyFileSet.in(dir)));
                StatusHttpServer http =
                        new StatusHttpServer("publish-replay", HttpServerSettings.onPort(0), registry());
                ExtAuthzServer extauthz = new ExtAuthzServer(
                        ExtAuthzConfig.onLoopback(dir.resolve("authz.yaml"), Duration.ofMillis(200)),
                        new SimpleMeterRegistry(),
                        Optional.of(PG.dataSource()),
                        new AuditSinkDecisions(audit),
                        Clock.systemUTC())) {
            xds.mountAdminApi(http, AdminGate.local(new BearerTokens(Optional.of(tokens)), "xds.admin.token_file"));
            xds.start();
            http.start();
            extauthz.start();
            GoldPlanScene.Admin admin =
                    new GoldPlanScene.Admin(http.port(), who -> (who.equals("alice") ? "a" : "b").repeat(32));

            // the protected group as served: charges and refunds, both decided by rule payments-write
            admin.ok("bob", "PUT", "/groups/prod", """
                    {"name": "prod", "environment": "prod", "region": "eu", "hostnames": ["payments.example"],
                     "listener_port": 8080}""");
            admin.ok("bob", "PUT", "/upstreams/payments", """
                    {"name": "payments", "endpoints": [{"address": "10.1.0.7", "port": 8080}]}""");
            admin.ok("bob", "PUT", "/apis/payments", """
                    {"name": "payments", "base_path": "/payments", "default_version": "v1",
                     "versions": [{"version": "v1", "status": "active"}]}""");
            route(admin, "bob", "charges", "/charges", "payments-write");
            route(admin, "bob", "refunds", "/refunds", "payments-write");
            admin.ok("bob", "POST", "/publish", "{\"reason\": \"first release\"}");
            admin.ok("bob", "PUT", "/groups/prod/protection", "{\"reason\": \"production\"}");

            // acme's traffic through the served routes, decided by extauthz and recorded by the audit writer
            String key = new ApiKeyService(new JdbcApiKeyStore(PG.dataSource()), Clock.systemUTC())
                    .create("acme-checkout", "svc", "acme", List.of(), List.of(), "free", Optional.empty())
                    .text();
            ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", extauthz.grpcPort())
                    .usePlaintext()
                    .build();
            try {
                for (int i = 0; i < CHARGES; i++) {
                    assertThat(check(channel, key, "/payments/charges/" + i, "charges", "charge-" + i)
                                    .hasOkResponse())
                            .isTrue();
                }
                for (int i = 0; i < REFUNDS; i++) {
                    assertThat(check(channel, key, "/payments/v1/refunds/" + i, "refunds", "refund-" + i)
                                    .hasOkResponse())
                            .isTrue();
                }
            } finally {
                channel.shutdownNow();
            }
            Awaitility.await()
                    .atMost(Duration.ofSeconds(20))
                    .until(() -> PG.dsl()
                                    .fetchCount(
                                            PG.dsl().selectFrom("audit_event").where("kind = 'authz_decision'"))
                            == CHARGES + REFUNDS);

            // alice's draft: refunds dropped, charges re-pointed to the admin rule
            admin.ok("alice", "DELETE", "/routes/prod/refunds", "{\"reason\": \"refunds move to their own API\"}");
            route(admin, "alice", "charges", "/charges", "payments-admin");
            JsonNode published = admin.ok("alice", "POST", "/publish", "{\"reason\": \"tighten charges\"}");
            JsonNode request = published.path("requests").get(0);
            long badId = request.path("id").asLong();
            assertThat(request.path("report_current").asBoolean()).isTrue();
            JsonNode report = request.path("report");
            assertThat(report.path("flipped").asLong()).isEqualTo(CHARGES + REFUNDS);
            assertThat(report.path("unchanged").asLong()).isZero();
            assertThat(report.path("not_replayable").asLong()).isZero();
            List<String> groups = new ArrayList<>();
            for (JsonNode g : report.path("groups")) {
                groups.add(g.path("route").asText() + " " + g.path("tenant").asText() + " "
                        + g.path("count").asLong() + " " + g.path("from").asText() + " -> "
                        + g.path("to").asText());
            }
            assertThat(groups)
                    .containsExactly(
                            "charges acme " + CHARGES + " allow 200 -> deny 403",
                            "refunds acme " + REFUNDS + " allow 200 -> 404 no route");
            assertThat(report.path("groups").get(0).path("rule").asText())
                    .contains("meshguard.authz_profile payments-write -> payments-admin");
            assertThat(report.path("groups").get(1).path("samples").get(0).asText())
                    .startsWith("refund-");
            // the same report on the request as read back, as `meshguard xds approvals show` prints it
            JsonNode shown = admin.ok("bob", "GET", "/publish-requests/prod/" + badId, null);
            assertThat(ReplayReport.fromJson(shown.path("report")).render())
                    .contains(CHARGES + " decisions of tenant acme on route charges by ")
                    .contains(REFUNDS + " decisions of tenant acme on route refunds by ");

            // a request whose report is missing (opened while the audit database was away) cannot be approved
            PG.dsl().execute("update publish_request set report = null where id = " + badId);
            HttpResponse<String> refused =
                    admin.call("bob", "POST", "/publish-requests/prod/" + badId + "/approve", reason("looks fine"));
            assertThat(refused.statusCode()).as(refused.body()).isEqualTo(409);
            assertThat(refused.body()).contains("no replay report computed on its content since it was requested");
            JsonNode recomputed = admin.ok("bob", "POST", "/publish-requests/prod/" + badId + "/report", "{}");
            assertThat(recomputed.path("report").path("flipped").asLong()).isEqualTo(CHARGES + REFUNDS);
            assertThat(recomputed.path("report_current").asBoolean()).isTrue();
            admin.ok(
                    "bob", "POST", "/publish-requests/prod/" + badId + "/reject", reason("breaks refunds and charges"));

            // the second draft puts both back and only adds a route no recorded request takes
            route(admin, "alice", "charges", "/charges", "payments-write");
            route(admin, "alice", "refunds", "/refunds", "payments-write");
            route(admin, "alice", "payouts", "/payouts", "payments-write");
            JsonNode fixed = admin.ok("alice", "POST", "/publish", "{\"reason\": \"add payouts\"}")
                    .path("requests")
                    .get(0);
            assertThat(fixed.path("report").path("flipped").asLong()).isZero();
            assertThat(fixed.path("report").path("unchanged").asLong()).isEqualTo(CHARGES + REFUNDS);
            JsonNode approved = admin.ok(
                    "bob",
                    "POST",
                    "/publish-requests/prod/" + fixed.path("id").asLong() + "/approve",
                    reason("no flips, CB-3"));
            assertThat(approved.path("request").path("state").asText()).isEqualTo("published");
        }

        List<String> steps = PG.dsl()
                .fetch("select action || ' ' || coalesce(outcome, '') from admin_trail"
                        + " where action in ('publish-request', 'publish-report', 'approve', 'reject') order by seq")
                .getValues(0, String.class);
        assertThat(steps).hasSize(8);
        assertThat(steps.get(0)).startsWith("publish-request ");
        assertThat(steps.get(1)).startsWith("publish-report ").contains((CHARGES + REFUNDS) + " flipped");
        assertThat(steps.get(2)).startsWith("approve ").contains("refused 409");
        assertThat(steps.get(3)).startsWith("publish-report ");
        assertThat(steps.get(4)).startsWith("reject ");
        assertThat(steps.get(5)).startsWith("publish-request ");
        assertThat(steps.get(6)).startsWith("publish-report ").contains(" 0 flipped");
        // the approval's row says what its report showed
        assertThat(steps.get(7))
                .startsWith("approve ")
                .contains("approved and published")
                .contains("its report: 0 flipped of " + (CHARGES + REFUNDS) + " decisions");
        AdminTrailVerifier.Report chain = new AdminTrailVerifier(PG.dataSource()).verify(Optional.empty());
        assertThat(chain.intact()).as("%s", chain.firstBad()).isTrue();
    }

    private static void route(GoldPlanScene.Admin admin, String who, String name, String prefix, String profile)
            throws Exception {
        admin.ok(who, "PUT", "/routes/prod/" + name, """
                {"name": "%s", "group": "prod", "api": "payments", "version": "v1", "match": {"path_prefix": "%s"},
                 "destinations": [{"upstream": "payments", "weight": 100}], "authz_profile": "%s",
                 "dlp_profile": "default"}""".formatted(name, prefix, profile));
    }

    /** A Check as Envoy sends it on the served route: the route's contract (docs/route-contract.md). */
    private static CheckResponse check(ManagedChannel ch, String key, String path, String route, String requestId) {
        return AuthorizationGrpc.newBlockingStub(ch)
                .withDeadlineAfter(Duration.ofSeconds(30))
                .check(CheckRequests.of(
                        "POST",
                        "payments.example",
                        path,
                        Map.of("x-api-key", List.of(key), "x-request-id", List.of(requestId)),
                        Map.of(
                                RouteContract.AuthzContext.AUTHZ_PROFILE, "payments-write",
                                RouteContract.AuthzContext.GATEWAY_ROUTE, route,
                                RouteContract.AuthzContext.API, "payments",
                                RouteContract.AuthzContext.API_VERSION, "v1"),
                        CheckRequests.Encoding.HEADERS));
    }

    private static String reason(String reason) {
        return ConfigJson.mapper().createObjectNode().put("reason", reason).toString();
    }

    private static PrometheusMeterRegistry registry() {
        return new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    }

    private static XdsController controller(Optional<PolicyFileSet> policies) {
        return XdsController.create(LoopbackSettings.of(), PG.dataSource(), registry(), c -> {}, policies);
    }
}
