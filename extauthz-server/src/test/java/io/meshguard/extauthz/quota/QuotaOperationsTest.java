package io.meshguard.extauthz.quota;

import static io.meshguard.extauthz.quota.QuotaTestSupport.apiKeyCaller;
import static io.meshguard.extauthz.quota.QuotaTestSupport.policy;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshguard.audit.AuditEvent;
import io.meshguard.authz.policy.AuthzPolicy;
import io.meshguard.authz.policy.QuotaPolicy;
import io.meshguard.authz.request.Identity;
import io.meshguard.extauthz.redis.RedisConnection;
import io.meshguard.runtime.http.BearerTokens;
import io.meshguard.runtime.http.HttpServerSettings;
import io.meshguard.runtime.http.StatusHttpServer;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.MovableClock;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.testing.SharedRedis;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Operators' show, adjust and reset: on the live Redis counter and in PostgreSQL, audited, over the admin endpoint. */
@IntegrationTest
class QuotaOperationsTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @TempDir
    Path tmp;

    private final MovableClock clock = new MovableClock(Instant.parse("2026-11-22T03:00:00Z"));
    private final QuotaTestSupport.AuditLog audit = new QuotaTestSupport.AuditLog();
    private final String prefix = SharedRedis.keyPrefix(QuotaOperationsTest.class);
    private final QuotaStore store = new QuotaStore(PG.dataSource());
    private final AuthzPolicy policy = policy("""
            quotas:
              - {name: daily, per: api_key, period: day, timezone: Asia/Seoul, limits: {free: 10}}
            """);
    private final QuotaPolicy daily = policy.quotas().get(0);
    private RedisConnection redis;
    private QuotaCounter counter;
    private QuotaOperations ops;

    @BeforeEach
    void setUp() {
        redis = QuotaTestSupport.connect(SharedRedis.get().url(), prefix);
        LiveCounters live = new LiveCounters(prefix, Duration.ofSeconds(2));
        counter = new QuotaCounter(
                Optional.of(store),
                () -> Optional.of(redis),
                live,
                audit.audit(),
                clock,
                System::nanoTime,
                QuotaTestSupport.settings(),
                new io.micrometer.core.instrument.simple.SimpleMeterRegistry());
        ops = new QuotaOperations(store, () -> Optional.of(redis), live, audit.audit(), clock);
    }

    @AfterEach
    void tearDown() {
        redis.close();
    }

    private static Identity caller() {
        return apiKeyCaller(UUID.randomUUID().toString().substring(0, 16), "acme", "free");
    }

    private int admitted(Identity id, int attempts) {
        int n = 0;
        for (int i = 0; i < attempts; i++) {
            if (counter.charge(policy, "api", id, Optional.empty()).blocked().isEmpty()) {
                n++;
            }
        }
        return n;
    }

    @Test
    void reset_givesTheWholeQuotaBack_liveAtOnce_andPostgresOnceReplicasFlush() throws Exception {
        Identity id = caller();
        String key = QuotaCallers.of(QuotaPolicy.Per.API_KEY, id);
        assertThat(admitted(id, 10)).isEqualTo(10);
        counter.flush();
        assertThat(admitted(id, 2)).isZero();
        QuotaOperations.Applied applied = ops.reset(daily, key, "alice", "cli", "customer escalation #4711", "req-1");
        assertThat(applied.live()).hasValue(0);
        assertThat(applied.change().delta()).isEqualTo(-10);
        assertThat(admitted(id, 12)).isEqualTo(10);
        counter.flush();
        QuotaOperations.Standing s = ops.show(daily, key);
        assertThat(s.durable()).isEqualTo(10);
        assertThat(s.live()).hasValue(10);
        assertThat(s.changes()).singleElement().satisfies(c -> {
            assertThat(c.action()).isEqualTo("reset");
            assertThat(c.actor()).isEqualTo("alice");
            assertThat(c.via()).isEqualTo("cli");
            assertThat(c.reason()).isEqualTo("customer escalation #4711");
            assertThat(c.usedBefore()).isEqualTo(10);
            assertThat(c.usedAfter()).isZero();
        });
        AuditEvent event = audit.quotaEvents("reset").get(0);
        assertThat(event.subject()).hasValue("alice");
        assertThat(event.requestId()).hasValue("req-1");
        assertThat(event.details())
                .containsEntry("caller", key)
                .containsEntry("delta", "-10")
                .containsEntry("why", "customer escalation #4711");
    }

    @Test
    void reset_thenRedisAwayForThisReplica_admitsAtOnce_notOnTheCountFromBeforeTheReset() throws Exception {
        RedisConnection replicasRedis =
                QuotaTestSupport.connect(SharedRedis.get().url(), prefix);
        QuotaCounter replica = new QuotaCounter(
                Optional.of(store),
                () -> Optional.of(replicasRedis),
                new LiveCounters(prefix, Duration.ofSeconds(2)),
                audit.audit(),
                clock,
                System::nanoTime,
                QuotaTestSupport.settings(),
                new io.micrometer.core.instrument.simple.SimpleMeterRegistry());
        QuotaOperations served = new QuotaOperations(
                store,
                () -> Optional.of(redis),
                new LiveCounters(prefix, Duration.ofSeconds(2)),
                audit.audit(),
                clock,
                replica::changedByOperator);
        Identity id = caller();
        String key = QuotaCallers.of(QuotaPolicy.Per.API_KEY, id);
        for (int i = 0; i < 10; i++) {
            assertThat(replica.charge(policy, "api", id, Optional.empty()).blocked())
                    .isEmpty();
        }
        replica.flush();
        assertThat(replica.charge(policy, "api", id, Optional.empty()).blocked())
                .isPresent();

        served.reset(daily, key, "alice", "admin_api", "customer escalation", "req-2");
        // the next Check finds this replica's Redis gone and counts from PostgreSQL, which has the reset
        replicasRedis.close();

        assertThat(replica.charge(policy, "api", id, Optional.empty()).blocked())
                .as("a Check right after the reset, counted locally")
                .isEmpty();
    }

    @Test
    void adjust_movesTheLiveCounter_bothWays() throws Exception {
        Identity id = caller();
        String key = QuotaCallers.of(QuotaPolicy.Per.API_KEY, id);
        assertThat(admitted(id, 4)).isEqualTo(4);
        assertThat(ops.adjust(daily, key, 5, "bob", "cli", "abuse: charge the scraped calls", "r")
                        .live())
                .hasValue(9);
        assertThat(admitted(id, 5)).isEqualTo(1);
        assertThat(ops.adjust(daily, key, -3, "bob", "cli", "goodwill credit", "r")
                        .live())
                .hasValue(7);
        assertThat(admitted(id, 5)).isEqualTo(3);
        counter.flush();
        assertThat(ops.show(daily, key).durable()).isEqualTo(10);
        assertThat(audit.quotaEvents("adjust")).hasSize(2);
    }

    @Test
    void adjustAndReset_areRowsOfTheAdminTrail_whichVerifies() throws Exception {
        io.meshguard.audit.trail.AdminTrail trail = new io.meshguard.audit.trail.AdminTrail(PG.dataSource());
        QuotaOperations trailed = new QuotaOperations(
                store,
                () -> Optional.of(redis),
                new LiveCounters(prefix, Duration.ofSeconds(2)),
                new TrailedQuotaAudit(audit.audit(), trail),
                clock);
        String key = QuotaCallers.of(QuotaPolicy.Per.API_KEY, caller());
        long adjustId = trailed.adjust(daily, key, 5, "bob", "admin_api", "charge the scraped calls", "req-q1")
                .change()
                .id();
        trailed.reset(daily, key, "bob", "admin_api", "goodwill", "req-q2");
        try (var c = PG.dataSource().getConnection();
                var ps = c.prepareStatement(
                        "select action, target, details->>'change_id' from admin_trail where request_id in ('req-q1', 'req-q2') "
                                + "order by seq");
                var rs = ps.executeQuery()) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("quota_adjust");
            assertThat(rs.getString(2)).isEqualTo("quotas/daily/" + key);
            assertThat(rs.getString(3)).isEqualTo(Long.toString(adjustId));
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("quota_reset");
        }
        assertThat(new io.meshguard.audit.trail.AdminTrailVerifier(PG.dataSource())
                        .verify(Optional.empty())
                        .intact())
                .isTrue();
    }

    @Test
    void adjust_ofACounterRedisDoesNotHold_reachesTheNextSeed() throws Exception {
        Identity id = caller();
        String key = QuotaCallers.of(QuotaPolicy.Per.API_KEY, id);
        QuotaOperations.Applied applied = ops.adjust(daily, key, 8, "carol", "admin_api", "prepaid usage", "r");
        assertThat(applied.live()).isEmpty();
        assertThat(applied.liveNote()).contains("seeds it from PostgreSQL");
        assertThat(admitted(id, 5)).isEqualTo(2);
    }

    @Test
    void adjustAndReset_nearTheEndsOfALong_areRefused_neverWrapped() throws Exception {
        String key = "api_key:" + UUID.randomUUID().toString().substring(0, 16);
        // a counter Redis does not hold: the reset below reads PostgreSQL's count
        QuotaKey qk = ops.adjust(daily, key, 1, "bob", "cli", "open the counter", "r")
                .change()
                .key();
        setUsed(qk, Long.MAX_VALUE - 5);
        assertThatThrownBy(() -> ops.adjust(daily, key, 10, "bob", "cli", "why", "r"))
                .hasMessageContaining("64-bit");
        assertThat(ops.show(daily, key).durable()).isEqualTo(Long.MAX_VALUE - 5);
        setUsed(qk, Long.MIN_VALUE + 5);
        assertThatThrownBy(() -> ops.adjust(daily, key, -10, "bob", "cli", "why", "r"))
                .hasMessageContaining("64-bit");
        assertThat(ops.show(daily, key).durable()).isEqualTo(Long.MIN_VALUE + 5);
        setUsed(qk, Long.MIN_VALUE);
        assertThatThrownBy(() -> ops.reset(daily, key, "bob", "cli", "why", "r"))
                .hasMessageContaining("cannot be reset");
        assertThat(ops.show(daily, key).durable()).isEqualTo(Long.MIN_VALUE);
        assertThat(ops.show(daily, key).changes()).hasSize(1);
    }

    private static void setUsed(QuotaKey key, long used) throws Exception {
        try (var c = PG.dataSource().getConnection();
                var s = c.prepareStatement(
                        "UPDATE quota_usage SET used = ? WHERE quota = ? AND caller = ? AND period_start = ?")) {
            s.setLong(1, used);
            s.setString(2, key.quota());
            s.setString(3, key.caller());
            s.setObject(4, key.periodStart());
            assertThat(s.executeUpdate()).isEqualTo(1);
        }
    }

    @Test
    void badInput_isRefused_andChangesNothing() throws Exception {
        String key = "api_key:" + UUID.randomUUID().toString().substring(0, 16);
        assertThatThrownBy(() -> ops.adjust(daily, key, 5, "bob", "cli", " ", "r"))
                .hasMessageContaining("a reason is required");
        assertThatThrownBy(() -> ops.adjust(daily, key, 5, "bob", "cli", "line\nbreak", "r"))
                .hasMessageContaining("one line");
        assertThatThrownBy(() -> ops.adjust(daily, key, 0, "bob", "cli", "why", "r"))
                .hasMessageContaining("non-zero");
        // the bound holds both ways, at the extremes of a long too (Math.abs(Long.MIN_VALUE) is negative)
        for (long delta :
                new long[] {Long.MIN_VALUE, Long.MIN_VALUE + 1, Long.MAX_VALUE, -1_000_000_000_001L, 1_000_000_000_001L
                }) {
            assertThatThrownBy(() -> ops.adjust(daily, key, delta, "bob", "cli", "why", "r"))
                    .as("delta %d", delta)
                    .hasMessageContaining("up to 1000000000000 either way");
        }
        assertThatThrownBy(() -> ops.adjust(daily, "bob", 1, "bob", "cli", "why", "r"))
                .hasMessageContaining("caller must be");
        assertThatThrownBy(() -> ops.reset(daily, key, "", "cli", "why", "r"))
                .hasMessageContaining("who makes the change");
        assertThat(ops.show(daily, key).changes()).isEmpty();
        assertThat(audit.events).isEmpty();
    }

    @Test
    void adminEndpoint_needsAToken_auditsTheTokensName_andRefusesBadRequests() throws Exception {
        Path tokens = tmp.resolve("tokens");
        Files.writeString(tokens, "ops-alice:" + "a".repeat(32) + "\n");
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        StatusHttpServer http = new StatusHttpServer("quota-test", new HttpServerSettings("127.0.0.1", 0), registry);
        http.addHandler(
                QuotaAdminApi.PREFIX,
                new QuotaAdminApi(() -> Optional.of(policy), Optional.of(ops), new BearerTokens(Optional.of(tokens))));
        http.start();
        try {
            HttpClient client = HttpClient.newHttpClient();
            String base = "http://127.0.0.1:" + http.port() + "/quotas";
            Identity id = caller();
            String key = QuotaCallers.of(QuotaPolicy.Per.API_KEY, id);
            assertThat(admitted(id, 6)).isEqualTo(6);
            String body = "{\"caller\":\"" + key + "\",\"reason\":\"ticket 77\"}";
            HttpResponse<String> anonymous = client.send(
                    HttpRequest.newBuilder(URI.create(base + "/daily/reset"))
                            .POST(HttpRequest.BodyPublishers.ofString(body))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(anonymous.statusCode()).isEqualTo(401);
            HttpResponse<String> wrong = client.send(
                    HttpRequest.newBuilder(URI.create(base + "/daily/reset"))
                            .header("Authorization", "Bearer " + "b".repeat(32))
                            .POST(HttpRequest.BodyPublishers.ofString(body))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(wrong.statusCode()).isEqualTo(401);
            assertThat(audit.events).isEmpty();

            String auth = "Bearer " + "a".repeat(32);
            HttpResponse<String> reset = client.send(
                    HttpRequest.newBuilder(URI.create(base + "/daily/reset"))
                            .header("Authorization", auth)
                            .header("x-request-id", "req-77")
                            .POST(HttpRequest.BodyPublishers.ofString(body))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(reset.statusCode()).as(reset.body()).isEqualTo(200);
            JsonNode json = new ObjectMapper().readTree(reset.body());
            assertThat(json.get("actor").asText()).isEqualTo("ops-alice");
            assertThat(json.get("via").asText()).isEqualTo("admin_api");
            assertThat(json.get("live").asLong()).isZero();
            assertThat(audit.quotaEvents("reset")).singleElement().satisfies(e -> {
                assertThat(e.subject()).hasValue("ops-alice");
                assertThat(e.requestId()).hasValue("req-77");
            });
            assertThat(admitted(id, 11)).isEqualTo(10);

            HttpResponse<String> shown = client.send(
                    HttpRequest.newBuilder(URI.create(
                                    base + "/daily?caller=" + URLEncoder.encode(key, StandardCharsets.UTF_8)))
                            .header("Authorization", auth)
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(shown.statusCode()).isEqualTo(200);
            JsonNode standing = new ObjectMapper().readTree(shown.body());
            assertThat(standing.get("used").asLong()).isEqualTo(10);
            assertThat(standing.get("timezone").asText()).isEqualTo("Asia/Seoul");
            assertThat(standing.get("changes")).hasSize(1);

            HttpResponse<String> list = client.send(
                    HttpRequest.newBuilder(URI.create(base))
                            .header("Authorization", auth)
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(new ObjectMapper()
                            .readTree(list.body())
                            .get(0)
                            .get("name")
                            .asText())
                    .isEqualTo("daily");

            for (String[] bad : List.of(
                    // a delta of the wrong type, or beyond a long, does not read: 400
                    new String[] {"/daily/adjust", "{\"caller\":\"" + key + "\",\"reason\":\"x\",\"delta\":1.5}", "400"
                    },
                    new String[] {
                        "/daily/adjust",
                        "{\"caller\":\"" + key + "\",\"reason\":\"x\",\"delta\":-9223372036854775809}",
                        "400"
                    },
                    // readable, but refused: out of range, or a required field missing (422)
                    new String[] {
                        "/daily/adjust",
                        "{\"caller\":\"" + key + "\",\"reason\":\"x\",\"delta\":-9223372036854775808}",
                        "422"
                    },
                    new String[] {
                        "/daily/adjust",
                        "{\"caller\":\"" + key + "\",\"reason\":\"x\",\"delta\":9223372036854775807}",
                        "422"
                    },
                    new String[] {"/daily/adjust", "{\"caller\":\"" + key + "\",\"delta\":3}", "422"},
                    new String[] {"/daily/adjust", "not json", "400"},
                    new String[] {"/nope/reset", body, "404"},
                    new String[] {"/daily/delete", body, "404"})) {
                HttpResponse<String> r = client.send(
                        HttpRequest.newBuilder(URI.create(base + bad[0]))
                                .header("Authorization", auth)
                                .POST(HttpRequest.BodyPublishers.ofString(bad[1]))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).as(bad[0] + " " + bad[1]).isEqualTo(Integer.parseInt(bad[2]));
            }
            assertThat(audit.events).hasSize(1);
        } finally {
            http.close();
        }
    }

    @Test
    void adminEndpoint_withoutATokenFile_isClosed() throws Exception {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        StatusHttpServer http = new StatusHttpServer("quota-test", new HttpServerSettings("127.0.0.1", 0), registry);
        http.addHandler(
                QuotaAdminApi.PREFIX,
                new QuotaAdminApi(() -> Optional.of(policy), Optional.of(ops), new BearerTokens(Optional.empty())));
        http.start();
        try {
            HttpResponse<String> r = HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http.port() + "/quotas"))
                                    .header("Authorization", "Bearer " + "a".repeat(32))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(503);
            assertThat(r.body()).contains("quota.admin.token_file");
        } finally {
            http.close();
        }
    }
}
