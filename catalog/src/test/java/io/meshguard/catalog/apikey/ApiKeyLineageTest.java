package io.meshguard.catalog.apikey;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshguard.access.AdminGate;
import io.meshguard.access.AdminTokenVerifier;
import io.meshguard.access.LoggedAdminEvents;
import io.meshguard.access.RoleBindings;
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
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A rotation renews a key's secret and nothing else: through the real admin API ({@code POST /apikeys/{id}/rotate})
 * on real PostgreSQL, a rotation never outlives the grant (expired, revoked and rotated-out keys are refused; the
 * successor keeps the predecessor's end) and never widens it (a key carrying the bank's roles, scopes or tier is
 * rotated only by a caller acting for every tenant; revoking a successor ends its predecessor's overlap too).
 */
@IntegrationTest
class ApiKeyLineageTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    static final String BINDINGS = """
            claims: [groups]
            roles:
              system-admin:
                permissions: [apikey:read, apikey:create, apikey:rotate, apikey:revoke]
              customer-admin:
                permissions: [apikey:read, apikey:create, apikey:rotate, apikey:revoke]
            bindings:
              - {match: platform-admins, role: system-admin, scope: system}
              - {match: acme-admins, role: customer-admin, scope: "tenant:acme"}
            """;
    static final Map<String, List<String>> GROUPS =
            Map.of("bank", List.of("platform-admins"), "acme-admin", List.of("acme-admins"));
    static final ObjectMapper JSON = new ObjectMapper();

    static TestIssuer issuer;
    static StatusHttpServer http;

    @BeforeAll
    static void start() throws Exception {
        issuer = new TestIssuer();
        PG.dsl().execute("insert into tenant (id) values ('acme') on conflict do nothing");
        AdminGate gate = AdminGate.people(
                new AdminTokenVerifier(
                        new AdminTokenVerifier.Settings(issuer.issuer(), "meshguard-admin", Duration.ofSeconds(30))),
                RoleBindings.parse("bindings", BINDINGS),
                new LoggedAdminEvents(),
                "admin.token_file");
        http = new StatusHttpServer(
                "apikey-lineage", HttpServerSettings.onPort(0), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
        http.addHandler(
                ApiKeyAdminApi.PREFIX,
                new ApiKeyAdminApi(
                        java.util.Optional.of(new JdbcApiKeyStore(PG.dataSource())),
                        Clock.systemUTC(),
                        gate,
                        java.util.Optional.empty()));
        http.start();
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

    /** A key the bank grants acme: the role {@code statements-reader}, ending in an hour. */
    static JsonNode bankGrant() throws Exception {
        return created(
                "bank",
                "{\"name\": \"partner\", \"owner\": \"acme-team\", \"tenant\": \"acme\", \"roles\":"
                        + " [\"statements-reader\"], \"expires_at\": \"" + inAnHour() + "\"}");
    }

    /** A key acme made itself (no roles, scopes or tier of its own), ending in an hour. */
    static JsonNode acmeKey() throws Exception {
        return created(
                "acme-admin",
                "{\"name\": \"own\", \"owner\": \"acme-team\", \"tenant\": \"acme\", \"expires_at\": \"" + inAnHour()
                        + "\"}");
    }

    static String inAnHour() {
        return Instant.now()
                .plus(Duration.ofHours(1))
                .truncatedTo(ChronoUnit.SECONDS)
                .toString();
    }

    static JsonNode created(String caller, String body) throws Exception {
        HttpResponse<String> r = call(caller, "POST", "/apikeys", body);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return JSON.readTree(r.body());
    }

    static HttpResponse<String> rotate(String caller, String keyId) throws Exception {
        return call(caller, "POST", "/apikeys/" + keyId + "/rotate", "{\"grace_seconds\": 600, \"reason\": \"test\"}");
    }

    /** The key's end passes (as an hour does): the row's expiry moved into the past. */
    static void expire(String keyId) {
        PG.dsl().execute("update api_keys set expires_at = now() - interval '1 minute' where key_id = ?", keyId);
    }

    static long successors(String keyId) {
        return PG.dsl()
                .fetchOne("select count(*) from api_keys where rotated_from = ?", keyId)
                .get(0, Long.class);
    }

    @Test
    void rotate_expiredKey_refused409_andNoSuccessorExists() throws Exception {
        for (String caller : List.of("acme-admin", "bank")) {
            String keyId = acmeKey().get("key_id").asText();
            expire(keyId);
            HttpResponse<String> r = rotate(caller, keyId);
            assertThat(r.statusCode()).as("%s: %s", caller, r.body()).isEqualTo(409);
            assertThat(r.body()).contains("expired");
            assertThat(successors(keyId)).isZero();
        }
    }

    @Test
    void rotate_expiredBankGrant_byTheTenant_refused_andByTheBank_refusedAsExpired() throws Exception {
        String keyId = bankGrant().get("key_id").asText();
        expire(keyId);
        assertThat(rotate("acme-admin", keyId).statusCode()).isEqualTo(403);
        assertThat(rotate("bank", keyId).statusCode()).isEqualTo(409);
        assertThat(successors(keyId)).isZero();
    }

    @Test
    void rotate_bankGrantedKey_byTheTenantsAdmin_refused403() throws Exception {
        String keyId = bankGrant().get("key_id").asText();
        HttpResponse<String> r = rotate("acme-admin", keyId);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(403);
        assertThat(r.body()).contains("granted by the bank");
        assertThat(successors(keyId)).isZero();
    }

    @Test
    void rotate_bankGrantedKey_byTheBank_keepsRoleAndEnd() throws Exception {
        JsonNode key = bankGrant();
        HttpResponse<String> r = rotate("bank", key.get("key_id").asText());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode successor = JSON.readTree(r.body());
        assertThat(successor.get("roles").get(0).asText()).isEqualTo("statements-reader");
        assertThat(Instant.parse(successor.get("expires_at").asText()))
                .isEqualTo(Instant.parse(key.get("expires_at").asText()));
    }

    @Test
    void rotate_keepsThePredecessorsEnd_andTheOverlapEndsNoLaterThanIt() throws Exception {
        JsonNode key = acmeKey();
        HttpResponse<String> r = call(
                "acme-admin",
                "POST",
                "/apikeys/" + key.get("key_id").asText() + "/rotate",
                "{\"grace_seconds\": " + Duration.ofDays(2).toSeconds() + ", \"reason\": \"test\"}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode successor = JSON.readTree(r.body());
        Instant end = Instant.parse(key.get("expires_at").asText());
        assertThat(successor.has("expires_at"))
                .as("a successor without an end outlives the grant")
                .isTrue();
        assertThat(Instant.parse(successor.get("expires_at").asText())).isEqualTo(end);
        assertThat(Instant.parse(successor.get("predecessor_valid_until").asText()))
                .isEqualTo(end);
    }

    @Test
    void rotate_rotatedOutKey_refused409_evenAfterItsSuccessorWasRevoked() throws Exception {
        String keyId = acmeKey().get("key_id").asText();
        HttpResponse<String> first = rotate("acme-admin", keyId);
        assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
        String successor = JSON.readTree(first.body()).get("key_id").asText();

        HttpResponse<String> again = rotate("acme-admin", keyId);
        assertThat(again.statusCode()).as(again.body()).isEqualTo(409);
        assertThat(again.body()).contains("rotated out");

        assertThat(call("bank", "POST", "/apikeys/" + successor + "/revoke", "{\"reason\": \"grant ended\"}")
                        .statusCode())
                .isEqualTo(200);
        HttpResponse<String> afterRevoke = rotate("acme-admin", keyId);
        assertThat(afterRevoke.statusCode()).as(afterRevoke.body()).isEqualTo(409);
        assertThat(successors(keyId)).isEqualTo(1);
    }

    @Test
    void rotate_revokedKey_refused409() throws Exception {
        String keyId = acmeKey().get("key_id").asText();
        assertThat(call("acme-admin", "POST", "/apikeys/" + keyId + "/revoke", "{\"reason\": \"x\"}")
                        .statusCode())
                .isEqualTo(200);
        HttpResponse<String> r = rotate("acme-admin", keyId);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(409);
        assertThat(r.body()).contains("revoked");
        assertThat(successors(keyId)).isZero();
    }

    @Test
    void revoke_successor_endsThePredecessorsOverlapToo() throws Exception {
        String keyId = acmeKey().get("key_id").asText();
        String successor =
                JSON.readTree(rotate("acme-admin", keyId).body()).get("key_id").asText();
        assertThat(call("bank", "POST", "/apikeys/" + successor + "/revoke", "{\"reason\": \"grant ended\"}")
                        .statusCode())
                .isEqualTo(200);
        JsonNode predecessor = JSON.readTree(
                call("acme-admin", "GET", "/apikeys/" + keyId, null).body());
        assertThat(predecessor.has("revoked_at"))
                .as("the predecessor in its overlap carries the revoked grant on: %s", predecessor)
                .isTrue();
    }

    @Test
    void rotate_concurrently_oneSuccessorOnly() throws Exception {
        String keyId = acmeKey().get("key_id").asText();
        ExecutorService pool = Executors.newFixedThreadPool(6);
        try {
            List<Future<HttpResponse<String>>> answers = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                answers.add(pool.submit((Callable<HttpResponse<String>>) () -> rotate("acme-admin", keyId)));
            }
            List<Integer> statuses = new ArrayList<>();
            for (Future<HttpResponse<String>> f : answers) {
                statuses.add(f.get().statusCode());
            }
            assertThat(statuses).containsOnly(200, 409).containsOnlyOnce(200);
        } finally {
            pool.shutdown();
        }
        assertThat(successors(keyId)).isEqualTo(1);
    }
}
