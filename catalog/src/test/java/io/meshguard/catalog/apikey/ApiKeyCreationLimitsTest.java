package io.meshguard.catalog.apikey;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshguard.access.AdminGate;
import io.meshguard.access.AdminTokenVerifier;
import io.meshguard.access.LoggedAdminEvents;
import io.meshguard.access.RoleBindings;
import io.meshguard.catalog.CatalogStore;
import io.meshguard.catalog.api.ApplicationKeys;
import io.meshguard.catalog.api.CatalogService;
import io.meshguard.catalog.service.AdmittedCall;
import io.meshguard.catalog.service.OperationRefused;
import io.meshguard.catalogmodel.Application;
import io.meshguard.catalogmodel.ApplicationState;
import io.meshguard.db.TenantScope;
import io.meshguard.runtime.http.HttpServerSettings;
import io.meshguard.runtime.http.StatusHttpServer;
import io.meshguard.testing.AdminHttp;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.testing.TestIssuer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A tenant mints API keys within its limits: through the real admin API ({@code POST /apikeys}) and the developer
 * portal's issue, on real PostgreSQL, a tenant holding {@code apikey.max_live_keys_per_tenant} working keys is refused
 * (409) until it revokes one, one that created {@code apikey.created_per_tenant_per_hour} keys this hour is refused
 * (429) whatever it revoked since, concurrent creations never pass the limit together, and another tenant is not
 * touched by either.
 */
@IntegrationTest
class ApiKeyCreationLimitsTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    static final List<String> TENANTS = List.of("capped", "hasty", "racing", "portal", "bystander");
    static final ApiKeyLimits LIMITS = new ApiKeyLimits(3, 5);
    static final ObjectMapper JSON = new ObjectMapper();

    static TestIssuer issuer;
    static AdminGate gate;
    static StatusHttpServer http;
    static ApplicationKeys portal;
    static CatalogStore catalog;

    @BeforeAll
    static void start() throws Exception {
        issuer = new TestIssuer();
        StringBuilder bindings = new StringBuilder("""
                claims: [groups]
                roles:
                  customer-admin:
                    permissions: [application:read, application:create, credential:read, credential:create,
                                  apikey:read, apikey:create, apikey:rotate, apikey:revoke]
                bindings:
                """);
        for (String tenant : TENANTS) {
            PG.dsl().execute("insert into tenant (id) values (?) on conflict do nothing", tenant);
            bindings.append("  - {match: ")
                    .append(tenant)
                    .append("-admins, role: customer-admin, scope: \"tenant:")
                    .append(tenant)
                    .append("\"}\n");
        }
        gate = AdminGate.people(
                new AdminTokenVerifier(
                        new AdminTokenVerifier.Settings(issuer.issuer(), "meshguard-admin", Duration.ofSeconds(30))),
                RoleBindings.parse("bindings", bindings.toString()),
                new LoggedAdminEvents(),
                "admin.token_file");
        ApiKeyAdminApi api = new ApiKeyAdminApi(
                Optional.of(new JdbcApiKeyStore(PG.dataSource())),
                Clock.systemUTC(),
                gate,
                Optional.empty(),
                keyId -> {},
                LIMITS);
        http = new StatusHttpServer(
                "apikey-limits", HttpServerSettings.onPort(0), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
        http.addHandler(ApiKeyAdminApi.PREFIX, api);
        http.start();
        catalog = new CatalogStore(PG.dataSource());
        portal = new ApplicationKeys(
                new CatalogService(catalog, gate, e -> {}, Clock.systemUTC(), Optional.empty()), api.admin());
    }

    @AfterAll
    static void stop() {
        http.close();
        issuer.close();
    }

    static String token(String tenant) {
        return issuer.accessToken(tenant + "-admin", "meshguard-admin", List.of(tenant + "-admins"));
    }

    static HttpResponse<String> call(String tenant, String path, String body) throws Exception {
        return AdminHttp.send(http.port(), token(tenant), "POST", path, body);
    }

    static HttpResponse<String> create(String tenant) throws Exception {
        return call(tenant, "/apikeys", "{\"name\": \"k\", \"owner\": \"team\", \"tenant\": \"" + tenant + "\"}");
    }

    static String createdId(String tenant) throws Exception {
        HttpResponse<String> r = create(tenant);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return JSON.readTree(r.body()).get("key_id").asText();
    }

    static void revoke(String tenant, String keyId) throws Exception {
        HttpResponse<String> r = call(tenant, "/apikeys/" + keyId + "/revoke", "{\"reason\": \"unused\"}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    }

    static long keys(String tenant) {
        return PG.dsl()
                .fetchOne("select count(*) from api_keys where tenant = ?", tenant)
                .get(0, Long.class);
    }

    @Test
    void create_beyondTheTenantsWorkingKeys_refused409_untilItRevokesOne() throws Exception {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ids.add(createdId("capped"));
        }
        HttpResponse<String> refused = create("capped");
        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(409);
        assertThat(refused.body()).contains("apikey.max_live_keys_per_tenant").contains("'capped'");
        assertThat(keys("capped")).isEqualTo(3);
        assertThat(createdId("bystander"))
                .as("another tenant creates as before")
                .isNotBlank();

        revoke("capped", ids.get(0));
        assertThat(createdId("capped")).isNotBlank();
    }

    @Test
    void create_beyondTheHourlyRate_refused429_revokedKeysCountToo() throws Exception {
        for (int i = 0; i < 5; i++) {
            revoke("hasty", createdId("hasty"));
        }
        HttpResponse<String> refused = create("hasty");
        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(429);
        assertThat(refused.body()).contains("apikey.created_per_tenant_per_hour");
        assertThat(keys("hasty")).isEqualTo(5);
    }

    @Test
    void concurrentCreations_neverPassTheLimitTogether() throws Exception {
        List<Integer> statuses = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
            List<Future<HttpResponse<String>>> calls = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                calls.add(pool.submit(() -> create("racing")));
            }
            for (Future<HttpResponse<String>> f : calls) {
                statuses.add(f.get().statusCode());
            }
        }
        assertThat(statuses).filteredOn(s -> s == 201).hasSize(3);
        assertThat(statuses).filteredOn(s -> s == 409).hasSize(5);
        assertThat(keys("racing")).isEqualTo(3);
    }

    @Test
    void portalIssue_countsUnderTheSameLimits() throws Exception {
        for (int i = 0; i < 3; i++) {
            createdId("portal");
        }
        String app = catalog.createApplication(
                        TenantScope.of(Set.of("portal")),
                        new Application("portal-app", "portal", "Portal app", ApplicationState.ACTIVE),
                        "portal-admin")
                .id();
        AdmittedCall who =
                switch (gate.authenticate("Bearer " + token("portal"), "127.0.0.1", "req-portal", "/test")) {
                    case AdminGate.Admitted a -> new AdmittedCall(a, "req-portal");
                    case AdminGate.Refused r -> throw new AssertionError(r.message());
                };
        assertThatThrownBy(() -> portal.issue(who, app, "test"))
                .isInstanceOfSatisfying(
                        OperationRefused.class, e -> assertThat(e.status()).isEqualTo(409));
        assertThat(keys("portal")).as("no key and no credential left behind").isEqualTo(3);
        assertThat(PG.dsl()
                        .fetchOne("select count(*) from credential where application_id = 'portal-app'")
                        .get(0, Long.class))
                .isZero();
    }
}
