package io.meshguard.xds.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.meshguard.db.TenantScope;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.xds.model.ConfigJson;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tenants own their APIs, upstreams and routes: over real HTTP against a real PostgreSQL with row-level security, a
 * caller sees and changes only its tenants' objects, another tenant's object answers 404 (never 403), and what every
 * tenant shares (groups, the whole draft, publishing, rendering) is for system-scoped callers only.
 */
@IntegrationTest
class AdminApiTenantsTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @TempDir
    static Path tmp;

    static TenantAdminPlane plane;

    /** Token name = caller; each caller's tenants. */
    static final Map<String, TenantScope> CALLERS = Map.of(
            "ops", TenantScope.ALL,
            "acme-dev", TenantScope.of(Set.of("acme")),
            "globex-dev", TenantScope.of(Set.of("globex")),
            "both-dev", TenantScope.of(Set.of("acme", "globex")),
            "nobody", TenantScope.of(Set.of("emptyco")));

    static final Map<String, List<String>> GROUPS = Map.of(
            "ops", List.of("platform-admins"),
            "acme-dev", List.of("acme-devs"),
            "globex-dev", List.of("globex-devs"),
            "both-dev", List.of("acme-devs", "globex-devs"),
            "nobody", List.of("visitors"));
    /** Every permission is granted: what separates the callers here is their tenants alone. */
    static final String BINDINGS = """
            claims: [groups]
            roles:
              system-admin:
                permissions: [config:read, config:replace, config:validate, group:read, group:update, group:delete,
                              upstream:read, upstream:update, upstream:delete, api:read, api:update, api:delete,
                              route:read, route:update, route:delete, revision:read, revision:publish,
                              revision:rollback, render:read, fleet:read]
              api-developer:
                permissions: [config:read, config:replace, config:validate, group:read, group:update, group:delete,
                              upstream:read, upstream:update, upstream:delete, api:read, api:update, api:delete,
                              route:read, route:update, route:delete, revision:read, revision:publish,
                              revision:rollback, render:read, fleet:read]
            bindings:
              - {match: platform-admins, role: system-admin, scope: system}
              - {match: acme-devs, role: api-developer, scope: "tenant:acme"}
              - {match: globex-devs, role: api-developer, scope: "tenant:globex"}
              - {match: visitors, role: api-developer, scope: "tenant:emptyco"}
            """;

    /** The objects each tenant creates: kind, path. */
    static final Map<String, List<String>> OBJECTS = Map.of(
            "acme", List.of("/upstreams/acme-up", "/apis/acme-api", "/routes/edge/acme-route"),
            "globex", List.of("/upstreams/globex-up", "/apis/globex-api", "/routes/edge/globex-route"),
            "default", List.of("/upstreams/shared-up", "/apis/shared-api", "/routes/edge/shared-route"));

    @BeforeAll
    static void start() throws Exception {
        plane = TenantAdminPlane.start(PG.dataSource(), BINDINGS, GROUPS, (http, p) -> {});

        assertThat(call("ops", "PUT", "/groups/edge", """
                {"name": "edge", "environment": "prod", "region": "eu", "listener_port": 8080}""").statusCode()).isEqualTo(200);
        assignGroup(PG.dataSource(), "edge", "acme", "globex", "emptyco");
        create("ops", "shared", "");
        create("acme-dev", "acme", "");
        create("globex-dev", "globex", "");
    }

    private static void create(String caller, String prefix, String query) throws Exception {
        assertThat(call(caller, "PUT", "/upstreams/" + prefix + "-up" + query, """
                {"name": "%s-up", "protocol": "http1", "endpoints": [{"address": "10.1.0.7", "port": 8080}]}""".formatted(prefix))
                        .statusCode())
                .isEqualTo(200);
        assertThat(call(caller, "PUT", "/apis/" + prefix + "-api" + query, """
                {"name": "%s-api", "base_path": "/%s", "default_version": "v1",
                 "versions": [{"version": "v1", "status": "active"}]}""".formatted(prefix, prefix))
                        .statusCode())
                .isEqualTo(200);
        HttpResponse<String> route = call(
                caller,
                "PUT",
                "/routes/edge/" + prefix + "-route" + query,
                routeBody(prefix + "-route", prefix + "-api", prefix + "-up"));
        assertThat(route.statusCode()).as(route.body()).isEqualTo(200);
    }

    /**
     * What an operator's {@code PUT /v1/operator/clusters/{id}} with {@code gateway_groups} records: {@code group} on a
     * cluster, with the tenants that may place routes into it.
     */
    static void assignGroup(javax.sql.DataSource ds, String group, String... tenants) throws java.sql.SQLException {
        try (java.sql.Connection c = ds.getConnection();
                java.sql.PreparedStatement cluster = c.prepareStatement(
                        "insert into cluster (id, region) values ('eu-1', 'eu') on conflict do nothing");
                java.sql.PreparedStatement assign = c.prepareStatement(
                        "insert into cluster_group (cluster_id, gateway_group, publishing_tenants) values ('eu-1', ?, ?)"
                                + " on conflict (cluster_id, gateway_group) do update"
                                + " set publishing_tenants = excluded.publishing_tenants, withdrawn_at = null")) {
            cluster.executeUpdate();
            assign.setString(1, group);
            assign.setArray(2, c.createArrayOf("varchar", tenants));
            assign.executeUpdate();
        }
    }

    private static String routeBody(String name, String api, String upstream) {
        return """
                {"name": "%s", "group": "edge", "api": "%s", "version": "v1", "match": {"path_prefix": "/orders"},
                 "destinations": [{"upstream": "%s", "weight": 100}], "authz_profile": "orders", "dlp_profile": "default"}""".formatted(name, api, upstream);
    }

    @AfterAll
    static void stop() {
        plane.close();
    }

    static String token(String caller) {
        return plane.token(caller);
    }

    static HttpResponse<String> call(String caller, String method, String path, String body) throws Exception {
        return plane.call(caller, method, path, body);
    }

    private static String tenantOf(String objectPath) {
        return OBJECTS.entrySet().stream()
                .filter(e -> e.getValue().contains(objectPath))
                .findFirst()
                .orElseThrow()
                .getKey();
    }

    @Test
    void eachTenant_seesItsOwnObjectsOnly_inEveryListing() throws Exception {
        for (String caller : List.of("acme-dev", "globex-dev", "both-dev", "nobody")) {
            TenantScope scope = CALLERS.get(caller);
            for (String listing : List.of("/upstreams", "/apis", "/routes", "/config")) {
                String body = call(caller, "GET", listing, null).body();
                for (Map.Entry<String, List<String>> owned : OBJECTS.entrySet()) {
                    for (String object : owned.getValue()) {
                        if (!listing.equals("/config") && !object.startsWith(listing + "/")) {
                            continue;
                        }
                        String name = object.substring(object.lastIndexOf('/') + 1);
                        assertThat(body.contains("\"" + name + "\""))
                                .as("%s GET %s shows %s", caller, listing, name)
                                .isEqualTo(scope.includes(owned.getKey()));
                    }
                }
            }
        }
        // operators see every tenant's objects
        String all = call("ops", "GET", "/config", null).body();
        assertThat(all).contains("\"acme-api\"", "\"globex-api\"", "\"shared-api\"");
    }

    /**
     * Random callers × random objects × every operation on an object: an object of a tenant the caller does not act
     * for answers 404, exactly as a missing one does, and the draft is unchanged afterwards.
     */
    @Test
    void randomCallersAndObjects_neverReadOrWriteAcrossTenants() throws Exception {
        Random random = new Random(20261122L);
        List<String> tenantCallers = List.of("acme-dev", "globex-dev", "nobody", "both-dev");
        List<String> objects = OBJECTS.values().stream().flatMap(List::stream).toList();
        int crossTenantAttempts = 0;
        for (int i = 0; i < 150; i++) {
            String caller = tenantCallers.get(random.nextInt(tenantCallers.size()));
            String object = objects.get(random.nextInt(objects.size()));
            if (CALLERS.get(caller).includes(tenantOf(object))) {
                continue;
            }
            crossTenantAttempts++;
            String before = call("ops", "GET", "/config", null).body();
            String asOps = call("ops", "GET", object, null).body();
            String method = List.of("GET", "PUT", "DELETE").get(random.nextInt(3));
            HttpResponse<String> r = call(caller, method, object, method.equals("PUT") ? asOps : null);
            assertThat(r.statusCode())
                    .as("%s %s %s: %s", caller, method, object, r.body())
                    .isEqualTo(404);
            assertThat(r.body()).doesNotContain(asOps.substring(1, Math.min(asOps.length(), 40)));
            assertThat(call("ops", "GET", "/config", null).body())
                    .as("draft after %s %s %s", caller, method, object)
                    .isEqualTo(before);
        }
        assertThat(crossTenantAttempts).isGreaterThan(50);
    }

    @Test
    void tenantCaller_updatesItsOwnObjects_andNewOnesBelongToItsTenant() throws Exception {
        HttpResponse<String> update = call("acme-dev", "PUT", "/upstreams/acme-up", """
                {"name": "acme-up", "protocol": "http1", "endpoints": [{"address": "10.1.0.8", "port": 8081}]}""");
        assertThat(update.statusCode()).as(update.body()).isEqualTo(200);
        assertThat(call("acme-dev", "GET", "/upstreams/acme-up", null).body()).contains("10.1.0.8");
        assertThat(call("globex-dev", "GET", "/upstreams/acme-up", null).statusCode())
                .isEqualTo(404);
        // several tenants: the new object's tenant must be said, and be one of the caller's
        String body = """
                {"name": "both-up", "protocol": "http1", "endpoints": [{"address": "10.1.0.9", "port": 8080}]}""";
        assertThat(call("both-dev", "PUT", "/upstreams/both-up", body).statusCode())
                .isEqualTo(422);
        assertThat(call("acme-dev", "PUT", "/upstreams/both-up?tenant=globex", body)
                        .statusCode())
                .isEqualTo(403);
        assertThat(call("both-dev", "PUT", "/upstreams/both-up?tenant=globex", body)
                        .statusCode())
                .isEqualTo(200);
        assertThat(call("globex-dev", "GET", "/upstreams/both-up", null).statusCode())
                .isEqualTo(200);
        assertThat(call("acme-dev", "GET", "/upstreams/both-up", null).statusCode())
                .isEqualTo(404);
        assertThat(call("globex-dev", "DELETE", "/upstreams/both-up", null).statusCode())
                .isEqualTo(200);
    }

    @Test
    void tenantRoute_cannotServeAnotherTenantsApiOrSendToItsUpstream() throws Exception {
        HttpResponse<String> toGlobex =
                call("acme-dev", "PUT", "/routes/edge/acme-steal", routeBody("acme-steal", "acme-api", "globex-up"));
        assertThat(toGlobex.statusCode()).isEqualTo(422);
        assertThat(toGlobex.body()).contains("no upstream 'globex-up' in tenant acme");
        HttpResponse<String> servesGlobex =
                call("acme-dev", "PUT", "/routes/edge/acme-steal", routeBody("acme-steal", "globex-api", "acme-up"));
        assertThat(servesGlobex.statusCode()).isEqualTo(422);
        assertThat(call("ops", "GET", "/routes/edge/acme-steal", null).statusCode())
                .isEqualTo(404);
    }

    /** A caller acting for two tenants still binds a route only to its own tenant's API and upstreams. */
    @Test
    void callerOfTwoTenants_cannotBindOneTenantsRouteToTheOthersUpstreamOrApi() throws Exception {
        String before = call("ops", "GET", "/config", null).body();
        HttpResponse<String> toGlobex = call(
                "both-dev",
                "PUT",
                "/routes/edge/acme-mixed?tenant=acme",
                routeBody("acme-mixed", "acme-api", "globex-up"));
        assertThat(toGlobex.statusCode()).as(toGlobex.body()).isEqualTo(422);
        assertThat(toGlobex.body()).contains("no upstream 'globex-up' in tenant acme");
        HttpResponse<String> servesGlobex = call(
                "both-dev",
                "PUT",
                "/routes/edge/acme-mixed?tenant=acme",
                routeBody("acme-mixed", "globex-api", "acme-up"));
        assertThat(servesGlobex.statusCode()).as(servesGlobex.body()).isEqualTo(422);
        assertThat(call("ops", "GET", "/config", null).body()).isEqualTo(before);
    }

    @Test
    void whatEveryTenantShares_isForSystemScopedCallersOnly() throws Exception {
        String config = call("ops", "GET", "/config", null).body();
        List<String[]> shared = new ArrayList<>(List.of(
                new String[] {"PUT", "/config", config},
                new String[] {
                    "PUT", "/groups/edge", "{\"name\": \"edge\", \"environment\": \"dev\", \"region\": \"eu\"}"
                },
                new String[] {"DELETE", "/groups/edge", null},
                new String[] {"POST", "/publish", "{\"reason\": \"tenant publish\"}"},
                new String[] {"POST", "/rollback/1", "{\"reason\": \"tenant rollback\"}"},
                new String[] {"GET", "/render/edge", null}));
        for (String caller : List.of("acme-dev", "both-dev", "nobody")) {
            for (String[] op : shared) {
                HttpResponse<String> r = call(caller, op[0], op[1], op[2]);
                assertThat(r.statusCode())
                        .as("%s %s %s: %s", caller, op[0], op[1], r.body())
                        .isEqualTo(403);
            }
        }
        assertThat(call("ops", "GET", "/config", null).body()).isEqualTo(config);
    }

    @Test
    void revisionsShownToATenant_leaveOtherTenantsObjectsOut() throws Exception {
        HttpResponse<String> published = call("ops", "POST", "/publish", "{\"reason\": \"tenants\"}");
        assertThat(published.statusCode()).as(published.body()).isEqualTo(200);
        JsonNode revisions = ConfigJson.mapper()
                .readTree(call("ops", "GET", "/revisions?group=edge", null).body());
        long id = revisions.get(0).get("id").asLong();
        String asAcme = call("acme-dev", "GET", "/revisions/" + id, null).body();
        assertThat(asAcme).contains("acme-route").doesNotContain("globex-route").doesNotContain("shared-route");
        String asOps = call("ops", "GET", "/revisions/" + id, null).body();
        assertThat(asOps).contains("acme-route", "globex-route", "shared-route");
        String diff = call("acme-dev", "GET", "/revisions/" + id + "/diff/" + id, null)
                .body();
        assertThat(diff).doesNotContain("globex");
    }

    /**
     * The revision list and one revision name who published and why for the whole group, and the approval names every
     * tenant's authors: a tenant-scoped caller gets neither, an operator both.
     */
    @Test
    void revisionsShownToATenant_nameNoPublisherReasonOrApproval() throws Exception {
        HttpResponse<String> published =
                call("ops", "POST", "/publish", "{\"reason\": \"globex merger launch, ticket 4711\"}");
        assertThat(published.statusCode()).as(published.body()).isEqualTo(200);
        String list = call("acme-dev", "GET", "/revisions?group=edge", null).body();
        JsonNode revisions = ConfigJson.mapper().readTree(list);
        assertThat(revisions).isNotEmpty();
        assertThat(list).doesNotContain("globex merger", "\"actor\"", "\"reason\"");
        String one = call(
                        "acme-dev",
                        "GET",
                        "/revisions/" + revisions.get(0).get("id").asLong(),
                        null)
                .body();
        assertThat(one).contains("acme-route").doesNotContain("globex merger", "\"actor\"", "\"approval\"");
        assertThat(call("ops", "GET", "/revisions?group=edge", null).body()).contains("globex merger");
    }

    /**
     * Validation runs over the whole configuration: the warnings of a tenant's edit, and the problems of its refused
     * edit, name only what that tenant may read.
     */
    @Test
    void draftEditWarningsAndProblems_toATenant_nameNothingOfAnotherTenant() throws Exception {
        HttpResponse<String> empty = call(
                "globex-dev",
                "PUT",
                "/upstreams/globex-hollow",
                "{\"name\": \"globex-hollow\", \"protocol\": \"http1\", \"endpoints\": []}");
        assertThat(empty.statusCode()).as(empty.body()).isEqualTo(200);
        assertThat(empty.body()).as("its own warning").contains("globex-hollow");

        HttpResponse<String> warned = call(
                "acme-dev",
                "PUT",
                "/upstreams/acme-hollow",
                "{\"name\": \"acme-hollow\", \"protocol\": \"http1\", \"endpoints\": []}");
        assertThat(warned.statusCode()).as(warned.body()).isEqualTo(200);
        assertThat(warned.body()).contains("acme-hollow").doesNotContain("globex");

        HttpResponse<String> refused = call(
                "acme-dev",
                "PUT",
                "/routes/edge/acme-route",
                routeBody("acme-route", "acme-api", "acme-up").replace("\"/orders\"", "\"orders\""));
        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(422);
        assertThat(refused.body()).contains("acme-route").doesNotContain("globex");

        assertThat(call("ops", "PUT", "/upstreams/shared-up", """
                {"name": "shared-up", "protocol": "http1", "endpoints": [{"address": "10.1.0.7", "port": 8080}]}""").body())
                .as("an operator sees every warning")
                .contains("globex-hollow");
    }
}
