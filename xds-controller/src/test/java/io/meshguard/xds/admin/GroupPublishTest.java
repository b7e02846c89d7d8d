package io.meshguard.xds.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.meshguard.runtime.http.HttpServerSettings;
import io.meshguard.runtime.http.StatusHttpServer;
import io.meshguard.testing.AdminHttp;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.xds.XdsController;
import io.meshguard.xds.model.ConfigJson;
import io.meshguard.xds.model.GatewayConfig;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@code POST /groups/{name}/publish} and {@code /groups/{name}/rollback/{id}}, on a database of their own. */
@IntegrationTest
@TestMethodOrder(MethodOrderer.MethodName.class)
class GroupPublishTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @TempDir
    static Path tmp;

    static XdsController xds;
    static StatusHttpServer http;

    @BeforeAll
    static void start() throws Exception {
        Path tokenFile = tmp.resolve("token");
        Files.writeString(tokenFile, "alice:" + AdminApiTest.TOKEN + "\n");
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        xds = XdsController.create(AdminApiTest.settings(Optional.of(tokenFile)), PG.dataSource(), registry, c -> {});
        http = new StatusHttpServer("xds-group-publish", HttpServerSettings.onPort(0), registry);
        xds.mountAdminApi(http);
        xds.start();
        http.start();
    }

    @AfterAll
    static void stop() {
        http.close();
        xds.close();
    }

    static HttpResponse<String> call(String method, String path, String body) throws Exception {
        return AdminHttp.send(http.port(), AdminApiTest.TOKEN, method, path, body);
    }

    /** A gateway owner's publish and rollback: its own group alone, whatever else the draft holds. */
    @Test
    void groupPublish_servesThatGroupAlone_andGroupRollback_takesOnlyItsOwnRevisions() throws Exception {
        GatewayConfig sample = XdsController.sampleConfig();
        assertThat(call("PUT", "/config", ConfigJson.write(sample)).statusCode())
                .isEqualTo(200);
        String other = """
                {"name": "edge-two", "environment": "dev", "region": "two", "domain": "meshguard.test",
                 "listener_port": 8081}""";
        assertThat(call("PUT", "/groups/edge-two", other).statusCode())
                .as("group")
                .isBetween(200, 201);
        assertThat(call("POST", "/publish", "{\"reason\":\"both\"}").statusCode())
                .isEqualTo(200);
        long localBefore = xds.servedRevision("local").orElseThrow();
        long twoBefore = xds.servedRevision("edge-two").orElseThrow();

        // both drafts change; the owner of edge-two publishes edge-two only
        String canary = """
                {"name": "payments-v2-transfers", "group": "local", "api": "payments", "version": "v2",
                 "match": {"path_prefix": "/transfers"},
                 "destinations": [{"upstream": "payments-v2", "weight": 70}, {"upstream": "payments-v1", "weight": 30}]}""";
        assertThat(call("PUT", "/routes/local/payments-v2-transfers", canary).statusCode())
                .isEqualTo(200);
        assertThat(call("PUT", "/groups/edge-two", other.replace("8081", "8082"))
                        .statusCode())
                .isBetween(200, 201);
        assertThat(call("POST", "/groups/edge-two/publish", null).statusCode())
                .as("reason required")
                .isEqualTo(422);
        HttpResponse<String> mine = call("POST", "/groups/edge-two/publish", "{\"reason\":\"port 8082\"}");
        assertThat(mine.statusCode()).as(mine.body()).isEqualTo(200);
        assertThat(AdminApiTest.json(mine).path("revisions").findValuesAsText("group"))
                .containsExactly("edge-two");
        assertThat(xds.servedRevision("local"))
                .as("the other group keeps serving")
                .contains(localBefore);
        long twoAfter = xds.servedRevision("edge-two").orElseThrow();
        assertThat(twoAfter).isGreaterThan(twoBefore);
        assertThat(call("POST", "/groups/nope/publish", "{\"reason\":\"x\"}").statusCode())
                .isEqualTo(404);

        assertThat(call("POST", "/groups/edge-two/rollback/" + localBefore, "{\"reason\":\"x\"}")
                        .statusCode())
                .as("another group's revision")
                .isEqualTo(404);
        HttpResponse<String> back = call("POST", "/groups/edge-two/rollback/" + twoBefore, "{\"reason\":\"undo\"}");
        assertThat(back.statusCode()).as(back.body()).isEqualTo(200);
        assertThat(xds.servedRevision("edge-two"))
                .contains(AdminApiTest.json(back).path("id").asLong());
        assertThat(xds.servedRevision("local")).contains(localBefore);
    }

    /** Runs after the test above (method names in order): a group with revisions cannot leave a replaced draft. */
    @Test
    void render_ofAnEnvoyGatewayGroup_answersTheResourcesItsClusterApplies() throws Exception {
        assertThat(call("PUT", "/groups/review-eg", """
                        {"name": "review-eg", "environment": "dev", "region": "eu", "hostnames": ["review.bank.example"]}""").statusCode()).isEqualTo(200);
        assertThat(call("PUT", "/upstreams/review-svc", """
                        {"name": "review-svc", "protocol": "http1",
                         "endpoints": [{"address": "review.shop.svc.cluster.local", "port": 8080}]}""").statusCode()).isEqualTo(200);
        assertThat(call("PUT", "/apis/review", """
                        {"name": "review", "base_path": "/review", "default_version": "v1",
                         "versions": [{"version": "v1", "status": "active"}]}""").statusCode()).isEqualTo(200);
        HttpResponse<String> route = call("PUT", "/routes/review-eg/review-all", """
                {"name": "review-all", "group": "review-eg", "api": "review", "version": "v1",
                 "match": {"path_prefix": "/"}, "destinations": [{"upstream": "review-svc", "weight": 100}]}""");
        assertThat(route.statusCode()).as(route.body()).isEqualTo(200);
        HttpResponse<String> kind = call("PUT", "/groups/review-eg/template", "{\"kind\": \"envoy-gateway\"}");
        assertThat(kind.statusCode()).as(kind.body()).isEqualTo(200);
        HttpResponse<String> published =
                call("POST", "/groups/review-eg/publish", "{\"reason\":\"review the Envoy Gateway output\"}");
        assertThat(published.statusCode()).as(published.body()).isEqualTo(200);

        JsonNode rendered = AdminApiTest.json(call("GET", "/render/review-eg", null));
        assertThat(rendered.path("template_kind").asText()).isEqualTo("envoy-gateway");
        assertThat(rendered.path("revision").asLong())
                .isEqualTo(xds.servedRevision("review-eg").orElseThrow());
        assertThat(rendered.path("resources").findValuesAsText("kind")).contains("HTTPRoute", "SecurityPolicy");
        assertThat(rendered.has("listeners"))
                .as("no Envoy xDS for a group Envoy Gateway serves")
                .isFalse();
    }
}
