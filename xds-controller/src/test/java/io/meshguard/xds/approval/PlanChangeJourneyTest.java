package io.meshguard.xds.approval;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import io.meshguard.access.AdminEvent;
import io.meshguard.access.AdminGate;
import io.meshguard.audit.AuditWriter;
import io.meshguard.audit.AuditWriterSettings;
import io.meshguard.audit.ConnectionSource;
import io.meshguard.audit.spool.SpoolSettings;
import io.meshguard.catalog.PlanChangeReplay;
import io.meshguard.catalog.api.CatalogApi;
import io.meshguard.extauthz.audit.DecisionEvents;
import io.meshguard.runtime.http.HttpServerSettings;
import io.meshguard.runtime.http.StatusHttpServer;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.testing.TestIssuer;
import io.meshguard.xds.LoopbackSettings;
import io.meshguard.xds.XdsController;
import io.meshguard.xds.model.ConfigJson;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The plan change with real parts: a real PostgreSQL, the controller publishing the product, the catalogue API
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

    @Test
    void downgrade_showsGlobexCallsNowRefused_needsACurrentReportAndASecondPerson_thenApplies() throws Exception {
        List<AdminEvent> events = new CopyOnWriteArrayList<>();
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try (TestIssuer issuer = new TestIssuer();
                XdsController xds = XdsController.create(LoopbackSettings.of(), PG.dataSource(), registry, c -> {});
                StatusHttpServer http = new StatusHttpServer("plan-changes", HttpServerSettings.onPort(0), registry);
                AuditWriter audit = AuditWriter.start(
                        AuditWriterSettings.defaults(SpoolSettings.defaults(dir.resolve("spool"))),
                        ConnectionSource.of(PG.dataSource()),
                        new SimpleMeterRegistry())) {
            AdminGate gate = GoldPlanScene.gate(issuer, GoldPlanScene.bindings(""), events);
            xds.mountAdminApi(http, gate);
            http.addHandler(CatalogApi.PREFIX, GoldPlanScene.catalogue(PG, gate, events, xds, xds.planChangeReplay()));
            xds.start();
            http.start();
            // the same catalogue while the decision audit cannot be read: requests open without a report
            HttpServer away = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            away.createContext(
                    CatalogApi.PREFIX, GoldPlanScene.catalogue(PG, gate, events, xds, PlanChangeReplay.NONE));
            away.start();
            try {
                GoldPlanScene.Admin main = new GoldPlanScene.Admin(issuer, http.port());
                GoldPlanScene.Admin auditAway =
                        new GoldPlanScene.Admin(issuer, away.getAddress().getPort());
                String subscription = GoldPlanScene.goldSubscriber(PG, main);

                GoldPlanScene.recordEightCalls(PG, audit, subscription);

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
                assertThat(GoldPlanScene.plan(main)
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
                JsonNode rate =
                        GoldPlanScene.plan(main).path("limits").path("rates").get(0);
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

    private static String reason(String why) {
        return "{\"reason\": \"" + why + "\"}";
    }
}
