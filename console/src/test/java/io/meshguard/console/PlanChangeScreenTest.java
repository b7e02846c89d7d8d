package io.meshguard.console;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.meshguard.access.AdminEvent;
import io.meshguard.access.AdminGate;
import io.meshguard.audit.AuditWriter;
import io.meshguard.audit.AuditWriterSettings;
import io.meshguard.audit.ConnectionSource;
import io.meshguard.audit.spool.SpoolSettings;
import io.meshguard.runtime.http.HttpServerSettings;
import io.meshguard.runtime.http.StatusHttpServer;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.testing.TestIssuer;
import io.meshguard.xds.LoopbackSettings;
import io.meshguard.xds.XdsController;
import io.meshguard.xds.approval.GoldPlanScene;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Plan changes screen, server-rendered: a downgrade of a subscribed plan requested through the
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

    @Test
    void planChangeRequest_showsItsReportBesideTheLimits_refusesTheRequestersApproval_appliesAnotherPersons()
            throws Exception {
        List<AdminEvent> events = new CopyOnWriteArrayList<>();
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try (TestIssuer issuer = new TestIssuer();
                XdsController xds = XdsController.create(LoopbackSettings.of(), PG.dataSource(), registry, c -> {});
                StatusHttpServer http = new StatusHttpServer("plan-screen", HttpServerSettings.onPort(0), registry);
                AuditWriter audit = AuditWriter.start(
                        AuditWriterSettings.defaults(SpoolSettings.defaults(dir.resolve("spool"))),
                        ConnectionSource.of(PG.dataSource()),
                        new SimpleMeterRegistry())) {
            AdminGate gate = GoldPlanScene.gate(issuer, GoldPlanScene.bindings(", plan:read, audit:read"), events);
            TokenSignedBrowser.serveCatalogueConsole(xds, http, gate, PG.dataSource(), events, xds.planChangeReplay());
            GoldPlanScene.Admin main = new GoldPlanScene.Admin(issuer, http.port());
            String subscription = GoldPlanScene.goldSubscriber(PG, main);
            GoldPlanScene.recordEightCalls(PG, audit, subscription);
            long id = main.ok(
                            "alice",
                            "POST",
                            "/v1/provider/plans/payments-gold/change-requests",
                            "{\"limits\": {\"rates\": [{\"requests\": 5, \"per\": \"1m\"}]},"
                                    + " \"reason\": \"gold is oversold, CB-7\"}")
                    .path("id")
                    .asLong();

            TokenSignedBrowser alice = new TokenSignedBrowser(http.port(), main.token("alice"));
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
            TokenSignedBrowser root = new TokenSignedBrowser(http.port(), main.token("root"));
            String samples =
                    root.get("/console/plan-changes/" + id + "?group=0").body();
            samples = samples.substring(samples.indexOf("id=\"samples\""));
            for (int i = 6; i <= 8; i++) {
                assertThat(samples).contains("<code>call-" + i + "</code>");
            }
            assertThat(samples).doesNotContain("<code>call-1</code>");

            String refused = decide(alice, id, page, "approve", "mine");
            assertThat(refused).contains("another person must approve it").contains("pending");

            TokenSignedBrowser bob = new TokenSignedBrowser(http.port(), main.token("bob"));
            String approved =
                    decide(bob, id, bob.get("/console/plan-changes/" + id).body(), "approve", "read it, CB-7");
            assertThat(approved)
                    .contains("Plan-change request " + id + " approved")
                    .contains("data-state>approved");
            JsonNode rate =
                    GoldPlanScene.plan(main).path("limits").path("rates").get(0);
            assertThat(rate.path("requests").asLong()).isEqualTo(5);
            assertThat(events)
                    .filteredOn(e -> e.action().equals("plan:approve"))
                    .extracting(AdminEvent::outcome)
                    .anySatisfy(o -> assertThat(o).contains("3 flipped of 8 decisions"));
        }
    }

    private static String decide(TokenSignedBrowser who, long id, String page, String verb, String reason)
            throws Exception {
        return who.decide(
                "/console/provider/plan-change-requests/" + id + "/" + verb,
                page,
                "/console/plan-changes/" + id,
                reason);
    }
}
