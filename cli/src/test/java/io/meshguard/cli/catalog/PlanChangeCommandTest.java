package io.meshguard.cli.catalog;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.access.AdminGate;
import io.meshguard.access.TrailAdminEvents;
import io.meshguard.audit.trail.AdminTrail;
import io.meshguard.catalog.CatalogStore;
import io.meshguard.catalog.api.CatalogApi;
import io.meshguard.catalogmodel.AuthMode;
import io.meshguard.catalogmodel.Limit;
import io.meshguard.catalogmodel.Plan;
import io.meshguard.catalogmodel.PlanLimits;
import io.meshguard.catalogmodel.PlanState;
import io.meshguard.catalogmodel.Product;
import io.meshguard.catalogmodel.ProductState;
import io.meshguard.cli.Main;
import io.meshguard.db.TenantScope;
import io.meshguard.runtime.http.BearerTokens;
import io.meshguard.runtime.http.HttpServerSettings;
import io.meshguard.runtime.http.StatusHttpServer;
import io.meshguard.testing.CatalogSamples;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code meshguard catalog plan limits} and {@code plan change …} against the real catalogue routes and a real
 * PostgreSQL: an unguarded plan is edited directly and refuses a change request; once its product is published the
 * direct edit is refused and the change is requested, shown, and not approvable by its requester. This catalogue has
 * no decision audit to replay against, so the request says it has no report yet.
 */
@IntegrationTest
class PlanChangeCommandTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @TempDir
    Path tmp;

    /** What one CLI run printed and returned. */
    private record Run(int code, String out, String err) {}

    private Run meshguard(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream stdout = System.out;
        PrintStream stderr = System.err;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            return new Run(
                    Main.execute(args), out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(stdout);
            System.setErr(stderr);
        }
    }

    @Test
    void planVerbs_editAnUnguardedPlan_andRequestAGuardedPlansChange_whichItsRequesterCannotApprove() throws Exception {
        Path tokenFile = tmp.resolve("admin.token");
        Files.writeString(tokenFile, "ops:" + "t".repeat(40) + "\n");
        PG.dsl().execute("insert into tenant (id) values ('acme') on conflict do nothing");
        PG.dsl().execute("insert into api (name, tenant) values ('payments-api', 'acme')");
        CatalogStore store = new CatalogStore(PG.dataSource());
        store.createProduct(
                TenantScope.ALL,
                CatalogSamples.draftProduct(
                        "payments",
                        "acme",
                        "Payments",
                        "v1",
                        List.of(new Product.Operation("charge", "payments-api", "POST", "/charges"))),
                "ops");
        store.createPlan(
                TenantScope.ALL,
                new Plan(
                        "payments-gold",
                        "payments",
                        "gold",
                        PlanState.STAGING,
                        new PlanLimits(List.of(new Limit(10, Duration.ofMinutes(1))), Optional.empty()),
                        Map.of(),
                        Plan.Approval.AUTO,
                        Set.of(AuthMode.APIKEY)));
        Path limits = tmp.resolve("limits.yaml");
        Files.writeString(limits, """
                limits:
                  rates: [{requests: 5, per: 1m}]
                """);
        AdminGate gate = AdminGate.local(new BearerTokens(Optional.of(tokenFile)), "xds.admin.token_file");
        try (StatusHttpServer http = new StatusHttpServer(
                "cli-plan-changes",
                HttpServerSettings.onPort(0),
                new io.micrometer.prometheusmetrics.PrometheusMeterRegistry(
                        io.micrometer.prometheusmetrics.PrometheusConfig.DEFAULT))) {
            http.addHandler(
                    CatalogApi.PREFIX,
                    new CatalogApi(
                            store,
                            gate,
                            new TrailAdminEvents(new AdminTrail(PG.dataSource())),
                            Clock.systemUTC(),
                            "example.com",
                            (publish, serve, change) -> {
                                throw new UnsupportedOperationException("no gateway in this test");
                            }));
            http.start();
            String[] target = {"--url", "http://127.0.0.1:" + http.port(), "--token-file", tokenFile.toString()};

            Run edited = meshguard(concat(
                    new String[] {"catalog", "plan", "limits", "payments-gold", "--file", limits.toString()}, target));
            assertThat(edited.code()).as(edited.err()).isZero();
            assertThat(rate(store)).isEqualTo(new Limit(5, Duration.ofMinutes(1)));
            Run unguarded = meshguard(concat(
                    new String[] {
                        "catalog",
                        "plan",
                        "change",
                        "request",
                        "payments-gold",
                        "--file",
                        limits.toString(),
                        "--reason",
                        "tighter"
                    },
                    target));
            assertThat(unguarded.code()).isEqualTo(1);
            assertThat(unguarded.err()).contains("409").contains("edit its limits directly");

            store.moveProduct(TenantScope.ALL, "payments", ProductState.PUBLISHED, "ops");
            Files.writeString(limits, """
                    limits:
                      rates: [{requests: 2, per: 1m}]
                    """);
            Run direct = meshguard(concat(
                    new String[] {"catalog", "plan", "limits", "payments-gold", "--file", limits.toString()}, target));
            assertThat(direct.code()).isEqualTo(1);
            assertThat(direct.err()).contains("published product payments").contains("change-requests");
            Run requested = meshguard(concat(
                    new String[] {
                        "catalog",
                        "plan",
                        "change",
                        "request",
                        "payments-gold",
                        "--file",
                        limits.toString(),
                        "--reason",
                        "launch pricing, CB-9"
                    },
                    target));
            assertThat(requested.code()).as(requested.err()).isZero();
            assertThat(requested.out()).contains("\"state\" : \"pending\"").contains("no replay report yet");
            long id = new com.fasterxml.jackson.databind.ObjectMapper()
                    .readTree(requested.out().substring(0, requested.out().lastIndexOf('}') + 1))
                    .path("id")
                    .asLong();

            Run shown =
                    meshguard(concat(new String[] {"catalog", "plan", "change", "show", Long.toString(id)}, target));
            assertThat(shown.code()).as(shown.err()).isZero();
            assertThat(shown.out()).contains("\"requests\" : 2").contains("\"requests\" : 5");
            Run own = meshguard(concat(
                    new String[] {"catalog", "plan", "change", "approve", Long.toString(id), "--reason", "mine"},
                    target));
            assertThat(own.code()).isEqualTo(1);
            assertThat(own.err()).contains("403");
            assertThat(rate(store))
                    .as("nothing applies without an approval")
                    .isEqualTo(new Limit(5, Duration.ofMinutes(1)));
        }
    }

    private static Limit rate(CatalogStore store) {
        return store.plans(TenantScope.ALL, "payments").get(0).limits().rates().get(0);
    }

    private static String[] concat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
