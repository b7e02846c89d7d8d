package io.meshguard.xds.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.meshguard.runtime.http.HttpServerSettings;
import io.meshguard.runtime.http.StatusHttpServer;
import io.meshguard.runtime.lifecycle.ReadinessCheck;
import io.meshguard.testing.AdminHttp;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.xds.XdsController;
import io.meshguard.xds.XdsSettings;
import io.meshguard.xds.model.ConfigJson;
import io.meshguard.xds.policy.PolicyFileSet;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Route profiles checked against the policy files the servers load, through the admin API over real HTTP, with a real
 * PostgreSQL and real files on disk that change under the controller.
 */
@IntegrationTest
class RouteProfilesTest {
    private static final String TOKEN = "route-profiles-token-for-tests";

    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @TempDir
    Path tmp;

    Path policies;
    XdsController xds;
    StatusHttpServer http;
    final PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

    static String authz(String... rules) {
        StringBuilder sb = new StringBuilder("routes:\n");
        for (String r : rules) {
            sb.append("  - name: ")
                    .append(r)
                    .append("\n    match: {path_prefix: /")
                    .append(r)
                    .append(", methods: [GET]}\n    auth: none\n");
        }
        return sb.toString();
    }

    static String dlp(String... profiles) {
        StringBuilder sb = new StringBuilder("version: 1\nprofiles:\n");
        for (String p : profiles) {
            sb.append("  - name: ").append(p).append("\n    request:\n      detectors: {card: mask}\n");
        }
        return sb.toString();
    }

    static String config(String authzProfile, String dlpProfile) {
        return """
                {"groups": [{"name": "edge", "environment": "prod", "region": "eu", "domain": "bank.example",
                             "listener_port": 8443}],
                 "upstreams": [{"name": "orders", "endpoints": [{"address": "10.0.0.1", "port": 8080}]}],
                 "apis": [{"name": "orders", "base_path": "/orders", "default_version": "v1",
                           "versions": [{"version": "v1", "status": "active"},
                                        {"version": "v0", "status": "sunset", "sunset_at": "2025-01-01T00:00:00Z",
                                         "successor": "v1"}]}],
                 "routes": [{"name": "list", "group": "edge", "api": "orders", "version": "v1",
                             "match": {"path_prefix": "/list", "methods": ["GET"]},
                             "destinations": [{"upstream": "orders", "weight": 100}],
                             "authz_profile": "%s", "dlp_profile": "%s"},
                            {"name": "old", "group": "edge", "api": "orders", "version": "v0",
                             "match": {"path_prefix": "/list"},
                             "destinations": [{"upstream": "orders", "weight": 100}],
                             "authz_profile": "long-gone", "dlp_profile": "long-gone"}]}
                """.formatted(authzProfile, dlpProfile);
    }

    @BeforeEach
    void start() throws Exception {
        policies = Files.createDirectories(tmp.resolve("policies"));
        Files.writeString(policies.resolve("authz.yaml"), authz("orders-read", "orders-write"));
        Files.writeString(policies.resolve("dlp.yaml"), dlp("orders", "default"));
        Path tokenFile = Files.writeString(tmp.resolve("token"), "ops:" + TOKEN + "\n");
        // one database for the class: a test may find the revision an earlier one published (served at start)
        xds = XdsController.create(
                XdsSettings.onLoopback("test", Optional.of(tokenFile)),
                PG.dataSource(),
                meters,
                change -> {},
                Optional.of(PolicyFileSet.in(policies)));
        http = new StatusHttpServer("xds-profiles-test", HttpServerSettings.onPort(0), meters);
        xds.mountAdminApi(http);
        xds.start();
        http.start();
    }

    @AfterEach
    void stop() {
        http.close();
        xds.close();
    }

    HttpResponse<String> call(String method, String path, String body) throws Exception {
        return AdminHttp.send(http.port(), TOKEN, method, path, body);
    }

    static List<String> messages(HttpResponse<String> r) throws Exception {
        JsonNode root = ConfigJson.mapper().readTree(r.body());
        JsonNode problems = root.has("problems") ? root.get("problems") : root;
        List<String> out = new ArrayList<>();
        problems.forEach(p -> out.add(p.path("severity").asText() + " "
                + p.path("path").asText() + ": " + p.path("message").asText()));
        return out;
    }

    ReadinessCheck.Result readiness(String name) {
        return xds.readinessChecks().stream()
                .filter(c -> c.name().equals(name))
                .findFirst()
                .orElseThrow()
                .check();
    }

    double missingGauge() {
        return meters.get("meshguard_xds_served_route_profiles_missing").gauge().value();
    }

    @Test
    void validate_namesTheRouteAndEachMissingProfile_andSkipsRoutesOfClosedVersions() throws Exception {
        HttpResponse<String> r = call("POST", "/validate", config("orders-admin", "pci"));
        List<String> problems = messages(r);
        assertThat(problems).anySatisfy(p -> assertThat(p)
                .startsWith("error routes[edge/list].authz_profile")
                .contains("'orders-admin'")
                .contains("authz.yaml")
                .contains("orders-read"));
        assertThat(problems).anySatisfy(p -> assertThat(p)
                .startsWith("error routes[edge/list].dlp_profile")
                .contains("'pci'")
                .contains("dlp.yaml"));
        assertThat(problems).noneMatch(p -> p.contains("long-gone"));
        assertThat(messages(call("POST", "/validate", config("orders-read", "orders"))))
                .noneMatch(p -> p.startsWith("error"));
    }

    @Test
    void applyAndPublish_refuseAnUnknownProfile_acceptAKnownOne() throws Exception {
        HttpResponse<String> refused = call("PUT", "/config", config("orders-read", "pci"));
        assertThat(refused.statusCode()).isEqualTo(422);
        assertThat(refused.body()).contains("routes[edge/list].dlp_profile").contains("pci");
        assertThat(call("PUT", "/config", config("orders-read", "orders")).statusCode())
                .isEqualTo(200);
        HttpResponse<String> published = call("POST", "/publish", "{\"reason\":\"profiles known\"}");
        assertThat(published.statusCode()).isEqualTo(200);
        assertThat(xds.servedRevision("edge")).isPresent();
        assertThat(readiness("xds:route-profiles").detail()).contains("served routes name only profiles defined");
    }

    @Test
    void methodOutsideTheNamedRule_isAWarning_notARefusal() throws Exception {
        String postRoute = config("orders-read", "orders").replace("\"methods\": [\"GET\"]", "\"methods\": [\"POST\"]");
        HttpResponse<String> r = call("PUT", "/config", postRoute);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).contains("method POST").contains("outside_profile");
    }

    @Test
    void policyEdit_removingAProfileAServedRouteUses_isReportedUntilRestored() throws Exception {
        assertThat(call("PUT", "/config", config("orders-write", "orders")).statusCode())
                .isEqualTo(200);
        assertThat(call("POST", "/publish", "{\"reason\":\"v1\"}").statusCode()).isEqualTo(200);
        assertThat(missingGauge()).isZero();

        Files.writeString(policies.resolve("authz.yaml"), authz("orders-read"));
        await().atMost(Duration.ofSeconds(30))
                .untilAsserted(() -> assertThat(missingGauge()).isEqualTo(1));
        ReadinessCheck.Result r = readiness("xds:route-profiles");
        assertThat(r.ready()).as("cannot un-publish; keeps serving").isTrue();
        assertThat(r.detail())
                .contains("MISSING PROFILES")
                .contains("routes[edge/list].authz_profile")
                .contains("orders-write");
        // the next publish of the same draft is refused: the policies no longer define the profile
        HttpResponse<String> again = call("POST", "/publish", "{\"reason\":\"again\"}");
        assertThat(again.statusCode()).isEqualTo(422);
        assertThat(again.body()).contains("orders-write");

        Files.writeString(policies.resolve("authz.yaml"), authz("orders-read", "orders-write"));
        await().atMost(Duration.ofSeconds(30))
                .untilAsserted(() -> assertThat(missingGauge()).isZero());
    }

    @Test
    void invalidPolicyEdit_keepsTheLoadedNames() throws Exception {
        Files.writeString(policies.resolve("dlp.yaml"), "profiles: [this is not a profile");
        xds.profiles().orElseThrow().recheck();
        assertThat(call("PUT", "/config", config("orders-read", "orders")).statusCode())
                .isEqualTo(200);
    }
}
