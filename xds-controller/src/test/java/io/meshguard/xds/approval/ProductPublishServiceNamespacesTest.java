package io.meshguard.xds.approval;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.access.AdminEvent;
import io.meshguard.access.AdminGate;
import io.meshguard.catalog.PlanChangeReplay;
import io.meshguard.catalog.api.CatalogApi;
import io.meshguard.runtime.http.HttpServerSettings;
import io.meshguard.runtime.http.StatusHttpServer;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.testing.TestIssuer;
import io.meshguard.xds.LoopbackSettings;
import io.meshguard.xds.XdsController;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A product publish compiles its routes from the API's routes, of another group when its own has none: over the real
 * admin and catalogue APIs on real PostgreSQL, acme's upstream naming a Service in acme-apps (assigned to acme for
 * group edge only) is not brought into group dev by a product publish there (422 {@code MG-UPSTREAM-018}, nothing
 * served), and is once an operator assigns acme-apps to acme for dev too.
 */
@IntegrationTest
class ProductPublishServiceNamespacesTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @Test
    void aProductPublish_bringingAnUpstreamIntoAGroupWithoutItsNamespace_isRefused_untilTheOperatorAssignsIt()
            throws Exception {
        List<AdminEvent> events = new CopyOnWriteArrayList<>();
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try (TestIssuer issuer = new TestIssuer();
                XdsController xds = XdsController.create(LoopbackSettings.of(), PG.dataSource(), registry, c -> {});
                StatusHttpServer http = new StatusHttpServer("ns-products", HttpServerSettings.onPort(0), registry)) {
            AdminGate gate = GoldPlanScene.gate(issuer, GoldPlanScene.bindings(""), events);
            xds.mountAdminApi(http, gate);
            http.addHandler(CatalogApi.PREFIX, GoldPlanScene.catalogue(PG, gate, events, xds, PlanChangeReplay.NONE));
            xds.start();
            http.start();
            GoldPlanScene.Admin a = new GoldPlanScene.Admin(issuer, http.port());
            PG.dsl().execute("insert into tenant (id) values ('acme') on conflict do nothing");
            for (String group : List.of("edge", "dev")) {
                a.ok("root", "PUT", "/groups/" + group, """
                        {"name": "%s", "environment": "dev", "region": "eu", "listener_port": %d}""".formatted(group, group.equals("edge") ? 8080 : 8081));
            }
            String assignment = """
                    {"region": "local", "gateway_groups": {"edge": ["acme"], "dev": ["acme"]},
                     "service_namespaces": {"edge": {"acme": ["acme-apps"]}%s}}""";
            a.ok("root", "PUT", "/v1/operator/clusters/local", assignment.formatted(""));
            a.ok("root", "PUT", "/upstreams/orders?tenant=acme", """
                    {"name": "orders", "protocol": "http1",
                     "endpoints": [{"address": "orders.acme-apps.svc.cluster.local", "port": 8080}]}""");
            a.ok("root", "PUT", "/apis/orders?tenant=acme", """
                    {"name": "orders", "base_path": "/orders", "default_version": "v1",
                     "versions": [{"version": "v1", "status": "active"}]}""");
            a.ok("root", "PUT", "/routes/edge/orders", """
                    {"name": "orders", "group": "edge", "api": "orders", "version": "v1",
                     "match": {"path_prefix": "/list"}, "destinations": [{"upstream": "orders", "weight": 100}],
                     "authz_profile": "orders", "dlp_profile": "default"}""");
            a.ok("root", "POST", "/publish", "{\"reason\": \"the orders API\"}");
            a.ok("alice", "POST", "/v1/provider/products", """
                    {"id": "orders", "name": "Orders", "visibility": "public",
                     "operations": [{"id": "list", "api": "orders", "method": "get", "path": "/list"}]}""");
            a.ok("alice", "POST", "/v1/provider/products/orders/state", "{\"state\": \"published\"}");
            a.ok("alice", "POST", "/v1/provider/products/orders/product-publishes", """
                    {"cluster": "local", "environment": "dev", "auth_mode": "apikey", "gateway_group": "dev"}""");

            HttpResponse<String> refused = a.call(
                    "alice",
                    "POST",
                    "/v1/provider/product-publishes/orders-dev-local/state",
                    "{\"state\": \"published\", \"reason\": \"launch\"}");
            assertThat(refused.statusCode()).as(refused.body()).isEqualTo(422);
            assertThat(refused.body()).contains("MG-UPSTREAM-018", "namespace acme-apps", "gateway group dev");
            assertThat(a.call("root", "GET", "/routes/dev", null).body()).doesNotContain("orders");

            a.ok(
                    "root",
                    "PUT",
                    "/v1/operator/clusters/local",
                    assignment.formatted(", \"dev\": {\"acme\": [\"acme-apps\"]}"));
            a.ok(
                    "alice",
                    "POST",
                    "/v1/provider/product-publishes/orders-dev-local/state",
                    "{\"state\": \"published\", \"reason\": \"launch\"}");
        }
    }
}
