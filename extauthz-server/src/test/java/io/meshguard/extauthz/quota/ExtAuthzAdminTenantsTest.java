package io.meshguard.extauthz.quota;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshguard.access.AdminGate;
import io.meshguard.access.AdminTokenVerifier;
import io.meshguard.access.LoggedAdminEvents;
import io.meshguard.access.RoleBindings;
import io.meshguard.authz.policy.AuthzPolicy;
import io.meshguard.catalog.apikey.ApiKeyAdminApi;
import io.meshguard.catalog.apikey.JdbcApiKeyStore;
import io.meshguard.catalogmodel.apikey.ApiKeyService;
import io.meshguard.db.TenantScope;
import io.meshguard.db.TenantScopedTransactions;
import io.meshguard.runtime.http.HttpServerSettings;
import io.meshguard.runtime.http.StatusHttpServer;
import io.meshguard.testing.AdminHttp;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.testing.TestIssuer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * extauthz's admin surfaces ({@code /quotas}, {@code /apikeys}) across tenants, as the controller's
 * AdminApiTenantsTest does for its own: random callers × random tenant-owned objects (quota counters, API keys) ×
 * every operation on an object, over real HTTP, real PostgreSQL (row-level security) and real OIDC tokens. An object
 * of a tenant the caller does not act for answers 404, exactly as a missing one, and nothing changes.
 */
@IntegrationTest
class ExtAuthzAdminTenantsTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    static final String BINDINGS = """
            claims: [groups]
            roles:
              system-admin:
                permissions: [quota:read, quota:adjust, quota:reset, apikey:read, apikey:create, apikey:rotate,
                              apikey:revoke]
              org-admin:
                permissions: [quota:read, quota:adjust, quota:reset, apikey:read, apikey:create, apikey:rotate,
                              apikey:revoke]
            bindings:
              - {match: platform-admins, role: system-admin, scope: system}
              - {match: acme-admins, role: org-admin, scope: "tenant:acme"}
              - {match: globex-admins, role: org-admin, scope: "tenant:globex"}
              - {match: visitors, role: org-admin, scope: "tenant:emptyco"}
            """;
    static final Map<String, List<String>> GROUPS = Map.of(
            "ops", List.of("platform-admins"),
            "acme-admin", List.of("acme-admins"),
            "globex-admin", List.of("globex-admins"),
            "both-admin", List.of("acme-admins", "globex-admins"),
            "nobody", List.of("visitors"));
    static final Map<String, Set<String>> TENANTS = Map.of(
            "acme-admin", Set.of("acme"),
            "globex-admin", Set.of("globex"),
            "both-admin", Set.of("acme", "globex"),
            "nobody", Set.of("emptyco"));

    /** An object: its tenant ("" for counters no tenant owns) and its kind's path. */
    record Owned(String tenant, String kind, String quota, String id) {}

    static TestIssuer issuer;
    static StatusHttpServer http;
    static final List<Owned> OBJECTS = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        issuer = new TestIssuer();
        PG.dsl().execute("insert into tenant (id) values ('acme'), ('globex') on conflict do nothing");
        JdbcApiKeyStore keys = new JdbcApiKeyStore(PG.dataSource());
        ApiKeyService service = new ApiKeyService(keys, Clock.systemUTC());
        AuthzPolicy policy = QuotaTestSupport.policy("""
                quotas:
                  - {name: daily, per: api_key, period: day, timezone: UTC, limits: {free: 100}}
                  - {name: monthly, per: tenant, period: month, timezone: UTC, limits: {free: 1000}}
                """);
        QuotaOperations ops = new QuotaOperations(
                new QuotaStore(PG.dataSource()),
                Optional::empty,
                new LiveCounters("tenants-test", Duration.ofSeconds(1)),
                QuotaAudit.logOnly(),
                Clock.systemUTC());
        AdminGate gate = AdminGate.people(
                new AdminTokenVerifier(
                        new AdminTokenVerifier.Settings(issuer.issuer(), "meshguard-admin", Duration.ofSeconds(30))),
                RoleBindings.parse("bindings", BINDINGS),
                new LoggedAdminEvents(),
                "quota.admin.token_file");
        http = new StatusHttpServer(
                "extauthz-tenants",
                HttpServerSettings.onPort(0),
                new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
        http.addHandler(
                QuotaAdminApi.PREFIX,
                new QuotaAdminApi(
                        () -> Optional.of(policy), Optional.of(ops), gate, new QuotaOwners(Optional.of(keys))));
        http.addHandler(
                ApiKeyAdminApi.PREFIX,
                new ApiKeyAdminApi(Optional.of(keys), Clock.systemUTC(), gate, Optional.empty()));
        http.start();
        for (String tenant : List.of("acme", "globex")) {
            for (int i = 0; i < 2; i++) {
                String keyId = service.create(
                                tenant + "-key-" + i,
                                tenant + "-team",
                                tenant,
                                List.of(),
                                List.of(),
                                "free",
                                Optional.empty())
                        .key()
                        .keyId();
                OBJECTS.add(new Owned(tenant, "apikey", "", keyId));
                OBJECTS.add(new Owned(tenant, "counter", "daily", "api_key:" + keyId));
                ops.adjust(policy.quotas().get(0), "api_key:" + keyId, 3, "setup", "test", "seed", "r0");
            }
            OBJECTS.add(new Owned(tenant, "counter", "monthly", "tenant:" + tenant));
            ops.adjust(policy.quotas().get(1), "tenant:" + tenant, 7, "setup", "test", "seed", "r0");
        }
        // a counter no tenant owns: a token caller counted per subject
        OBJECTS.add(new Owned("", "counter", "daily", "subject:https://idp.example/alice"));
        ops.adjust(policy.quotas().get(0), "subject:https://idp.example/alice", 2, "setup", "test", "seed", "r0");
    }

    @AfterAll
    static void stop() {
        http.close();
        issuer.close();
    }

    static HttpResponse<String> call(String caller, String method, String path, String body) throws Exception {
        return AdminHttp.send(
                http.port(), issuer.accessToken(caller, "meshguard-admin", GROUPS.get(caller)), method, path, body);
    }

    /** Every operation on one object: method, path, body. */
    static List<String[]> operations(Owned o) {
        if (o.kind().equals("apikey")) {
            return List.of(
                    new String[] {"GET", "/apikeys/" + o.id(), null},
                    new String[] {"POST", "/apikeys/" + o.id() + "/rotate", "{\"grace_seconds\": 60, \"reason\": \"x\"}"
                    },
                    new String[] {"POST", "/apikeys/" + o.id() + "/revoke", "{\"reason\": \"x\"}"});
        }
        String caller = "\"caller\": \"" + o.id() + "\"";
        return List.of(
                new String[] {
                    "GET", "/quotas/" + o.quota() + "?caller=" + URLEncoder.encode(o.id(), StandardCharsets.UTF_8), null
                },
                new String[] {
                    "POST", "/quotas/" + o.quota() + "/adjust", "{" + caller + ", \"delta\": 50, \"reason\": \"x\"}"
                },
                new String[] {"POST", "/quotas/" + o.quota() + "/reset", "{" + caller + ", \"reason\": \"x\"}"});
    }

    /** Everything the operations could change, as one text. */
    static String state() {
        return PG.dsl()
                        .fetch("select quota, caller, used from quota_usage order by 1, 2")
                        .formatCSV()
                + PG.dsl().fetch("select count(*) from quota_adjustment").formatCSV()
                + PG.dsl()
                        .fetch("select key_id, revoked_at, expires_at from api_keys order by 1")
                        .formatCSV();
    }

    @Test
    void randomCallersAndObjects_neverReadOrWriteQuotasOrKeysAcrossTenants() throws Exception {
        Random random = new Random(20261123L);
        List<String> callers = List.of("acme-admin", "globex-admin", "both-admin", "nobody");
        int crossTenantAttempts = 0;
        for (int i = 0; i < 120; i++) {
            String caller = callers.get(random.nextInt(callers.size()));
            Owned object = OBJECTS.get(random.nextInt(OBJECTS.size()));
            if (TENANTS.get(caller).contains(object.tenant())) {
                continue;
            }
            crossTenantAttempts++;
            String[] op = operations(object).get(random.nextInt(3));
            String before = state();
            HttpResponse<String> r = call(caller, op[0], op[1], op[2]);
            // a counter's change is the bank's alone: refused to every tenant grant alike, so nothing is learnt
            int expected = object.kind().equals("counter") && op[0].equals("POST") ? 403 : 404;
            assertThat(r.statusCode())
                    .as("%s %s %s: %s", caller, op[0], op[1], r.body())
                    .isEqualTo(expected);
            assertThat(r.body()).as("a refusal names nothing of the object").doesNotContain("\"used\"", "\"owner\"");
            assertThat(state()).as("after %s %s %s", caller, op[0], op[1]).isEqualTo(before);
        }
        assertThat(crossTenantAttempts).isGreaterThan(50);
    }

    @Test
    void aTenantsAdmin_readsAndChangesItsOwnCounters_andAMissingOneLooksTheSameAsAnothers() throws Exception {
        Owned acmeCounter = OBJECTS.stream()
                .filter(o -> o.tenant().equals("acme") && o.quota().equals("monthly"))
                .findFirst()
                .orElseThrow();
        HttpResponse<String> shown =
                call("acme-admin", "GET", operations(acmeCounter).get(0)[1], null);
        assertThat(shown.statusCode()).as(shown.body()).isEqualTo(200);
        assertThat(new ObjectMapper().readTree(shown.body()).get("used").asLong())
                .isGreaterThanOrEqualTo(7);
        HttpResponse<String> adjusted = call(
                "ops",
                "POST",
                "/quotas/monthly/adjust",
                "{\"caller\": \"tenant:acme\", \"delta\": 1, \"reason\": \"ticket 9\"}");
        assertThat(adjusted.statusCode()).as(adjusted.body()).isEqualTo(200);
        HttpResponse<String> missing = call("acme-admin", "GET", "/quotas/daily?caller=api_key:0000000000000000", null);
        HttpResponse<String> others = call("acme-admin", "GET", "/quotas/monthly?caller=tenant:globex", null);
        assertThat(List.of(missing.statusCode(), others.statusCode())).containsOnly(404);
        assertThat(call("ops", "GET", "/quotas/monthly?caller=tenant:globex", null)
                        .statusCode())
                .isEqualTo(200);
        assertThat(call("ops", "GET", "/quotas/daily?caller=subject:https://idp.example/alice", null)
                        .statusCode())
                .as("a counter no tenant owns is the operators'")
                .isEqualTo(200);
        assertThat(call("acme-admin", "GET", "/quotas", null).statusCode())
                .as("the definitions are everyone's")
                .isEqualTo(200);
    }

    /**
     * The bank's policy quotas limit the tenant: its own admin moving its counter (−500 gives 500 calls back) or
     * resetting it would lift the limit the bank set. Only a system-scope caller changes a counter.
     */
    @Test
    void aTenantsAdmin_adjustsOrResetsItsOwnCounter_refused403AndNothingChanges() throws Exception {
        for (String caller : List.of("acme-admin", "both-admin")) {
            for (String[] op : List.of(
                    new String[] {
                        "/quotas/monthly/adjust", "{\"caller\": \"tenant:acme\", \"delta\": -500, \"reason\": \"x\"}"
                    },
                    new String[] {"/quotas/monthly/reset", "{\"caller\": \"tenant:acme\", \"reason\": \"x\"}"})) {
                String before = state();
                HttpResponse<String> r = call(caller, "POST", op[0], op[1]);
                assertThat(r.statusCode())
                        .as("%s %s: %s", caller, op[0], r.body())
                        .isEqualTo(403);
                assertThat(r.body()).contains("system");
                assertThat(state()).isEqualTo(before);
            }
        }
        HttpResponse<String> byOperator = call(
                "ops",
                "POST",
                "/quotas/monthly/adjust",
                "{\"caller\": \"tenant:acme\", \"delta\": -1, \"reason\": \"ticket 10\"}");
        assertThat(byOperator.statusCode()).as(byOperator.body()).isEqualTo(200);
    }

    /**
     * What a key may do toward the bank's rules (roles, scopes) and which limits it counts under (tier) are granted by
     * the bank: a tenant's admin naming any of them is refused, and nothing is created.
     */
    @Test
    void aTenantsAdmin_createsAKeyNamingRolesScopesOrTier_refused403AndNoKeyExists() throws Exception {
        for (String grant : List.of(
                "\"roles\": [\"statements-reader\"]", "\"scopes\": [\"payments:write\"]", "\"tier\": \"enterprise\"")) {
            String before = state();
            HttpResponse<String> r = call(
                    "acme-admin",
                    "POST",
                    "/apikeys",
                    "{\"name\": \"self-minted\", \"owner\": \"acme-team\", \"tenant\": \"acme\", " + grant + "}");
            assertThat(r.statusCode()).as("%s: %s", grant, r.body()).isEqualTo(403);
            assertThat(r.body()).contains("granted by the bank");
            assertThat(state()).isEqualTo(before);
        }
    }

    @Test
    void aTenantsAdmin_createsAPlainKey_itCarriesNoRolesScopesOrTierOfItsOwn() throws Exception {
        HttpResponse<String> r = call(
                "acme-admin",
                "POST",
                "/apikeys",
                "{\"name\": \"plain\", \"owner\": \"acme-team\", \"tenant\": \"acme\"}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        var created = new ObjectMapper().readTree(r.body());
        assertThat(created.get("roles")).isEmpty();
        assertThat(created.get("scopes")).isEmpty();
        assertThat(created.get("tier").asText()).isEmpty();
        var identity = new io.meshguard.authz.apikey.ApiKeyAuthenticator(
                        new JdbcApiKeyStore(PG.dataSource()), Clock.systemUTC(), Duration.ofSeconds(1))
                .authenticate(created.get("key").asText());
        assertThat(identity)
                .isInstanceOfSatisfying(io.meshguard.authz.request.AuthResult.Authenticated.class, a -> assertThat(
                                a.identity().tier())
                        .as("the policy's tenant_tiers or default_tier decide")
                        .isEmpty());
    }

    @Test
    void anOperator_grantsRolesScopesAndTier() throws Exception {
        HttpResponse<String> r = call(
                "ops",
                "POST",
                "/apikeys",
                "{\"name\": \"partner\", \"owner\": \"acme-team\", "
                        + "\"tenant\": \"acme\", \"tier\": \"premium\", \"roles\": [\"statements-reader\"], \"scopes\": [\"a:b\"]}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        var created = new ObjectMapper().readTree(r.body());
        assertThat(created.get("tier").asText()).isEqualTo("premium");
        assertThat(created.get("roles").get(0).asText()).isEqualTo("statements-reader");
    }

    /** The second lock: PostgreSQL itself (V47) confines quota rows to a scoped transaction's tenants. */
    @Test
    void postgres_confinesQuotaRowsToTheCallersTenants_evenWithoutTheApisCheck() throws Exception {
        TenantScope acme = TenantScope.of(Set.of("acme"));
        Set<String> acmeCounters = OBJECTS.stream()
                .filter(o -> o.kind().equals("counter") && o.tenant().equals("acme"))
                .map(Owned::id)
                .collect(Collectors.toSet());
        Set<String> usage = new TenantScopedTransactions(PG.dataSource()).inScope(acme, c -> callers(c, "quota_usage"));
        Set<String> history =
                new TenantScopedTransactions(PG.dataSource()).inScope(acme, c -> callers(c, "quota_adjustment"));
        assertThat(usage).isEqualTo(acmeCounters);
        assertThat(history).isEqualTo(acmeCounters);
        QuotaStore store = new QuotaStore(PG.dataSource());
        QuotaKey globex = new QuotaKey(
                "monthly", "tenant:globex", LocalDate.now(ZoneOffset.UTC).withDayOfMonth(1));
        String before = state();
        assertThatThrownBy(() -> store.change(
                        acme,
                        globex,
                        "month",
                        Instant.now().plus(Duration.ofDays(31)),
                        "adjust",
                        1,
                        "mallory",
                        "test",
                        "bypassing the API"))
                .isInstanceOf(QuotaStore.UnavailableException.class)
                .hasMessageContaining("row-level security");
        assertThat(store.used(acme, List.of(globex))).containsEntry(globex, 0L);
        assertThat(store.changes(acme, globex)).isEmpty();
        assertThat(state()).isEqualTo(before);
    }

    private static Set<String> callers(Connection c, String table) throws SQLException {
        Set<String> out = new java.util.TreeSet<>();
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("select caller from " + table)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }
}
