package io.meshguard.console;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.meshguard.access.AdminEvent;
import io.meshguard.access.AdminGate;
import io.meshguard.catalog.PlanChangeReplay;
import io.meshguard.runtime.http.HttpServerSettings;
import io.meshguard.runtime.http.StatusHttpServer;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.testing.TestIssuer;
import io.meshguard.xds.LoopbackSettings;
import io.meshguard.xds.XdsController;
import io.meshguard.xds.approval.GoldPlanScene;
import io.meshguard.xds.model.ConfigJson;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The developer portal shows what a product publish sells, server-rendered: acme's payments product published on dev
 * with an API-key plan, seen by globex's customer cora. The page lists the operation at its full path, the credential,
 * a link to the OpenAPI document and a call to copy with a placeholder for the key; the link answers the document
 * under the session; a publish the caller may not see is 404.
 */
@IntegrationTest
class PortalApiScreenTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @Test
    void portal_showsEachPublishsOperationsCredentialExampleCall_andServesItsOpenApiDocument() throws Exception {
        List<AdminEvent> events = new CopyOnWriteArrayList<>();
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try (TestIssuer issuer = new TestIssuer();
                XdsController xds = XdsController.create(LoopbackSettings.of(), PG.dataSource(), registry, c -> {});
                StatusHttpServer http = new StatusHttpServer("portal-api", HttpServerSettings.onPort(0), registry)) {
            AdminGate gate = GoldPlanScene.gate(issuer, GoldPlanScene.bindings(""), events);
            TokenSignedBrowser.serveCatalogueConsole(xds, http, gate, PG.dataSource(), events, PlanChangeReplay.NONE);
            GoldPlanScene.Admin admin = new GoldPlanScene.Admin(issuer, http.port());
            GoldPlanScene.goldSubscriber(PG, admin);
            TokenSignedBrowser cora = new TokenSignedBrowser(http.port(), admin.token("cora"));

            HttpResponse<String> page = cora.get("/console/portal");

            String api = section(page.body(), "id=\"api-payments-dev-local\"");
            assertThat(api)
                    .contains("payments.dev.local.api.example.test")
                    .contains("<code>POST</code>")
                    .contains("<code>/payments/v1/charges</code>")
                    .contains("API key in the x-api-key header")
                    .contains("href=\"/console/portal/openapi/payments-dev-local\"");
            String example = section(api, "<pre class=\"example\"");
            assertThat(example)
                    .contains("curl --globoff -X POST 'https://payments.dev.local.api.example.test"
                            + "/payments/v1/charges'")
                    .contains("x-api-key: &lt;your API key&gt;")
                    .doesNotContain("x-tenant-id")
                    .doesNotContainPattern("mgk_[0-9a-f]{16}_");
            // the page keeps its policy: no script of its own, the example is text to select
            assertThat(page.body()).doesNotContain("<script>");

            HttpResponse<String> document = cora.get("/console/portal/openapi/payments-dev-local");
            assertThat(document.headers().firstValue("content-type")).hasValue("application/json");
            JsonNode doc = ConfigJson.mapper().readTree(document.body());
            assertThat(doc.path("paths").path("/payments/v1/charges").has("post"))
                    .isTrue();
            HttpResponse<String> sameOverTheApi =
                    admin.call("cora", "GET", "/v1/customer/product-publishes/payments-dev-local/openapi.json", null);
            assertThat(ConfigJson.mapper().readTree(sameOverTheApi.body())).isEqualTo(doc);

            assertThat(cora.open("/console/portal/openapi/no-such-publish").statusCode())
                    .isEqualTo(404);
        }
    }

    /** The text from {@code marker} to the end of its element's section (the next closing section or pre). */
    private static String section(String html, String marker) {
        int at = html.indexOf(marker);
        assertThat(at).as(marker).isNotNegative();
        int end = html.indexOf(marker.startsWith("<pre") ? "</pre>" : "</section>", at);
        return html.substring(at, end);
    }
}
