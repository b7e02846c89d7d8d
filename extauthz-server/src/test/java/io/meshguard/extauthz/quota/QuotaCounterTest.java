package io.meshguard.extauthz.quota;

import static io.meshguard.extauthz.quota.QuotaTestSupport.apiKeyCaller;
import static io.meshguard.extauthz.quota.QuotaTestSupport.policy;
import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.api.sync.RedisCommands;
import io.meshguard.authz.policy.AuthzPolicy;
import io.meshguard.authz.quota.QuotaVerdict;
import io.meshguard.authz.request.Identity;
import io.meshguard.extauthz.redis.RedisConnection;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.MovableClock;
import io.meshguard.testing.OwnRedis;
import io.meshguard.testing.PostgresExtension;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Calendar quotas counted in a real Redis and a real PostgreSQL: resets at local midnight and on the 1st, block and
 * allow_and_flag, alerts once, a FLUSHALL and a restart of Redis, several replicas sharing one quota.
 */
@IntegrationTest
class QuotaCounterTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    /** A server of this class's own: the tests flush and restart it. */
    @RegisterExtension
    static final OwnRedis REDIS = new OwnRedis();

    private final MovableClock clock = new MovableClock(Instant.parse("2026-11-22T03:00:00Z"));
    private final QuotaTestSupport.AuditLog audit = new QuotaTestSupport.AuditLog();
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final String prefix = "t:" + UUID.randomUUID() + ":";
    private final List<RedisConnection> connections = new ArrayList<>();
    private final QuotaStore store = new QuotaStore(PG.dataSource());

    @AfterEach
    void closeConnections() {
        connections.forEach(RedisConnection::close);
    }

    private RedisConnection redis() {
        RedisConnection c = QuotaTestSupport.connect(REDIS.server().endpoint().url(), prefix);
        connections.add(c);
        return c;
    }

    /** One replica's counter on the shared PostgreSQL and, if given, the shared Redis. */
    private QuotaCounter replica(Optional<RedisConnection> redis) {
        return new QuotaCounter(
                Optional.of(store),
                () -> redis,
                new LiveCounters(prefix, Duration.ofMillis(500)),
                audit.audit(),
                clock,
                System::nanoTime,
                QuotaTestSupport.settings(),
                registry);
    }

    private static Identity caller() {
        return apiKeyCaller(UUID.randomUUID().toString().substring(0, 16), "acme-" + UUID.randomUUID(), "free");
    }

    private static boolean allowed(QuotaCounter c, AuthzPolicy p, Identity id) {
        return c.charge(p, "api", id, Optional.empty()).blocked().isEmpty();
    }

    private static int admitted(QuotaCounter c, AuthzPolicy p, Identity id, int attempts) {
        int n = 0;
        for (int i = 0; i < attempts; i++) {
            if (allowed(c, p, id)) {
                n++;
            }
        }
        return n;
    }

    private long durable(String quota, Identity id, LocalDate start) throws Exception {
        QuotaKey key =
                new QuotaKey(quota, QuotaCallers.of(io.meshguard.authz.policy.QuotaPolicy.Per.API_KEY, id), start);
        return store.used(List.of(key)).get(key);
    }

    private double counter(String name, String... tags) {
        var c = registry.find(name).tags(tags).counter();
        return c == null ? 0 : c.count();
    }

    static final String SEOUL_DAY_5 = """
            quotas:
              - {name: seoul-daily, per: api_key, period: day, timezone: Asia/Seoul, limits: {free: 5, premium: 50, enterprise: unlimited}}
            """;

    @Test
    void block_admitsExactlyTheLimit_thenRefusesWithRetryAfterUntilSeoulMidnight_thenResets() throws Exception {
        AuthzPolicy p = policy(SEOUL_DAY_5);
        QuotaCounter c = replica(Optional.of(redis()));
        Identity id = caller();
        clock.set(Instant.parse("2026-11-22T14:00:00Z")); // 23:00 in Seoul
        assertThat(admitted(c, p, id, 5)).isEqualTo(5);
        QuotaVerdict refused = c.charge(p, "api", id, Optional.empty());
        assertThat(refused.blocked()).hasValueSatisfying(b -> {
            assertThat(b.quota()).isEqualTo("seoul-daily");
            assertThat(b.limit()).isEqualTo(5);
            assertThat(b.retryAfterSeconds()).isEqualTo(3600);
            assertThat(b.storeUnavailable()).isFalse();
        });
        clock.set(Instant.parse("2026-11-22T14:59:59Z"));
        assertThat(allowed(c, p, id)).isFalse();
        clock.set(Instant.parse("2026-11-22T15:00:00Z")); // midnight in Seoul: a new day
        assertThat(admitted(c, p, id, 7)).isEqualTo(5);
        c.flush();
        assertThat(durable("seoul-daily", id, LocalDate.parse("2026-11-22"))).isEqualTo(5);
        assertThat(durable("seoul-daily", id, LocalDate.parse("2026-11-23"))).isEqualTo(5);
        assertThat(counter("meshguard_quota_exceeded_total", "quota", "seoul-daily", "action", "block"))
                .isEqualTo(4);
    }

    @Test
    void monthQuota_inNewYork_resetsAtLocalMidnightOfTheFirst_afterTheDstChange() throws Exception {
        AuthzPolicy p = policy("""
                quotas:
                  - {name: ny-monthly, per: api_key, period: month, timezone: America/New_York, limits: {free: 3}}
                """);
        QuotaCounter c = replica(Optional.of(redis()));
        Identity id = caller();
        clock.set(Instant.parse("2026-03-01T05:00:00Z")); // March 1st 00:00 EST
        assertThat(admitted(c, p, id, 2)).isEqualTo(2);
        clock.set(Instant.parse("2026-04-01T03:59:59Z")); // March 31st 23:59:59 EDT (DST began on the 8th)
        assertThat(admitted(c, p, id, 3)).isEqualTo(1);
        QuotaVerdict v = c.charge(p, "api", id, Optional.empty());
        assertThat(v.blocked().orElseThrow().retryAfterSeconds()).isEqualTo(1);
        clock.set(Instant.parse("2026-04-01T04:00:00Z")); // April 1st 00:00 EDT
        assertThat(admitted(c, p, id, 4)).isEqualTo(3);
    }

    @Test
    void tiers_resolveLikeRateLimits_andUnlimitedNeverBlocks() {
        AuthzPolicy p = policy(SEOUL_DAY_5);
        QuotaCounter c = replica(Optional.of(redis()));
        Identity premium = apiKeyCaller("prem000000000001", "t-" + UUID.randomUUID(), "premium");
        Identity enterprise = apiKeyCaller("ent0000000000001", "t-" + UUID.randomUUID(), "enterprise");
        Identity unknownTier = apiKeyCaller("unk0000000000001", "t-" + UUID.randomUUID(), "platinum");
        assertThat(admitted(c, p, premium, 60)).isEqualTo(50);
        assertThat(admitted(c, p, enterprise, 200)).isEqualTo(200);
        assertThat(c.charge(p, "api", enterprise, Optional.empty()).closest()).isEmpty();
        assertThat(admitted(c, p, unknownTier, 8)).isEqualTo(5); // falls back to the default tier
        // the gateway route's tier (meshguard.rate_limit_tier) wins, as for rate limits
        Identity free = caller();
        assertThat(c.charge(p, "api", free, Optional.of("premium"))
                        .closest()
                        .orElseThrow()
                        .limit())
                .isEqualTo(50);
    }

    @Test
    void allowAndFlag_allowsPastTheLimit_flagsEachSuchRequest_andCountsIt() throws Exception {
        AuthzPolicy p = policy("""
                quotas:
                  - {name: soft, per: api_key, period: day, timezone: UTC, limits: {free: 2}, on_exceed: allow_and_flag}
                """);
        QuotaCounter c = replica(Optional.of(redis()));
        Identity id = caller();
        assertThat(c.charge(p, "api", id, Optional.empty()).flagged()).isEmpty();
        QuotaVerdict second = c.charge(p, "api", id, Optional.empty());
        assertThat(second.flagged()).isEmpty();
        assertThat(second.closest().orElseThrow().remaining()).isZero();
        QuotaVerdict third = c.charge(p, "api", id, Optional.empty());
        assertThat(third.blocked()).isEmpty();
        assertThat(third.flagged()).containsExactly("soft");
        assertThat(c.charge(p, "api", id, Optional.empty()).flagged()).containsExactly("soft");
        c.flush();
        assertThat(durable("soft", id, LocalDate.parse("2026-11-22"))).isEqualTo(4);
        assertThat(counter("meshguard_quota_exceeded_total", "quota", "soft", "action", "flag"))
                .isEqualTo(2);
    }

    @Test
    void refusedRequest_countsAgainstNoneOfItsQuotas() throws Exception {
        AuthzPolicy p = policy("""
                quotas:
                  - {name: tight, per: api_key, period: day, timezone: UTC, limits: {free: 2}}
                  - {name: wide, per: api_key, period: month, timezone: UTC, limits: {free: 100}}
                """);
        QuotaCounter c = replica(Optional.of(redis()));
        Identity id = caller();
        assertThat(admitted(c, p, id, 10)).isEqualTo(2);
        c.flush();
        assertThat(durable("wide", id, LocalDate.parse("2026-11-01"))).isEqualTo(2);
    }

    @Test
    void quotaScopedToRoutes_countsOnlyThoseRoutes() {
        AuthzPolicy p = policy("""
                quotas:
                  - {name: api-only, per: api_key, period: day, timezone: UTC, limits: {free: 1}, routes: [api]}
                """);
        QuotaCounter c = replica(Optional.of(redis()));
        Identity id = caller();
        assertThat(c.charge(p, "other", id, Optional.empty())).isEqualTo(QuotaVerdict.NONE);
        assertThat(allowed(c, p, id)).isTrue();
        assertThat(allowed(c, p, id)).isFalse();
        assertThat(c.charge(p, "other", id, Optional.empty()).blocked()).isEmpty();
    }

    @Test
    void alerts_fireOncePerThreshold_acrossReplicas_asAuditEventsAndMetrics() throws Exception {
        AuthzPolicy p = policy("""
                quotas:
                  - {name: alerted, per: api_key, period: day, timezone: Asia/Seoul, limits: {free: 10}, alerts: [50%, 80%, 100%]}
                """);
        QuotaCounter a = replica(Optional.of(redis()));
        QuotaCounter b = replica(Optional.of(redis()));
        QuotaCounter local = replica(Optional.empty()); // a third replica that lost Redis counts the same caller
        Identity id = caller();
        for (int i = 0; i < 12; i++) {
            allowed(i % 2 == 0 ? a : b, p, id);
        }
        a.flush();
        b.flush();
        local.flush();
        assertThat(admitted(local, p, id, 3)).isZero(); // it knows the count from PostgreSQL
        local.flush();
        List<String> reasons = audit.quotaEvents("alert").stream()
                .map(e -> e.reason().orElseThrow())
                .sorted()
                .toList();
        assertThat(reasons).containsExactly("quota_alert_100", "quota_alert_50", "quota_alert_80");
        assertThat(audit.quotaEvents("alert").get(0).details())
                .containsEntry("quota", "alerted")
                .containsEntry("limit", "10")
                .containsEntry("period_start", "2026-11-22");
        assertThat(counter("meshguard_quota_alerts_total", "quota", "alerted", "threshold", "80"))
                .isEqualTo(1);
        assertThat(counter("meshguard_quota_alerts_total", "quota", "alerted", "threshold", "100"))
                .isEqualTo(1);
        // a new period alerts again
        clock.set(Instant.parse("2026-11-22T15:00:00Z"));
        assertThat(admitted(a, p, id, 5)).isEqualTo(5);
        a.flush();
        assertThat(audit.quotaEvents("alert")).hasSize(4);
    }

    @Test
    void redisFlushAll_losesNoQuota_theCounterIsReseededFromPostgresAndPending() throws Exception {
        AuthzPolicy p = policy(SEOUL_DAY_5.replace("free: 5", "free: 10"));
        RedisConnection conn = redis();
        QuotaCounter c = replica(Optional.of(conn));
        Identity flushed = caller();
        Identity unflushed = caller();
        assertThat(admitted(c, p, flushed, 6)).isEqualTo(6);
        c.flush();
        assertThat(admitted(c, p, unflushed, 6)).isEqualTo(6); // still pending when Redis loses everything
        try (var sync = redisSync()) {
            sync.sync().flushall();
            assertThat(sync.sync().dbsize()).isZero();
        }
        assertThat(admitted(c, p, flushed, 10)).isEqualTo(4);
        assertThat(admitted(c, p, unflushed, 10)).isEqualTo(4);
        c.flush();
        assertThat(durable("seoul-daily", flushed, LocalDate.parse("2026-11-22")))
                .isEqualTo(10);
        assertThat(durable("seoul-daily", unflushed, LocalDate.parse("2026-11-22")))
                .isEqualTo(10);
    }

    /** Review IC-11: a replica that has charged nothing yet must not report a healthy Redis as down. */
    @Test
    void redisStoreUpGauge_beforeTheFirstCharge_showsTheConnectionsState() throws Exception {
        RedisConnection conn = redis();
        replica(Optional.of(conn));
        awaitReconnect(conn);
        assertThat(registry.find("meshguard_quota_store_up")
                        .tags("store", "redis")
                        .gauge()
                        .value())
                .isEqualTo(1.0);

        SimpleMeterRegistry noRedis = new SimpleMeterRegistry();
        new QuotaCounter(
                Optional.of(store),
                Optional::empty,
                new LiveCounters(prefix, Duration.ofMillis(500)),
                audit.audit(),
                clock,
                System::nanoTime,
                QuotaTestSupport.settings(),
                noRedis);
        assertThat(noRedis.find("meshguard_quota_store_up")
                        .tags("store", "redis")
                        .gauge()
                        .value())
                .isNaN();
    }

    @Test
    void redisRestart_losesNoQuota_countsLocallyMeanwhile_andReconciles() throws Exception {
        AuthzPolicy p = policy(SEOUL_DAY_5.replace("free: 5", "free: 10"));
        RedisConnection conn = redis();
        QuotaCounter c = replica(Optional.of(conn));
        Identity id = caller();
        assertThat(admitted(c, p, id, 3)).isEqualTo(3);
        c.flush();
        REDIS.server().stopServer();
        try {
            assertThat(admitted(c, p, id, 2)).isEqualTo(2); // counted on top of the known durable count
            assertThat(registry.find("meshguard_quota_store_up")
                            .tags("store", "redis")
                            .gauge()
                            .value())
                    .isZero();
        } finally {
            REDIS.server().startServer();
        }
        awaitReconnect(conn);
        assertThat(admitted(c, p, id, 10)).isEqualTo(5);
        c.flush();
        assertThat(durable("seoul-daily", id, LocalDate.parse("2026-11-22"))).isEqualTo(10);
    }

    @Test
    void threeReplicasSharingRedis_underConcurrentLoad_admitExactlyTheLimit() throws Exception {
        AuthzPolicy p = policy(SEOUL_DAY_5.replace("free: 5", "free: 100"));
        List<QuotaCounter> replicas =
                List.of(replica(Optional.of(redis())), replica(Optional.of(redis())), replica(Optional.of(redis())));
        Identity id = caller();
        ExecutorService pool = Executors.newFixedThreadPool(6);
        try {
            List<Callable<Integer>> work = new ArrayList<>();
            for (int t = 0; t < 6; t++) {
                QuotaCounter r = replicas.get(t % 3);
                work.add(() -> admitted(r, p, id, 60));
            }
            int total = 0;
            for (Future<Integer> f : pool.invokeAll(work)) {
                total += f.get();
            }
            assertThat(total).isEqualTo(100);
        } finally {
            pool.shutdownNow();
        }
        replicas.forEach(QuotaCounter::flush);
        assertThat(durable("seoul-daily", id, LocalDate.parse("2026-11-22"))).isEqualTo(100);
    }

    @Test
    void threeReplicasWithoutRedis_exceedTheLimitAtMostByWhatOthersAdmitBetweenFlushes() throws Exception {
        AuthzPolicy p = policy(SEOUL_DAY_5.replace("free: 5", "free: 30"));
        List<QuotaCounter> replicas =
                List.of(replica(Optional.empty()), replica(Optional.empty()), replica(Optional.empty()));
        Identity id = caller();
        int perTurn = 2;
        int total = 0;
        for (int round = 0; round < 20; round++) {
            for (QuotaCounter r : replicas) {
                total += admitted(r, p, id, perTurn);
                r.flush();
            }
        }
        // documented bound: limit + (replicas - 1) x requests a replica admits between its flushes
        assertThat(total).isBetween(30, 30 + 2 * perTurn);
        assertThat(durable("seoul-daily", id, LocalDate.parse("2026-11-22"))).isEqualTo(total);
    }

    private void awaitReconnect(RedisConnection conn) throws InterruptedException {
        for (int i = 0; i < 200 && !conn.isOpen(); i++) {
            Thread.sleep(50);
        }
        assertThat(conn.isOpen())
                .as("Lettuce reconnected to the restarted Redis")
                .isTrue();
        Thread.sleep(60); // past the counter's retry interval
    }

    private AutoCloseableSync redisSync() {
        io.lettuce.core.RedisClient client =
                io.lettuce.core.RedisClient.create(REDIS.server().endpoint().url());
        return new AutoCloseableSync(client, client.connect());
    }

    /** A plain Lettuce connection for FLUSHALL and DBSIZE. */
    record AutoCloseableSync(
            io.lettuce.core.RedisClient client, io.lettuce.core.api.StatefulRedisConnection<String, String> conn)
            implements AutoCloseable {
        RedisCommands<String, String> sync() {
            return conn.sync();
        }

        @Override
        public void close() {
            conn.close();
            client.shutdown();
        }
    }
}
