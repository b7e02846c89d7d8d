package io.meshguard.catalog.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import io.meshguard.access.AdminEvent;
import io.meshguard.access.AdminGate;
import io.meshguard.access.AdminTokenVerifier;
import io.meshguard.access.RoleBindings;
import io.meshguard.catalog.CatalogStore;
import io.meshguard.testing.AdminHttp;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.testing.TestIssuer;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Tenants through the admin API: an operator creates and lists them (idempotent, each call a row of the
 * admin trail, system scope only), and a caller whose binding names a tenant the database lacks is told so in words,
 * with the command that fixes it, never with PostgreSQL's foreign-key text. Real HTTP, real tokens, real PostgreSQL.
 */
@IntegrationTest
class TenantApiTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    static final String BINDINGS = """
            claims: [groups]
            roles:
              operator:
                permissions: [tenant:read, tenant:create]
              provider:
                permissions: [product:read, product:create, tenant:read, tenant:create]
              customer:
                permissions: [application:read, application:create]
            bindings:
              - {match: ops, role: operator, scope: system}
              - {match: newco-providers, role: provider, scope: "tenant:newco"}
              - {match: newco-customers, role: customer, scope: "tenant:newco"}
            """;
    static final Map<String, List<String>> GROUPS =
            Map.of("ops", List.of("ops"), "paula", List.of("newco-providers"), "carl", List.of("newco-customers"));

    static TestIssuer issuer;
    static HttpServer server;
    static final List<AdminEvent> EVENTS = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        issuer = new TestIssuer();
        AdminGate gate = AdminGate.people(
                new AdminTokenVerifier(
                        new AdminTokenVerifier.Settings(issuer.issuer(), "meshguard-admin", Duration.ofSeconds(30))),
                RoleBindings.parse("bindings", BINDINGS),
                EVENTS::add,
                "admin.token_file");
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext(
                CatalogApi.PREFIX,
                new CatalogApi(
                        new CatalogStore(PG.dataSource()),
                        gate,
                        EVENTS::add,
                        Clock.systemUTC(),
                        "example.test",
                        new io.meshguard.catalog.RecordingGateway()));
        server.start();
    }

    @AfterAll
    static void stop() {
        server.stop(0);
        issuer.close();
    }

    static HttpResponse<String> call(String who, String method, String path, String body) throws Exception {
        return AdminHttp.send(
                server.getAddress().getPort(),
                issuer.accessToken(who, "meshguard-admin", GROUPS.get(who)),
                method,
                path,
                body);
    }

    static JsonNode json(HttpResponse<String> r) throws Exception {
        return CatalogJson.MAPPER.readTree(r.body());
    }

    @Test
    void create_isIdempotent_listed_andEachCallIsARowOfTheAdminTrail() throws Exception {
        HttpResponse<String> first =
                call("ops", "POST", "/v1/operator/tenants", "{\"id\": \"acme\", \"display_name\": \"ACME Corp\"}");
        assertThat(first.statusCode()).as(first.body()).isEqualTo(201);
        assertThat(json(first).path("created").asBoolean()).isTrue();
        HttpResponse<String> again = call("ops", "POST", "/v1/operator/tenants", "{\"id\": \"acme\"}");
        assertThat(again.statusCode()).as(again.body()).isEqualTo(201);
        assertThat(json(again).path("created").asBoolean())
                .as("an existing tenant is left as it is")
                .isFalse();

        HttpResponse<String> list = call("ops", "GET", "/v1/operator/tenants", null);
        assertThat(list.statusCode()).isEqualTo(200);
        assertThat(json(list).findValuesAsText("id")).contains("acme");
        assertThat(json(list).findValuesAsText("display_name")).contains("ACME Corp");
        assertThat(EVENTS)
                .filteredOn(
                        e -> e.action().equals("tenant:create") && e.target().equals("tenant/acme"))
                .extracting(AdminEvent::outcome)
                .containsExactly("changed: created", "changed: already existed");
    }

    @Test
    void create_isSystemScope_aTenantBindingMayNotCreateTenants() throws Exception {
        HttpResponse<String> r = call("paula", "POST", "/v1/operator/tenants", "{\"id\": \"paulas-own\"}");
        assertThat(r.statusCode()).isEqualTo(403);
        assertThat(call("ops", "GET", "/v1/operator/tenants", null).body()).doesNotContain("paulas-own");
    }

    @Test
    void create_refusesAnIdTheTableWouldRefuse_inWords() throws Exception {
        HttpResponse<String> r = call("ops", "POST", "/v1/operator/tenants", "{\"id\": \"Bad Name\"}");
        assertThat(r.statusCode()).isEqualTo(422);
        assertThat(r.body())
                .contains("tenant id 'Bad Name'")
                .doesNotContain("violates")
                .doesNotContain("ERROR");
    }

    @Test
    void unknownTenant_isA422InWords_onEveryCreateThatNamesIt_thenWorksOnceCreated() throws Exception {
        HttpResponse<String> app = call("carl", "POST", "/v1/customer/applications", "{\"name\": \"Shop\"}");
        HttpResponse<String> product =
                call("paula", "POST", "/v1/provider/products", "{\"id\": \"maps\", \"name\": \"Maps\"}");
        for (HttpResponse<String> r : List.of(app, product)) {
            assertThat(r.statusCode()).as(r.body()).isEqualTo(422);
            assertThat(json(r).path("error").asText())
                    .isEqualTo("tenant 'newco' does not exist; create it with `meshguard tenant create newco`");
            assertThat(r.body())
                    .doesNotContain("foreign key")
                    .doesNotContain("violates")
                    .doesNotContain("ERROR");
        }

        assertThat(call("ops", "POST", "/v1/operator/tenants", "{\"id\": \"newco\"}")
                        .statusCode())
                .isEqualTo(201);
        assertThat(call("carl", "POST", "/v1/customer/applications", "{\"name\": \"Shop\"}")
                        .statusCode())
                .isEqualTo(201);
        assertThat(call("paula", "POST", "/v1/provider/products", "{\"id\": \"maps\", \"name\": \"Maps\"}")
                        .statusCode())
                .isEqualTo(201);
    }
}
