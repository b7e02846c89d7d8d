package io.meshguard.xds.approval;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.meshguard.access.AdminEvent;
import io.meshguard.access.AdminGate;
import io.meshguard.audit.AuditWriter;
import io.meshguard.audit.AuditWriterSettings;
import io.meshguard.audit.ConnectionSource;
import io.meshguard.audit.spool.SpoolSettings;
import io.meshguard.audit.trail.AdminTrail;
import io.meshguard.audit.trail.AdminTrailEntry;
import io.meshguard.audit.trail.CheckpointDirectory;
import io.meshguard.audit.trail.CheckpointKeys;
import io.meshguard.audit.trail.TrailCheckpointer;
import io.meshguard.audit.trail.TrailEntries;
import io.meshguard.catalog.api.CatalogApi;
import io.meshguard.runtime.http.HttpServerSettings;
import io.meshguard.runtime.http.StatusHttpServer;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.testing.TestIssuer;
import io.meshguard.xds.LoopbackSettings;
import io.meshguard.xds.XdsController;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Replay as a weapon, with real parts on a small pool (4 connections, 2 s to get one, as a busy controller's pool
 * would answer): acme's provider asks for the same plan-change report eight times at once while the plan has 200,000
 * decisions in the window. One report is computed (the others are told 429 at once); meanwhile another tenant's
 * unrelated admin calls answer 200 and the admin trail's writer and checkpoint writer keep working.
 */
@IntegrationTest
class PlanChangeReportsStarveNoOneTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @TempDir
    Path dir;

    @Test
    void eightConcurrentReports_ofOneTenant_failNoOtherTenantsCall_norTheTrailsWriters() throws Exception {
        List<AdminEvent> events = new CopyOnWriteArrayList<>();
        HikariConfig small = new HikariConfig();
        small.setJdbcUrl(PG.jdbcUrl());
        small.setUsername(PG.user());
        small.setPassword(PG.password());
        small.setMaximumPoolSize(4);
        small.setConnectionTimeout(2_000);
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try (HikariDataSource pool = new HikariDataSource(small);
                TestIssuer issuer = new TestIssuer();
                XdsController xds = XdsController.create(LoopbackSettings.of(), pool, registry, c -> {});
                StatusHttpServer http = new StatusHttpServer("reports", HttpServerSettings.onPort(0), registry);
                AuditWriter audit = AuditWriter.start(
                        AuditWriterSettings.defaults(SpoolSettings.defaults(dir.resolve("spool"))),
                        ConnectionSource.of(PG.dataSource()),
                        new SimpleMeterRegistry());
                TrailCheckpointer checkpoints = new TrailCheckpointer(
                        pool,
                        CheckpointKeys.readPrivate(
                                CheckpointKeys.ensure(dir.resolve("checkpoint.key"), dir.resolve("checkpoint.pub"))),
                        new CheckpointDirectory(dir.resolve("checkpoints"), "test"),
                        Clock.systemUTC(),
                        Duration.ofSeconds(1),
                        new SimpleMeterRegistry())) {
            AdminGate gate = GoldPlanScene.gate(issuer, GoldPlanScene.bindings(""), events);
            xds.mountAdminApi(http, gate);
            CatalogApi catalogue = GoldPlanScene.catalogue(pool, gate, events, xds, xds.planChangeReplay());
            http.addHandler(CatalogApi.PREFIX, catalogue);
            xds.start();
            http.start();
            GoldPlanScene.Admin admin = new GoldPlanScene.Admin(issuer, http.port());
            String subscription = GoldPlanScene.goldSubscriber(PG, admin);
            GoldPlanScene.recordEightCalls(PG, audit, subscription);
            // a busy month of the plan: 200,000 decisions of its subscription in the window
            PG.dsl()
                    .execute("insert into audit_event select gen_random_uuid(), e.occurred_at + g * interval '1 ms',"
                            + " e.kind, e.request_id || '-' || g, e.trace_id, e.tenant, e.subject, e.client_id, e.source,"
                            + " e.caller_type, e.method, e.authority, e.path, e.route, e.status, e.decision, e.reason,"
                            + " e.latency_us, e.request_bytes, e.response_bytes, e.is_stream, e.details"
                            + " from audit_event e, generate_series(1, 25000) g where e.kind = 'authz_decision'");
            JsonNode opened = admin.ok(
                    "alice",
                    "POST",
                    "/v1/provider/plans/payments-gold/change-requests",
                    "{\"limits\": {\"rates\": [{\"requests\": 5, \"per\": \"1m\"}]}, \"reason\": \"oversold\"}");
            long id = opened.path("id").asLong();

            AtomicBoolean reporting = new AtomicBoolean(true);
            List<Integer> reports = new ArrayList<>();
            List<Integer> others = new CopyOnWriteArrayList<>();
            List<String> trailFailures = new CopyOnWriteArrayList<>();
            AdminTrail trail = new AdminTrail(pool);
            try (ExecutorService threads = Executors.newFixedThreadPool(10)) {
                List<Future<HttpResponse<String>>> asked = new ArrayList<>();
                for (int i = 0; i < 8; i++) {
                    asked.add(threads.submit(() ->
                            admin.call("alice", "POST", "/v1/provider/plan-change-requests/" + id + "/report", "{}")));
                }
                Future<?> bystander = threads.submit(() -> {
                    while (reporting.get()) {
                        others.add(admin.call("cora", "GET", "/v1/customer/applications", null)
                                .statusCode());
                        try {
                            trail.append(entry());
                            checkpoints.checkpointNow();
                        } catch (Exception e) {
                            trailFailures.add(e.toString());
                        }
                        Thread.sleep(50);
                    }
                    return null;
                });
                for (Future<HttpResponse<String>> f : asked) {
                    reports.add(f.get().statusCode());
                }
                reporting.set(false);
                bystander.get();
            }
            assertThat(others).as("globex's unrelated calls").isNotEmpty().allMatch(s -> s == 200);
            assertThat(trailFailures)
                    .as("the admin trail's writer and checkpoint writer")
                    .isEmpty();
            assertThat(reports)
                    .as("one report computed, the rest refused at once")
                    .contains(200);
            assertThat(reports).allMatch(s -> s == 200 || s == 429);
        }
    }

    private static AdminTrailEntry entry() {
        return TrailEntries.upsert(Instant.now(), "ops", Optional.empty(), "routes/dev/charges");
    }
}
