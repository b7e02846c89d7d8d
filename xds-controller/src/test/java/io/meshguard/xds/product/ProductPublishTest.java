package io.meshguard.xds.product;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.meshguard.access.LoggedAdminEvents;
import io.meshguard.catalog.CatalogStore;
import io.meshguard.catalog.api.CatalogApi;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.xds.admin.TenantAdminPlane;
import io.meshguard.xds.model.ConfigJson;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A product publish is a revision of its gateway group, over the real admin and catalogue APIs on one controller and a
 * real PostgreSQL: the operations become routes on the publish host only, carrying the product publish to extauthz;
 * a protected group turns the publish into a request; a draft publish keeps the products; a draft that loses the route
 * an operation needs cannot publish; withdrawing removes the routes; unpublished draft edits never ride along.
 */
@IntegrationTest
class ProductPublishTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    static final String BINDINGS = """
            claims: [groups]
            roles:
              system-admin:
                permissions: [config:read, group:read, group:update, group:protect, upstream:read, upstream:update,
                              api:read, api:update, route:read, route:update, revision:read, revision:publish,
                              revision:rollback, revision:approve, render:read, cluster:read, cluster:update]
              provider:
                permissions: [product:read, product:create, product:update, product:lifecycle, plan:read,
                              plan:create, plan:lifecycle, publish:read, publish:create, publish:lifecycle]
              gateway-owner:
                permissions: [group:read, revision:read, revision:approve, render:read]
              customer:
                permissions: [catalog:read, application:read, application:create, subscription:read,
                              subscription:create]
            bindings:
              - {match: acme-customers, role: customer, scope: "tenant:acme"}
              - {match: platform, role: system-admin, scope: system}
              - {match: acme-providers, role: provider, scope: "tenant:acme"}
              - {match: prod-owners, role: gateway-owner, scope: "gateway:prod"}
            """;
    static final Map<String, List<String>> GROUPS = Map.of(
            "root",
            List.of("platform"),
            "alice",
            List.of("acme-providers"),
            "bob",
            List.of("prod-owners"),
            "cora",
            List.of("acme-customers"));

    static TenantAdminPlane plane;

    @BeforeAll
    static void start() throws Exception {
        plane = withCatalogue(PG, BINDINGS, GROUPS);
        PG.dsl().execute("insert into tenant (id) values ('acme') on conflict do nothing");

        for (String group : List.of("dev", "prod")) {
            ok(call("root", "PUT", "/groups/" + group, """
                    {"name": "%s", "environment": "%s", "region": "eu", "listener_port": 8080}""".formatted(group, group)));
        }
        ok(call("root", "PUT", "/upstreams/payments?tenant=acme", """
                {"name": "payments", "protocol": "http1", "endpoints": [{"address": "10.1.0.7", "port": 8080}]}"""));
        ok(call("root", "PUT", "/apis/payments?tenant=acme", """
                {"name": "payments", "base_path": "/payments", "default_version": "v1",
                 "versions": [{"version": "v1", "status": "active"}]}"""));
        for (String group : List.of("dev", "prod")) {
            route(group, "charges", "/charges", "payments-charges");
        }
        ok(call("root", "POST", "/publish", "{\"reason\": \"the payments API\"}"));
        ok(call("root", "PUT", "/groups/prod/protection", "{\"reason\": \"production\"}"));

        ok(call(
                "root",
                "PUT",
                "/v1/operator/clusters/local",
                "{\"region\": \"local\", \"gateway_groups\": {\"dev\": [\"acme\"], \"prod\": [\"acme\"]}}"));
        ok(call("alice", "POST", "/v1/provider/products", """
                {"id": "payments", "name": "Payments", "visibility": "public",
                 "operations": [{"id": "create-charge", "api": "payments", "method": "post", "path": "/charges"},
                                {"id": "get-charge", "api": "payments", "method": "get", "path": "/charges/{id}"}]}"""));
        ok(call("alice", "POST", "/v1/provider/products/payments/state", "{\"state\": \"published\"}"));
        for (String env : List.of("dev", "prod")) {
            ok(call("alice", "POST", "/v1/provider/products/payments/product-publishes", """
                    {"cluster": "local", "environment": "%s", "auth_mode": "apikey", "gateway_group": "%s"}""".formatted(env, env)));
        }
    }

    /** The tenant admin plane with the catalogue API mounted beside it, publishes served by its controller. */
    static TenantAdminPlane withCatalogue(PostgresExtension pg, String bindings, Map<String, List<String>> groups)
            throws Exception {
        return TenantAdminPlane.start(
                pg.dataSource(),
                bindings,
                groups,
                (http, p) -> http.addHandler(
                        CatalogApi.PREFIX,
                        new CatalogApi(
                                new CatalogStore(pg.dataSource()),
                                p.gate(),
                                new LoggedAdminEvents(),
                                Clock.systemUTC(),
                                "example.test",
                                p.xds().productServing())));
    }

    @AfterAll
    static void stop() {
        plane.close();
    }

    static void route(String group, String name, String prefix, String profile) throws Exception {
        ok(call("root", "PUT", "/routes/" + group + "/" + name, """
                {"name": "%s", "group": "%s", "api": "payments", "version": "v1", "match": {"path_prefix": "%s"},
                 "destinations": [{"upstream": "payments", "weight": 100}], "authz_profile": "%s",
                 "dlp_profile": "default"}""".formatted(name, group, prefix, profile)));
    }

    static HttpResponse<String> call(String who, String method, String path, String body) throws Exception {
        return plane.call(who, method, path, body);
    }

    static JsonNode ok(HttpResponse<String> r) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isBetween(200, 202);
        return ConfigJson.mapper().readTree(r.body());
    }

    /** Moves the publish unless it stands there already (the tests share one catalogue). */
    static JsonNode move(String publish, String state) throws Exception {
        JsonNode now = ok(call("alice", "GET", "/v1/provider/products/payments/product-publishes", null));
        for (JsonNode p : now.findParents("host")) {
            if (p.path("id").asText().equals(publish)
                    && p.path("state").asText().equals(state)) {
                return p;
            }
        }
        return ok(call(
                "alice",
                "POST",
                "/v1/provider/product-publishes/" + publish + "/state",
                "{\"state\": \"" + state + "\", \"reason\": \"" + state + " for the pilot\"}"));
    }

    /** The Envoy route configuration the group serves now, as JSON. */
    static JsonNode virtualHost(String group, String host) throws Exception {
        JsonNode rendered = ok(call("root", "GET", "/render/" + group, null));
        for (JsonNode virtualHosts : rendered.findValues("virtualHosts")) {
            for (JsonNode vh : virtualHosts) {
                if (vh.path("domains").toString().contains("\"" + host + "\"")) {
                    return vh;
                }
            }
        }
        return ConfigJson.mapper().missingNode();
    }

    static List<String> publishesIn(JsonNode virtualHost) {
        List<String> out = new ArrayList<>();
        virtualHost.findValues("contextExtensions").forEach(ce -> {
            if (ce.has("meshguard.product_publish")) {
                out.add(ce.path("meshguard.product_publish").asText() + "/"
                        + ce.path("meshguard.product_operation").asText());
            }
        });
        return out;
    }

    @Test
    void publish_compilesOperationsIntoARevision_onThePublishHostOnly_withTheApisProfile() throws Exception {
        long before = plane.xds().servedRevision("dev").orElseThrow();
        JsonNode moved = move("payments-dev-local", "published");

        long revision = moved.path("gateway").path("revision").asLong();
        assertThat(revision)
                .isGreaterThan(before)
                .isEqualTo(plane.xds().servedRevision("dev").orElseThrow());
        JsonNode rev = ok(call("root", "GET", "/revisions/" + revision, null));
        assertThat(rev.path("reason").asText()).contains("payments-dev-local").contains("for the pilot");
        assertThat(rev.path("actor").asText()).contains("alice");

        JsonNode product = virtualHost("dev", "payments.dev.local.api.example.test");
        assertThat(publishesIn(product))
                .as("versioned and default-version paths")
                .hasSize(4)
                .containsOnly("payments-dev-local/create-charge", "payments-dev-local/get-charge");
        // the security team's profile of the API route still decides, and only the operation's method and path
        assertThat(product.findValues("meshguard.authz_profile"))
                .extracting(JsonNode::asText)
                .containsOnly("payments-charges");
        assertThat(product.toString())
                .contains("/payments/v1/charges")
                .contains("POST")
                .contains("GET");
        // the API's own host serves no product route: without the extension extauthz would not ask for a subscription
        assertThat(publishesIn(virtualHost("dev", "payments.dev.eu.local"))).isEmpty();
        assertThat(virtualHost("dev", "payments.dev.eu.local").isMissingNode()).isFalse();
    }

    @Test
    void protectedGroup_turnsTheProductPublishIntoARequest_thatAnotherPersonApproves() throws Exception {
        long before = plane.xds().servedRevision("prod").orElseThrow();
        JsonNode moved = move("payments-prod-local", "published");

        long request = moved.path("gateway").path("publish_request").asLong();
        assertThat(request).isPositive();
        assertThat(plane.xds().servedRevision("prod")).contains(before);
        assertThat(call("alice", "POST", "/publish-requests/prod/" + request + "/approve", "{\"reason\": \"mine\"}")
                        .statusCode())
                .isEqualTo(403);

        JsonNode approved = ok(call(
                "bob",
                "POST",
                "/publish-requests/prod/" + request + "/approve",
                "{\"reason\": \"reviewed the product's routes\"}"));
        assertThat(approved.toString()).contains("reviewed the product's routes");
        assertThat(publishesIn(virtualHost("prod", "payments.prod.local.api.example.test")))
                .contains("payments-prod-local/create-charge");
    }

    @Test
    void draftPublish_keepsTheProducts_andADraftThatDropsAnOperationsRoute_cannotPublish() throws Exception {
        move("payments-dev-local", "published");
        ok(call("root", "POST", "/publish", "{\"reason\": \"nothing changed in the draft\"}"));
        assertThat(publishesIn(virtualHost("dev", "payments.dev.local.api.example.test")))
                .hasSize(4);

        // the routes serving the operations (in any group: the API is the tenant's, not a gateway's) now match
        // elsewhere: the product would lose them
        route("dev", "charges", "/refunds", "payments-charges");
        route("prod", "charges", "/refunds", "payments-charges");
        HttpResponse<String> refused = call("root", "POST", "/publish", "{\"reason\": \"move charges\"}");
        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(422);
        assertThat(refused.body())
                .contains("payments-dev-local")
                .contains("create-charge")
                .contains("no route");
        assertThat(publishesIn(virtualHost("dev", "payments.dev.local.api.example.test")))
                .hasSize(4);

        // nor does a product publish carry that unpublished edit along
        HttpResponse<String> withdraw = call(
                "alice",
                "POST",
                "/v1/provider/product-publishes/payments-dev-local/state",
                "{\"state\": \"withdrawn\", \"reason\": \"pilot over\"}");
        assertThat(withdraw.statusCode()).as(withdraw.body()).isEqualTo(409);
        assertThat(withdraw.body()).contains("draft changes");
        route("dev", "charges", "/charges", "payments-charges");
        route("prod", "charges", "/charges", "payments-charges");
    }

    @Test
    void productPublish_onAGroupNoLongerProtected_voidsItsPendingRequest() throws Exception {
        for (String product : List.of("statements", "ledger")) {
            ok(call("alice", "POST", "/v1/provider/products", """
                    {"id": "%s", "name": "%s", "visibility": "public",
                     "operations": [{"id": "list-charges", "api": "payments", "method": "get", "path": "/charges"}]}""".formatted(product, product)));
            ok(call("alice", "POST", "/v1/provider/products/" + product + "/state", "{\"state\": \"published\"}"));
            ok(call("alice", "POST", "/v1/provider/products/" + product + "/product-publishes", """
                    {"cluster": "local", "environment": "prod", "auth_mode": "apikey", "gateway_group": "prod"}"""));
        }
        long request = move("statements-prod-local", "published")
                .path("gateway")
                .path("publish_request")
                .asLong();
        assertThat(request).isPositive();
        ok(call("root", "DELETE", "/groups/prod/protection", "{\"reason\": \"migration weekend\"}"));
        try {
            JsonNode served = move("ledger-prod-local", "published");
            assertThat(served.path("gateway").path("revision").asLong()).isPositive();

            JsonNode voided = ok(call("bob", "GET", "/publish-requests/prod/" + request, null));
            assertThat(voided.path("state").asText()).isEqualTo("voided");
            assertThat(voided.path("decision_reason").asText()).contains("made without this request's approval");
        } finally {
            ok(call("root", "PUT", "/groups/prod/protection", "{\"reason\": \"production\"}"));
        }
    }

    @Test
    void withdraw_removesTheRoutes_inTheNextRevision() throws Exception {
        move("payments-dev-local", "published");
        JsonNode withdrawn = move("payments-dev-local", "withdrawn");

        assertThat(withdrawn.path("state").asText()).isEqualTo("withdrawn");
        assertThat(withdrawn.path("gateway").path("revision").asLong())
                .isEqualTo(plane.xds().servedRevision("dev").orElseThrow());
        assertThat(virtualHost("dev", "payments.dev.local.api.example.test").isMissingNode())
                .isTrue();
    }

    @Test
    void rejectedProductPublish_staysUnpublished_takesNoSubscriptions_andIsNotRequestedAgain() throws Exception {
        ok(call("alice", "POST", "/v1/provider/products", """
                {"id": "refunds", "name": "Refunds", "visibility": "public",
                 "operations": [{"id": "list-charges", "api": "payments", "method": "get", "path": "/charges"}]}"""));
        ok(call("alice", "POST", "/v1/provider/products/refunds/state", "{\"state\": \"published\"}"));
        ok(call("alice", "POST", "/v1/provider/products/refunds/plans", """
                {"name": "basic", "approval": "auto", "auth_modes": ["apikey"]}"""));
        ok(call("alice", "POST", "/v1/provider/plans/refunds-basic/state", "{\"state\": \"published\"}"));
        ok(call("alice", "POST", "/v1/provider/products/refunds/product-publishes", """
                {"cluster": "local", "environment": "prod", "auth_mode": "apikey", "gateway_group": "prod"}"""));
        JsonNode moved = ok(call(
                "alice",
                "POST",
                "/v1/provider/product-publishes/refunds-prod-local/state",
                "{\"state\": \"published\", \"reason\": \"launch\"}"));
        long request = moved.path("gateway").path("publish_request").asLong();
        assertThat(request).isPositive();
        ok(call("bob", "POST", "/publish-requests/prod/" + request + "/reject", "{\"reason\": \"not reviewed\"}"));

        JsonNode publishes = ok(call("alice", "GET", "/v1/provider/products/refunds/product-publishes", null));
        assertThat(publishes.findValuesAsText("state")).containsExactly("draft");
        ok(call("cora", "POST", "/v1/customer/applications", "{\"id\": \"cora-app\", \"name\": \"App\"}"));
        HttpResponse<String> subscribe = call("cora", "POST", "/v1/customer/subscriptions", """
                {"application": "cora-app", "product_publish": "refunds-prod-local", "plan": "refunds-basic"}""");
        assertThat(subscribe.statusCode()).as(subscribe.body()).isEqualTo(404);
        // the next publish of the draft does not ask for it again
        JsonNode next = ok(call("root", "POST", "/publish", "{\"reason\": \"a routine publish\"}"));
        assertThat(next.path("requests").toString()).doesNotContain("refunds");
        for (JsonNode r : next.path("requests")) {
            ok(call(
                    "bob",
                    "POST",
                    "/publish-requests/prod/" + r.path("id").asLong() + "/reject",
                    "{\"reason\": \"not part of this test\"}"));
        }
        assertThat(virtualHost("prod", "refunds.prod.local.api.example.test").isMissingNode())
                .isTrue();
    }
}
