package io.meshguard.xds.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.zaxxer.hikari.HikariDataSource;
import io.meshguard.runtime.http.HttpServerSettings;
import io.meshguard.runtime.http.StatusHttpServer;
import io.meshguard.testing.AdminHttp;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.xds.XdsController;
import io.meshguard.xds.XdsSettings;
import io.meshguard.xds.change.ConfigChangeAudit;
import io.meshguard.xds.model.ConfigJson;
import io.meshguard.xds.model.GatewayConfig;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The admin REST API over real HTTP against a real, migrated PostgreSQL. */
@IntegrationTest
class AdminApiTest {
    static final String TOKEN = "s3cret-token-for-tests-only";

    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @TempDir
    static Path tmp;

    static HikariDataSource ds;
    static XdsController xds;
    static StatusHttpServer http;
    static StatusHttpServer closedHttp;
    static final List<ConfigChangeAudit.ConfigChange> audited = new CopyOnWriteArrayList<>();
    static final HttpClient client = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        ds = PG.dataSource();
        Path tokenFile = tmp.resolve("token");
        Files.writeString(tokenFile, "# operators\nalice:" + TOKEN + "\n");
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        xds = XdsController.create(settings(Optional.of(tokenFile)), ds, registry, audited::add);
        http = new StatusHttpServer("xds-test", HttpServerSettings.onPort(0), registry);
        xds.mountAdminApi(http);
        xds.start();
        http.start();
        XdsController closed = XdsController.create(settings(Optional.empty()), ds, registry, audited::add);
        closedHttp = new StatusHttpServer("xds-closed", HttpServerSettings.onPort(0), registry);
        closed.mountAdminApi(closedHttp);
        closedHttp.start();
    }

    static XdsSettings settings(Optional<Path> token) {
        return XdsSettings.onLoopback("test", token);
    }

    @AfterAll
    static void stop() {
        closedHttp.close();
        http.close();
        xds.close();
    }

    static HttpResponse<String> call(String method, String path, String body, String token) throws Exception {
        return AdminHttp.send(http.port(), token, method, path, body);
    }

    static HttpResponse<String> call(String method, String path, String body) throws Exception {
        return call(method, path, body, TOKEN);
    }

    static JsonNode json(HttpResponse<String> r) throws Exception {
        return ConfigJson.mapper().readTree(r.body());
    }

    @Test
    void openApi_servedDocumentIsTheRepositoryCopyWithTheTables_andListsExactlyTheApisOperations() throws Exception {
        HttpResponse<String> served = call("GET", "/openapi.json", null, null);
        assertThat(served.statusCode()).isEqualTo(200);
        assertThat(served.body()).isEqualTo(new String(AdminPortDocument.controller(), StandardCharsets.UTF_8));
        // the hand-written file's schemas are kept: every operation it describes is served as it describes it
        JsonNode file = ConfigJson.mapper().readTree(Files.readString(Path.of("src/main/resources/openapi.json")));
        JsonNode doc = json(served);
        assertThat(doc.path("components")).isEqualTo(file.path("components"));
        file.path("paths").fields().forEachRemaining(p -> p.getValue().fields().forEachRemaining(m -> {
            for (String kept : List.of("requestBody", "responses", "parameters")) {
                if (!m.getValue().has(kept)) {
                    continue;
                }
                assertThat(doc.path("paths").path(p.getKey()).path(m.getKey()).path(kept))
                        .as("%s %s %s", m.getKey(), p.getKey(), kept)
                        .isEqualTo(m.getValue().path(kept));
            }
        }));

        Set<String> documented = new HashSet<>();
        json(served).path("paths").fields().forEachRemaining(p -> p.getValue()
                .fieldNames()
                .forEachRemaining(m -> documented.add(m.toUpperCase(java.util.Locale.ROOT) + " " + p.getKey())));
        Set<String> implemented = new HashSet<>();
        AdminApi.ENDPOINTS.forEach(e -> implemented.add(e.method() + " " + e.path()));
        assertThat(documented).isEqualTo(implemented);
    }

    @Test
    void withoutAValidToken_everyOperationIsRefused() throws Exception {
        HttpResponse<String> anonymous = call("GET", "/config", null, null);
        assertThat(anonymous.statusCode()).isEqualTo(401);
        assertThat(anonymous.body())
                .as("the 401 says which form works")
                .contains("Authorization: Bearer TOKEN")
                .contains("name:token");
        assertThat(call("GET", "/fleet", null, "wrong-token-of-enough-length").statusCode())
                .isEqualTo(401);
        assertThat(call("POST", "/publish", "{\"reason\":\"x\"}", null).statusCode())
                .isEqualTo(401);
        HttpResponse<String> closed = client.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + closedHttp.port() + "/config"))
                        .header("Authorization", "Bearer " + TOKEN)
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(closed.statusCode()).isEqualTo(503);
        assertThat(closed.body()).contains("xds.admin.token_file");
    }

    @Test
    void token_bareOrTheWholeNameTokenLine_areAccepted_butNotWithAnotherName() throws Exception {
        assertThat(call("GET", "/fleet", null, TOKEN).statusCode()).isEqualTo(200);
        assertThat(call("GET", "/fleet", null, "alice:" + TOKEN).statusCode())
                .as("Bearer $(cat file)")
                .isEqualTo(200);
        assertThat(call("GET", "/fleet", null, "mallory:" + TOKEN).statusCode()).isEqualTo(401);
        assertThat(call("GET", "/fleet", null, "alice:" + TOKEN + "x").statusCode())
                .isEqualTo(401);
    }

    @Test
    void crud_publish_render_diff_rollback_fleet() throws Exception {
        GatewayConfig sample = XdsController.sampleConfig();
        assertThat(call("PUT", "/config", ConfigJson.write(sample)).statusCode())
                .isEqualTo(200);

        // a canary split that does not add up is refused and changes nothing
        String badRoute = """
                {"name": "payments-v2-transfers", "group": "local", "api": "payments", "version": "v2",
                 "match": {"path_prefix": "/transfers"},
                 "destinations": [{"upstream": "payments-v2", "weight": 80}, {"upstream": "payments-v1", "weight": 10}]}""";
        HttpResponse<String> refused = call("PUT", "/routes/local/payments-v2-transfers", badRoute);
        assertThat(refused.statusCode()).isEqualTo(422);
        assertThat(refused.body()).contains("weights must sum to 100, got 90");
        // still the sample's 90/10 canary
        assertThat(json(call("GET", "/routes/local/payments-v2-transfers", null))
                        .path("destinations")
                        .size())
                .isEqualTo(2);

        HttpResponse<String> first = call("POST", "/publish", "{\"reason\":\"initial\"}");
        assertThat(first.statusCode()).isEqualTo(200);
        long rev1 = json(first).path("revisions").get(0).path("id").asLong();

        String canary = badRoute.replace("\"weight\": 10", "\"weight\": 20");
        assertThat(call("PUT", "/routes/local/payments-v2-transfers", canary).statusCode())
                .isEqualTo(200);
        HttpResponse<String> second = call("POST", "/publish", "{\"reason\":\"canary 20%\"}");
        long rev2 = json(second).path("revisions").get(0).path("id").asLong();
        assertThat(rev2).isGreaterThan(rev1);
        assertThat(xds.servedRevision("local")).contains(rev2);

        JsonNode diff = json(call("GET", "/revisions/" + rev1 + "/diff/" + rev2, null));
        assertThat(diff.path("changes").toString()).contains("routes[local/payments-v2-transfers].destinations");

        JsonNode rendered = json(call("GET", "/render/local?revision=" + rev2, null));
        assertThat(rendered.path("revision").asLong()).isEqualTo(rev2);
        assertThat(rendered.path("routes").toString()).contains("\"weight\":20").contains("successor-version");

        HttpResponse<String> noReason = call("POST", "/rollback/" + rev1, null);
        assertThat(noReason.statusCode()).isEqualTo(422);
        assertThat(noReason.body()).contains("a reason is required");
        HttpResponse<String> rollback = call("POST", "/rollback/" + rev1, "{\"reason\":\"canary errors\"}");
        assertThat(rollback.statusCode()).isEqualTo(200);
        long rev3 = json(rollback).path("id").asLong();
        assertThat(json(rollback).path("draft_differs").asBoolean()).isTrue();
        assertThat(json(rollback).path("warnings").toString()).contains("the next publish serves the draft again");
        assertThat(xds.servedRevision("local")).contains(rev3);
        assertThat(json(call("GET", "/revisions/" + rev3, null)).path("reason").asText())
                .isEqualTo("rollback to revision " + rev1 + ": canary errors");
        assertThat(audited).anySatisfy(a -> assertThat(a.action() + " " + a.detail())
                .startsWith("rollback")
                .endsWith(": canary errors"));
        // rolling back to what the draft holds is no surprise: no warning
        JsonNode toDraft = json(call("POST", "/rollback/" + rev2, "{\"reason\":\"back to the canary\"}"));
        assertThat(toDraft.path("draft_differs").asBoolean()).isFalse();
        assertThat(toDraft.path("warnings").size()).isZero();
        assertThat(call("POST", "/rollback/" + rev1, "{\"reason\":\"again\"}").statusCode())
                .isEqualTo(200);
        // what is served already: no identical revision, whichever earlier revision names that content
        long before = json(call("GET", "/revisions?group=local", null)).size();
        for (long same : List.of(rev1, rev3)) {
            HttpResponse<String> served = call("POST", "/rollback/" + same, "{\"reason\":\"once more\"}");
            assertThat(served.statusCode()).isEqualTo(409);
            assertThat(served.body()).contains("MG-PUBLISH-006", "already serves the content of revision " + same);
        }
        assertThat(json(call("GET", "/revisions?group=local", null)).size()).isEqualTo(before);
        assertThat(json(call("GET", "/render/local", null)).path("routes").toString())
                .doesNotContain("\"weight\":20");
        assertThat(call("POST", "/rollback/999999", "{\"reason\":\"x\"}").statusCode())
                .isEqualTo(404);

        assertThat(call("GET", "/fleet", null).statusCode()).isEqualTo(200);
        assertThat(json(call("GET", "/revisions?group=local", null)).size()).isGreaterThanOrEqualTo(3);
        assertThat(audited)
                .extracting(ConfigChangeAudit.ConfigChange::action)
                .contains("apply", "upsert", "publish", "rollback");
        assertThat(audited).allSatisfy(a -> assertThat(a.actor()).isEqualTo("alice"));
    }

    @Test
    void badInput_getsAClearErrorAndLosesNothing() throws Exception {
        HttpResponse<String> badJson = call("PUT", "/groups/x", "{\"name\": \"x\", \"listener_prot\": 1}");
        assertThat(badJson.statusCode()).isEqualTo(400);
        assertThat(badJson.body()).contains("listener_prot");
        HttpResponse<String> mismatch = call("PUT", "/groups/x", "{\"name\": \"y\"}");
        assertThat(mismatch.statusCode()).isEqualTo(422);
        HttpResponse<String> regex = call("POST", "/validate", """
                {"groups": [{"name": "g"}], "upstreams": [{"name": "u", "endpoints": [{"address": "a", "port": 1}]}],
                 "apis": [{"name": "a", "default_version": "v1", "versions": [{"version": "v1"}]}],
                 "routes": [{"name": "r", "group": "g", "api": "a", "version": "v1", "match": {"path_regex": "(a"},
                             "destinations": [{"upstream": "u", "weight": 100}]}]}""");
        assertThat(regex.statusCode()).isEqualTo(200);
        assertThat(regex.body()).contains("not a valid RE2 regex");
        // the problem's stable code travels with it, as the console and `meshguard xds validate` show it
        assertThat(regex.body()).containsPattern("\"code\"\\s*:\\s*\"MG-ROUTE-010\"");
        assertThat(call("POST", "/publish", "{}").statusCode()).isEqualTo(422);
        assertThat(call("GET", "/nothing-here", null).statusCode()).isEqualTo(404);
    }

    /** Every change of the admin API is also a row of the hash-chained admin trail, and the chain verifies. */
    @Test
    void changes_areAppendedToTheAdminTrail_whichVerifies() throws Exception {
        assertThat(call(
                                "PUT",
                                "/groups/trail-test",
                                "{\"name\": \"trail-test\", \"environment\": \"dev\", " + "\"region\": \"eu\"}")
                        .statusCode())
                .isEqualTo(200);
        io.meshguard.audit.trail.AdminTrailVerifier.Report r =
                new io.meshguard.audit.trail.AdminTrailVerifier(ds).verify(Optional.empty());
        assertThat(r.intact()).as("%s", r.firstBad()).isTrue();
        assertThat(PG.dsl()
                        .fetchCount(PG.dsl()
                                .selectFrom("admin_trail")
                                .where("actor = 'alice' and target = 'groups/trail-test'")))
                .isEqualTo(1);
        assertThat(call("DELETE", "/groups/trail-test", null).statusCode()).isEqualTo(200);
    }
}
