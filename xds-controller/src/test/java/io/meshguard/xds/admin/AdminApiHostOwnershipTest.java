package io.meshguard.xds.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Over real HTTP against a real PostgreSQL: a tenant's route goes only into a group an operator assigned to its
 * tenant, and a hostname and path space belong to the tenant that publishes on them. globex, given room in acme's
 * group, cannot put an API on acme's hostname or under acme's base path there, and its refusal says nothing of acme's
 * objects; acme itself may nest its own APIs (served most specific first).
 */
@IntegrationTest
class AdminApiHostOwnershipTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    static TenantAdminPlane plane;

    @BeforeAll
    static void start() throws Exception {
        plane = TenantAdminPlane.start(PG.dataSource(), (http, p) -> {});
        ok("ops", "PUT", "/groups/edge", """
                {"name": "edge", "environment": "prod", "region": "eu", "listener_port": 8080,
                 "hostnames": ["api.bank.example"]}""");
        ok("ops", "PUT", "/groups/internal", """
                {"name": "internal", "environment": "prod", "region": "eu", "listener_port": 8081,
                 "hostnames": ["internal.bank.example"]}""");
        // both tenants publish into edge; internal is assigned to nobody
        AdminApiTenantsTest.assignGroup(PG.dataSource(), "edge", "acme", "globex");
        for (String tenant : List.of("acme", "globex")) {
            ok(tenant + "-dev", "PUT", "/upstreams/" + tenant + "-up", """
                    {"name": "%s-up", "protocol": "http1", "endpoints": [{"address": "10.1.0.7", "port": 8080}]}""".formatted(tenant));
        }
        api("acme-dev", "acme-accounts", "/accounts", "[\"accounts.acme.example\"]");
        ok("acme-dev", "PUT", "/routes/edge/acme-accounts", route("edge", "acme-accounts", "acme-accounts", "acme-up"));
        api("acme-dev", "acme-cards", "/cards", "[]");
        ok("acme-dev", "PUT", "/routes/edge/acme-cards", route("edge", "acme-cards", "acme-cards", "acme-up"));
    }

    @AfterAll
    static void stop() {
        plane.close();
    }

    static HttpResponse<String> call(String caller, String method, String path, String body) throws Exception {
        return plane.call(caller, method, path, body);
    }

    static void ok(String caller, String method, String path, String body) throws Exception {
        plane.ok(caller, method, path, body);
    }

    static void api(String caller, String name, String basePath, String hostnames) throws Exception {
        ok(caller, "PUT", "/apis/" + name, """
                {"name": "%s", "base_path": "%s", "default_version": "v1", "hostnames": %s,
                 "versions": [{"version": "v1", "status": "active"}]}""".formatted(name, basePath, hostnames));
    }

    static String route(String group, String name, String api, String upstream) {
        return """
                {"name": "%s", "group": "%s", "api": "%s", "version": "v1", "match": {"path_prefix": "/balances"},
                 "destinations": [{"upstream": "%s", "weight": 100}], "authz_profile": "orders",
                 "dlp_profile": "default"}""".formatted(name, group, api, upstream);
    }

    /** What the refusal tells globex: nothing of acme's objects. */
    private static void namesNothingOfAcmes(HttpResponse<String> r) {
        assertThat(r.body()).doesNotContain("acme-accounts", "acme-cards", "acme-up", "'/accounts'", "\"/accounts\"");
    }

    @Test
    void anotherTenantsApi_onAHostnameAnApiNames_withADeeperBasePath_isRefused_namingNothingOfTheOwners()
            throws Exception {
        api("globex-dev", "globex-accounts", "/accounts/v1", "[\"accounts.acme.example\"]");

        HttpResponse<String> r = call(
                "globex-dev",
                "PUT",
                "/routes/edge/globex-accounts",
                route("edge", "globex-accounts", "globex-accounts", "globex-up"));

        assertThat(r.statusCode()).as(r.body()).isEqualTo(422);
        assertThat(r.body()).contains("MG-HOST-004", "another tenant");
        namesNothingOfAcmes(r);
        assertThat(call("ops", "GET", "/routes/edge/globex-accounts", null).statusCode())
                .isEqualTo(404);
    }

    @Test
    void anotherTenantsApi_onAWildcardCoveringTheHostname_isRefused() throws Exception {
        api("globex-dev", "globex-wild", "/loans", "[\"*.acme.example\"]");

        HttpResponse<String> r = call(
                "globex-dev",
                "PUT",
                "/routes/edge/globex-wild",
                route("edge", "globex-wild", "globex-wild", "globex-up"));

        assertThat(r.statusCode()).as(r.body()).isEqualTo(422);
        namesNothingOfAcmes(r);
    }

    @Test
    void onTheGroupsSharedHostname_anotherTenantsBasePath_underOrEqualToAnothers_isRefused() throws Exception {
        for (String basePath : List.of("/cards/v2", "/cards")) {
            String name = "globex-cards" + basePath.length();
            api("globex-dev", name, basePath, "[]");
            HttpResponse<String> r =
                    call("globex-dev", "PUT", "/routes/edge/" + name, route("edge", name, name, "globex-up"));
            assertThat(r.statusCode()).as(basePath + ": " + r.body()).isEqualTo(422);
            namesNothingOfAcmes(r);
        }
        // a path space of its own on the shared hostname is globex's to serve
        api("globex-dev", "globex-loans", "/loans", "[]");
        ok(
                "globex-dev",
                "PUT",
                "/routes/edge/globex-loans",
                route("edge", "globex-loans", "globex-loans", "globex-up"));
    }

    @Test
    void aTenant_nestsItsOwnApis_onItsOwnHostname() throws Exception {
        api("acme-dev", "acme-accounts-v2", "/accounts/v2", "[\"accounts.acme.example\"]");
        ok(
                "acme-dev",
                "PUT",
                "/routes/edge/acme-accounts-v2",
                route("edge", "acme-accounts-v2", "acme-accounts-v2", "acme-up"));
    }

    @Test
    void aTenantsRoute_intoAGroupNotAssignedToItsTenant_isRefused_andNothingIsStored() throws Exception {
        HttpResponse<String> r = call(
                "acme-dev",
                "PUT",
                "/routes/internal/acme-cards",
                route("internal", "acme-cards", "acme-cards", "acme-up"));

        assertThat(r.statusCode()).as(r.body()).isEqualTo(422);
        assertThat(r.body()).contains("MG-ROUTE-034", "gateway group internal is not assigned to tenant acme");
        assertThat(call("ops", "GET", "/routes/internal/acme-cards", null).statusCode())
                .isEqualTo(404);
    }
}
