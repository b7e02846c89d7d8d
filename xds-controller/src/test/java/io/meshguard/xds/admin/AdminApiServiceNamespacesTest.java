package io.meshguard.xds.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.catalog.CatalogStore;
import io.meshguard.catalog.api.CatalogApi;
import io.meshguard.catalog.api.CatalogService;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Over real HTTP against a real PostgreSQL: a tenant's upstream names Kubernetes Services only in namespaces an
 * operator assigned to its tenant, for the groups its routes are placed in. Every spelling of a Service name (an
 * endpoint or the upstream's host; {@code <svc>.<ns>}, {@code .svc}, {@code .svc.cluster.local}, another cluster
 * domain) in a namespace not assigned is refused with {@code MG-UPSTREAM-018}, nothing stored, and the refusal
 * names nothing the caller may not read; the operators' own upstreams are not confined.
 */
@IntegrationTest
class AdminApiServiceNamespacesTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    static TenantAdminPlane plane;

    @BeforeAll
    static void start() throws Exception {
        plane = TenantAdminPlane.start(
                PG.dataSource(),
                (http, p) -> http.addHandler(
                        CatalogApi.PREFIX,
                        new CatalogApi(
                                new CatalogService(
                                        new CatalogStore(PG.dataSource()),
                                        p.gate(),
                                        e -> {},
                                        java.time.Clock.systemUTC(),
                                        Optional.empty()),
                                p.gate(),
                                "example.test",
                                p.xds().productServing(),
                                "{}".getBytes(java.nio.charset.StandardCharsets.UTF_8),
                                io.meshguard.catalog.PlanChangeReplay.NONE)));

        for (String group : List.of("edge", "branch")) {
            ok("ops", "PUT", "/groups/" + group, """
                    {"name": "%s", "environment": "prod", "region": "eu", "listener_port": %d,
                     "hostnames": ["%s.bank.example"]}""".formatted(group, group.equals("edge") ? 8080 : 8081, group));
        }
        for (String tenant : List.of("acme", "globex")) {
            PG.dsl().execute("insert into tenant (id) values (?) on conflict do nothing", tenant);
        }
        // the operators' assignment: acme may name Services in acme-apps from edge; branch takes acme's routes but
        // gave it no namespace
        ok("ops", "PUT", "/v1/operator/clusters/eu-1", """
                {"region": "eu", "gateway_groups": {"edge": ["acme", "globex"], "branch": ["acme"]},
                 "service_namespaces": {"edge": {"acme": ["acme-apps"]}}}""");
        ok("acme-dev", "PUT", "/apis/acme-orders", """
                {"name": "acme-orders", "base_path": "/orders", "default_version": "v1", "hostnames": [],
                 "versions": [{"version": "v1", "status": "active"}]}""");
        ok("acme-dev", "PUT", "/upstreams/acme-up", upstream("acme-up", "orders.acme-apps.svc.cluster.local", ""));
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

    /** An upstream sending to {@code address}, with the Host {@code host} when not empty. */
    static String upstream(String name, String address, String host) {
        return """
                {"name": "%s", "protocol": "http1", "endpoints": [{"address": "%s", "port": 8080}]%s}""".formatted(name, address, host.isEmpty() ? "" : ", \"host\": \"" + host + "\"");
    }

    static String route(String group, String name, String upstream) {
        return """
                {"name": "%s", "group": "%s", "api": "acme-orders", "version": "v1", "match": {"path_prefix": "/o"},
                 "destinations": [{"upstream": "%s", "weight": 100}], "authz_profile": "orders",
                 "dlp_profile": "default"}""".formatted(name, group, upstream);
    }

    static void refused(HttpResponse<String> r, String what) {
        assertThat(r.statusCode()).as("%s: %s", what, r.body()).isEqualTo(422);
        assertThat(r.body()).as(what).contains("MG-UPSTREAM-018");
    }

    @Test
    void aTenantsUpstream_namingAServiceInAnUnassignedNamespace_isRefused_inEverySpelling_andNothingIsStored()
            throws Exception {
        List<String[]> spellings = List.of(
                new String[] {"vault.vault.svc.cluster.local", ""},
                new String[] {"vault.vault.svc", ""},
                new String[] {"vault.vault", ""},
                new String[] {"vault.vault.svc.corp.internal", ""},
                new String[] {"10.1.0.7", "vault.vault.svc.cluster.local"});
        int i = 0;
        for (String[] s : spellings) {
            String name = "acme-x" + i++;
            HttpResponse<String> r = call("acme-dev", "PUT", "/upstreams/" + name, upstream(name, s[0], s[1]));
            refused(r, s[0] + " " + s[1]);
            assertThat(r.body()).contains("namespace vault", "tenant acme");
            assertThat(call("ops", "GET", "/upstreams/" + name, null).statusCode())
                    .isEqualTo(404);
        }
        // upper case or a trailing dot is no DNS name the validator takes at all
        HttpResponse<String> upper =
                call("acme-dev", "PUT", "/upstreams/acme-upper", upstream("acme-upper", "VAULT.Vault.svc.", ""));
        assertThat(upper.statusCode()).as(upper.body()).isEqualTo(422);
        assertThat(call("ops", "GET", "/upstreams/acme-upper", null).statusCode())
                .isEqualTo(404);
        // an existing upstream turned toward another namespace: refused the same way, and kept as it was
        refused(
                call("acme-dev", "PUT", "/upstreams/acme-up", upstream("acme-up", "vault.vault.svc.cluster.local", "")),
                "acme-up changed");
        assertThat(call("ops", "GET", "/upstreams/acme-up", null).body()).contains("orders.acme-apps");
    }

    @Test
    void aTenantsUpstream_inItsAssignedNamespace_isServedFromTheGroupThatAssignedIt_notFromAnother() throws Exception {
        ok("acme-dev", "PUT", "/routes/edge/acme-orders", route("edge", "acme-orders", "acme-up"));

        HttpResponse<String> r =
                call("acme-dev", "PUT", "/routes/branch/acme-orders", route("branch", "acme-orders", "acme-up"));
        refused(r, "into branch");
        assertThat(r.body()).contains("gateway group branch");
        assertThat(call("ops", "GET", "/routes/branch/acme-orders", null).statusCode())
                .isEqualTo(404);
    }

    @Test
    void anotherTenantsNamespace_isRefused_andTheRefusalNamesNothingOfThatTenant() throws Exception {
        HttpResponse<String> r = call(
                "globex-dev",
                "PUT",
                "/upstreams/globex-peek",
                upstream("globex-peek", "orders.acme-apps.svc.cluster.local", ""));
        refused(r, "globex into acme-apps");
        assertThat(r.body()).contains("tenant globex").doesNotContain("acme-up", "tenant acme", "acme-orders");
    }

    @Test
    void theOperatorsAssignment_refusesNamespacesForATenantTheGroupDoesNotTake_andNamesThatIsNotANamespace()
            throws Exception {
        HttpResponse<String> notPublishing = call("ops", "PUT", "/v1/operator/clusters/eu-1", """
                {"region": "eu", "gateway_groups": {"branch": ["acme"]},
                 "service_namespaces": {"branch": {"globex": ["globex-apps"]}}}""");
        assertThat(notPublishing.statusCode()).as(notPublishing.body()).isEqualTo(422);
        HttpResponse<String> badName = call("ops", "PUT", "/v1/operator/clusters/eu-1", """
                {"region": "eu", "gateway_groups": {"branch": ["acme"]},
                 "service_namespaces": {"branch": {"acme": ["Not_A_Namespace"]}}}""");
        assertThat(badName.statusCode()).as(badName.body()).isEqualTo(422);
        assertThat(call("acme-dev", "PUT", "/v1/operator/clusters/eu-1", """
                        {"region": "eu", "gateway_groups": {"edge": ["acme"]},
                         "service_namespaces": {"edge": {"acme": ["vault"]}}}""").statusCode())
                .as("a tenant assigns itself nothing")
                .isEqualTo(403);
    }

    @Test
    void anOperatorsUpstream_isNotConfined_andExternalHostsAreNotServiceNames() throws Exception {
        ok("ops", "PUT", "/upstreams/ops-vault", upstream("ops-vault", "vault.vault.svc.cluster.local", ""));
        ok("acme-dev", "PUT", "/upstreams/acme-partner", upstream("acme-partner", "api.partner.example.com", ""));
    }
}
