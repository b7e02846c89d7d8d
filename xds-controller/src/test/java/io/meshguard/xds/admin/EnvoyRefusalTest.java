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
import io.meshguard.xds.model.GatewayYaml;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Review 4's R4-05 configuration through the admin API (what {@code meshguard xds validate} posts, what {@code xds
 * apply} puts): values Envoy refuses when it loads them are a 422 with MG-ENVOY-001, the field path and the rule,
 * before anything is stored; a {@code %} in a header value is escaped and served; a {@code %} in a base path is
 * refused.
 */
@IntegrationTest
class EnvoyRefusalTest {
    private static final String TOKEN = "s3cret-token-for-envoy-refusal-tests";

    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @TempDir
    static Path tmp;

    static XdsController xds;
    static StatusHttpServer http;
    static String sample;

    @BeforeAll
    static void start() throws Exception {
        Path tokenFile = tmp.resolve("token");
        Files.writeString(tokenFile, "alice:" + TOKEN + "\n");
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        xds = XdsController.create(AdminApiTest.settings(Optional.of(tokenFile)), PG.dataSource(), registry, a -> {});
        http = new StatusHttpServer("xds-envoy-refusal", HttpServerSettings.onPort(0), registry);
        xds.mountAdminApi(http);
        xds.start();
        http.start();
        try (InputStream in = XdsController.class.getResourceAsStream("sample-gateway.yaml")) {
            sample = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @AfterAll
    static void stop() {
        http.close();
        xds.close();
    }

    /** The sample with R4-05's values Envoy refuses: negative back-off and per-try timeout, ejection 150 %. */
    static String crafted() {
        return replaced(
                sample,
                "backoff_base_ms: 25, backoff_max_ms: 250}",
                "backoff_base_ms: -5, backoff_max_ms: 250, per_try_timeout_ms: -1}",
                "outlier_detection: {consecutive_5xx: 5}",
                "outlier_detection: {consecutive_5xx: 5, max_ejection_percent: 150}");
    }

    /** The sample with a route header value {@code 10%}. */
    static String percentHeader() {
        return replaced(
                sample,
                "response_headers_to_add: [{name: cache-control, value: no-store}]",
                "response_headers_to_add: [{name: cache-control, value: no-store}, {name: x-discount, value: \"10%\"}]");
    }

    @Test
    void validate_valuesEnvoyRefusesAtLoad_areErrorsWithPathAndRule() throws Exception {
        HttpResponse<String> r = call("POST", "/validate", json(crafted()));
        assertThat(r.statusCode()).isEqualTo(200);
        List<JsonNode> envoy = new ArrayList<>();
        ConfigJson.mapper().readTree(r.body()).forEach(p -> {
            if (p.path("code").asText().equals("MG-ENVOY-001")) {
                envoy.add(p);
            }
        });
        assertThat(envoy)
                .allSatisfy(p -> assertThat(p.path("severity").asText()).isEqualToIgnoringCase("error"));
        assertThat(envoy).anySatisfy(p -> {
            assertThat(p.path("path").asText())
                    .startsWith("groups[local].rds[")
                    .endsWith(".route.retry_policy.retry_back_off.base_interval");
            assertThat(p.path("message").asText())
                    .contains("value must be greater than 0s")
                    .contains("duration { required: true gt { } }");
        });
        assertThat(envoy).anySatisfy(p -> {
            assertThat(p.path("path").asText()).endsWith(".route.retry_policy.per_try_timeout");
            assertThat(p.path("message").asText()).contains("Expected positive duration");
        });
        assertThat(envoy).anySatisfy(p -> {
            assertThat(p.path("path").asText())
                    .isEqualTo("groups[local].cds[payments-v1].outlier_detection" + ".max_ejection_percent");
            assertThat(p.path("message").asText())
                    .contains("value must be less than or equal to 100")
                    .contains("uint32 { lte: 100 }");
        });
    }

    @Test
    void putConfig_valuesEnvoyRefuses_422AndNothingStoredOrServed() throws Exception {
        HttpResponse<String> before = call("GET", "/config", null);
        HttpResponse<String> r = call("PUT", "/config", json(crafted()));
        assertThat(r.statusCode()).isEqualTo(422);
        assertThat(r.body()).contains("MG-ENVOY-001").contains("max_ejection_percent");
        assertThat(call("GET", "/config", null).body()).isEqualTo(before.body());
    }

    @Test
    void percentInAHeaderValue_isEscaped_validatesAndPublishes() throws Exception {
        HttpResponse<String> validated = call("POST", "/validate", json(percentHeader()));
        assertThat(validated.body()).doesNotContain("MG-ENVOY-001");
        assertThat(call("PUT", "/config", json(percentHeader())).statusCode()).isEqualTo(200);
        HttpResponse<String> published = call("POST", "/publish", "{\"reason\":\"a 10% discount header\"}");
        assertThat(published.statusCode()).as(published.body()).isEqualTo(200);
        String rendered = call("GET", "/render/local", null).body();
        assertThat(rendered).contains("\"value\":\"10%%\"").doesNotContain("\"value\":\"10%\"");
    }

    @Test
    void percentInABasePath_isRefused() throws Exception {
        String config = replaced(sample, "base_path: /payments", "base_path: /pay%41ments");
        HttpResponse<String> r = call("PUT", "/config", json(config));
        assertThat(r.statusCode()).isEqualTo(422);
        assertThat(r.body()).contains("MG-API-013").contains("apis[payments].base_path");
    }

    private static String replaced(String text, String... pairs) {
        String out = text;
        for (int i = 0; i < pairs.length; i += 2) {
            assertThat(out).as("the sample still holds " + pairs[i]).contains(pairs[i]);
            out = out.replace(pairs[i], pairs[i + 1]);
        }
        return out;
    }

    private static String json(String yaml) throws Exception {
        GatewayConfig config = GatewayYaml.read("crafted.yaml", yaml);
        return ConfigJson.write(config);
    }

    private static HttpResponse<String> call(String method, String path, String body) throws Exception {
        return AdminHttp.send(http.port(), TOKEN, method, path, body);
    }
}
