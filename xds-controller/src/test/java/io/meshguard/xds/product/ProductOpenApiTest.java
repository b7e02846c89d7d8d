package io.meshguard.xds.product;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.xds.admin.TenantAdminPlane;
import io.meshguard.xds.model.ConfigJson;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The OpenAPI document of what a product publish sells, read from the catalogue and the gateway group's live revision
 * on one controller and a real PostgreSQL. Two tenants sell a product each named "Payments"; globex also has a private
 * product; acme has a draft publish and a draft API version nobody published. A customer sees the operations served
 * now (base path, version, operation path) and the credential and limits of what it may see, and nothing else.
 */
@IntegrationTest
class ProductOpenApiTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    /** The publish journey's roles, and the second provider and the customer of a tenant that subscribes to none. */
    static final String BINDINGS = ProductPublishTest.BINDINGS + """
              - {match: globex-providers, role: provider, scope: "tenant:globex"}
              - {match: initech-customers, role: customer, scope: "tenant:initech"}
            """;

    static final Map<String, List<String>> GROUPS = Map.of(
            "root", List.of("platform"),
            "alice", List.of("acme-providers"),
            "gina", List.of("globex-providers"),
            "cora", List.of("acme-customers"),
            "ivan", List.of("initech-customers"));

    static final String V1_V2 = """
            [{"version": "v1", "status": "deprecated", "deprecated_at": "2026-01-01T00:00:00Z", "successor": "v2"},
             {"version": "v2", "status": "active"}""";

    static TenantAdminPlane plane;

    @BeforeAll
    static void start() throws Exception {
        plane = ProductPublishTest.withCatalogue(PG, BINDINGS, GROUPS);
        PG.dsl().execute("insert into tenant (id) values ('acme'), ('globex'), ('initech') on conflict do nothing");
        for (String group : List.of("dev", "prod")) {
            ok("root", "PUT", "/groups/" + group, """
                    {"name": "%s", "environment": "%s", "region": "eu", "listener_port": 8080}""".formatted(group, group));
        }
        // acme's API in two answering versions (v1 deprecated), globex's under another base path
        api("acme", "payments", "/payments", V1_V2 + "]");
        api("globex", "ledger", "/ledger", "[{\"version\": \"v1\", \"status\": \"active\"}]");
        for (String group : List.of("dev", "prod")) {
            for (String version : List.of("v1", "v2")) {
                route(group, "payments", version, "/charges");
            }
            route(group, "ledger", "v1", "/entries");
        }
        ok("root", "POST", "/publish", "{\"reason\": \"the tenants' APIs\"}");
        ok(
                "root",
                "PUT",
                "/v1/operator/clusters/local",
                "{\"region\": \"local\", \"gateway_groups\": {\"dev\": [\"acme\", \"globex\"], \"prod\": [\"acme\"]}}");

        product("alice", "payments", "Payments", "public", """
                [{"id": "create-charge", "api": "payments", "method": "post", "path": "/charges"},
                 {"id": "get-charge", "api": "payments", "method": "get", "path": "/charges/{id}"}]""");
        ok("alice", "POST", "/v1/provider/products/payments/plans", """
                {"name": "gold", "approval": "auto", "auth_modes": ["apikey"],
                 "limits": {"rates": [{"requests": 10, "per": "1m"}]},
                 "operation_limits": {"create-charge": {"rates": [{"requests": 2, "per": "1s"}]}}}""");
        ok("alice", "POST", "/v1/provider/plans/payments-gold/state", "{\"state\": \"published\"}");
        publish("alice", "payments", "dev", true);
        // a second environment, never published
        publish("alice", "payments", "prod", false);

        // globex sells its own "Payments" (the name collides, the id cannot) and keeps a private one
        product("gina", "globex-pay", "Payments", "public", """
                [{"id": "list-entries", "api": "ledger", "method": "get", "path": "/entries"}]""");
        publish("gina", "globex-pay", "dev", true);
        product("gina", "globex-internal", "Internal ledger", "private", """
                [{"id": "list-entries", "api": "ledger", "method": "get", "path": "/entries"}]""");
        publish("gina", "globex-internal", "dev", true);

        // a version only the draft has: added after the products were published, never published itself
        api("acme", "payments", "/payments", V1_V2 + ", {\"version\": \"v3\", \"status\": \"active\"}]");
        route("dev", "payments", "v3", "/charges");
    }

    @AfterAll
    static void stop() {
        plane.close();
    }

    static void api(String tenant, String name, String basePath, String versions) throws Exception {
        ok("root", "PUT", "/upstreams/" + name + "?tenant=" + tenant, """
                {"name": "%s", "protocol": "http1", "endpoints": [{"address": "10.1.0.7", "port": 8080}]}""".formatted(name));
        ok("root", "PUT", "/apis/" + name + "?tenant=" + tenant, """
                {"name": "%s", "base_path": "%s", "default_version": "v1", "versions": %s}""".formatted(name, basePath, versions));
    }

    static void route(String group, String api, String version, String prefix) throws Exception {
        String name = api + "-" + version;
        ok("root", "PUT", "/routes/" + group + "/" + name, """
                {"name": "%s", "group": "%s", "api": "%s", "version": "%s", "match": {"path_prefix": "%s"},
                 "destinations": [{"upstream": "%s", "weight": 100}], "authz_profile": "default",
                 "dlp_profile": "default"}""".formatted(name, group, api, version, prefix, api));
    }

    static void product(String provider, String id, String name, String visibility, String operations)
            throws Exception {
        ok(provider, "POST", "/v1/provider/products", """
                {"id": "%s", "name": "%s", "visibility": "%s", "operations": %s}""".formatted(id, name, visibility, operations));
        ok(provider, "POST", "/v1/provider/products/" + id + "/state", "{\"state\": \"published\"}");
    }

    static void publish(String provider, String product, String env, boolean serve) throws Exception {
        ok(provider, "POST", "/v1/provider/products/" + product + "/product-publishes", """
                {"cluster": "local", "environment": "%s", "auth_mode": "apikey", "gateway_group": "%s"}""".formatted(env, env));
        if (serve) {
            ok(
                    provider,
                    "POST",
                    "/v1/provider/product-publishes/" + product + "-" + env + "-local/state",
                    "{\"state\": \"published\", \"reason\": \"open for customers\"}");
        }
    }

    static HttpResponse<String> call(String who, String method, String path, String body) throws Exception {
        return plane.call(who, method, path, body);
    }

    static JsonNode ok(String who, String method, String path, String body) throws Exception {
        HttpResponse<String> r = call(who, method, path, body);
        assertThat(r.statusCode()).as(method + " " + path + ": " + r.body()).isBetween(200, 202);
        return ConfigJson.mapper().readTree(r.body());
    }

    static HttpResponse<String> document(String who, String publish) throws Exception {
        return call(who, "GET", "/v1/customer/product-publishes/" + publish + "/openapi.json", null);
    }

    static List<String> operations(JsonNode doc) {
        List<String> out = new ArrayList<>();
        doc.path("paths").properties().forEach(path -> path.getValue()
                .properties()
                .forEach(method -> out.add(method.getKey() + " " + path.getKey())));
        return out;
    }

    @Test
    void openApi_ofAPublishedPublish_listsServedOperationsAtBasePathVersionAndPath_withItsCredentialAndLimits()
            throws Exception {
        JsonNode doc = ConfigJson.mapper()
                .readTree(document("cora", "payments-dev-local").body());

        assertThat(doc.path("openapi").asText()).isEqualTo("3.1.0");
        assertThat(doc.path("servers").get(0).path("url").asText())
                .isEqualTo("https://payments.dev.local.api.example.test");
        assertThat(operations(doc))
                .containsExactlyInAnyOrder(
                        "post /payments/v1/charges",
                        "get /payments/v1/charges/{id}",
                        "post /payments/v2/charges",
                        "get /payments/v2/charges/{id}");
        JsonNode getCharge = doc.path("paths").path("/payments/v1/charges/{id}").path("get");
        assertThat(getCharge.path("parameters").findValuesAsText("name")).containsExactly("id");
        assertThat(getCharge.path("deprecated").asBoolean()).isTrue();
        assertThat(doc.path("paths")
                        .path("/payments/v2/charges/{id}")
                        .path("get")
                        .has("deprecated"))
                .isFalse();
        assertThat(doc.path("paths")
                        .path("/payments/v1/charges")
                        .path("post")
                        .path("deprecated")
                        .asBoolean())
                .isTrue();
        // the key names the tenant: no tenant header is asked for
        assertThat(doc.path("components")
                        .path("securitySchemes")
                        .path("apiKey")
                        .path("name")
                        .asText())
                .isEqualTo("x-api-key");
        assertThat(doc.toString()).doesNotContain("x-tenant-id");
        assertThat(doc.path("x-meshguard-limits").findValuesAsText("plan")).containsExactly("payments-gold");
        assertThat(doc.path("x-meshguard-limits")
                        .get(0)
                        .path("limits")
                        .path("rates")
                        .get(0)
                        .path("requests")
                        .asLong())
                .isEqualTo(10);
        JsonNode createLimits = doc.path("paths")
                .path("/payments/v1/charges")
                .path("post")
                .path("x-meshguard-limits")
                .get(0);
        assertThat(createLimits
                        .path("operation")
                        .path("rates")
                        .get(0)
                        .path("requests")
                        .asLong())
                .isEqualTo(2);
    }

    @Test
    void openApi_neverListsAVersionOnlyTheDraftHas() throws Exception {
        // the draft serves v3 for the API's own route; the live revision, and so the document, does not
        JsonNode draftApi = ok("root", "GET", "/apis/payments", null);
        assertThat(draftApi.toString()).contains("v3");

        JsonNode doc = ConfigJson.mapper()
                .readTree(document("cora", "payments-dev-local").body());

        assertThat(operations(doc)).noneMatch(op -> op.contains("/v3/"));
    }

    @Test
    void openApi_ofAnotherTenantsPublicProduct_isItsOwn_despiteTheCollidingName() throws Exception {
        JsonNode doc = ConfigJson.mapper()
                .readTree(document("ivan", "globex-pay-dev-local").body());

        assertThat(doc.path("info").path("title").asText()).isEqualTo("Payments");
        assertThat(operations(doc)).containsExactlyInAnyOrder("get /ledger/v1/entries");
        JsonNode acme = ConfigJson.mapper()
                .readTree(document("ivan", "payments-dev-local").body());
        assertThat(operations(acme)).allMatch(op -> op.contains(" /payments/"));
    }

    @Test
    void openApi_ofAnotherTenantsPrivateProduct_isNotFound_asIfItDidNotExist() throws Exception {
        HttpResponse<String> hidden = document("cora", "globex-internal-dev-local");
        HttpResponse<String> missing = document("cora", "no-such-publish");

        assertThat(hidden.statusCode()).isEqualTo(404);
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(hidden.body()).doesNotContain("ledger").doesNotContain("Internal");
    }

    @Test
    void openApi_ofADraftPublish_isNotFound_evenToItsOwnTenant() throws Exception {
        assertThat(document("cora", "payments-prod-local").statusCode()).isEqualTo(404);
    }

    @Test
    void openApi_withoutCatalogueRead_isForbidden() throws Exception {
        assertThat(document("gina", "payments-dev-local").statusCode()).isEqualTo(403);
    }
}
