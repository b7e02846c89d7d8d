package io.meshguard.extauthz.quota;

import static io.meshguard.extauthz.quota.QuotaTestSupport.apiKeyCaller;
import static io.meshguard.extauthz.quota.QuotaTestSupport.policy;
import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.authz.policy.AuthzPolicy;
import io.meshguard.authz.policy.QuotaPolicy;
import io.meshguard.authz.quota.QuotaVerdict;
import io.meshguard.authz.request.Identity;
import io.meshguard.extauthz.redis.RedisConnection;
import io.meshguard.testing.DedicatedPostgres;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.MovableClock;
import io.meshguard.testing.OwnRedis;
import io.meshguard.testing.PostgresExtension;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The database going away and coming back, alone and together with Redis: no increment lost, no silent fail-open. */
@IntegrationTest
class QuotaDurabilityTest {
    @RegisterExtension
    static final DedicatedPostgres PG = PostgresExtension.dedicated();

    @RegisterExtension
    static final OwnRedis REDIS = new OwnRedis();

    private final MovableClock clock = new MovableClock(Instant.parse("2026-11-22T03:00:00Z"));
    private final QuotaTestSupport.AuditLog audit = new QuotaTestSupport.AuditLog();
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final String prefix = "t:" + UUID.randomUUID() + ":";

    private QuotaCounter replica(Optional<RedisConnection> redis) {
        return new QuotaCounter(
                Optional.of(new QuotaStore(PG.dataSource())),
                () -> redis,
                new LiveCounters(prefix, Duration.ofSeconds(2)),
                audit.audit(),
                clock,
                System::nanoTime,
                QuotaTestSupport.settings(),
                registry);
    }

    private long durable(String quota, Identity id) throws Exception {
        QuotaKey key = new QuotaKey(quota, QuotaCallers.of(QuotaPolicy.Per.API_KEY, id), LocalDate.parse("2026-11-22"));
        return new QuotaStore(PG.dataSource()).used(List.of(key)).get(key);
    }

    private double gauge(String name, String... tags) {
        return registry.find(name).tags(tags).gauge().value();
    }

    private static Identity caller() {
        return apiKeyCaller(UUID.randomUUID().toString().substring(0, 16), "acme", "free");
    }

    @Test
    void databaseAway_incrementsAndAlertsStayPending_andArriveWhenItIsBack() throws Exception {
        AuthzPolicy p = policy("""
                quotas:
                  - {name: durable, per: api_key, period: day, timezone: Asia/Seoul, limits: {free: 20}, alerts: [50%]}
                """);
        try (RedisConnection redis =
                QuotaTestSupport.connect(REDIS.server().endpoint().url(), prefix)) {
            QuotaCounter c = replica(Optional.of(redis));
            Identity id = caller();
            for (int i = 0; i < 5; i++) {
                assertThat(c.charge(p, "api", id, Optional.empty()).blocked()).isEmpty();
            }
            c.flush();
            assertThat(durable("durable", id)).isEqualTo(5);
            PG.stopServer();
            try {
                for (int i = 0; i < 7; i++) {
                    assertThat(c.charge(p, "api", id, Optional.empty()).blocked())
                            .isEmpty(); // Redis still counts
                }
                c.flush();
                c.flush();
                assertThat(c.pendingIncrements()).isEqualTo(7);
                assertThat(c.durableStoreUp()).isFalse();
                assertThat(gauge("meshguard_quota_pending_increments")).isEqualTo(7);
                assertThat(gauge("meshguard_quota_pending_alerts")).isEqualTo(1);
                assertThat(gauge("meshguard_quota_store_up", "store", "postgres"))
                        .isZero();
                assertThat(audit.quotaEvents("alert")).isEmpty();
            } finally {
                PG.startServer();
            }
            awaitFlushed(c);
            assertThat(durable("durable", id)).isEqualTo(12);
            assertThat(c.pendingIncrements()).isZero();
            assertThat(gauge("meshguard_quota_flush_lag_seconds")).isZero();
            assertThat(audit.quotaEvents("alert")).hasSize(1);
        }
    }

    @Test
    void bothStoresAway_blockFailsClosedForAnUnknownCaller_allowAndFlagAllows_knownCallersKeepCounting()
            throws Exception {
        AuthzPolicy p = policy("""
                quotas:
                  - {name: hard, per: api_key, period: day, timezone: UTC, limits: {free: 6}, routes: [api]}
                  - {name: soft, per: api_key, period: day, timezone: UTC, limits: {free: 6}, on_exceed: allow_and_flag, routes: [other]}
                """);
        RedisConnection redis =
                QuotaTestSupport.connect(REDIS.server().endpoint().url(), prefix);
        QuotaCounter c = replica(Optional.of(redis));
        Identity known = caller();
        Identity stranger = caller();
        for (int i = 0; i < 4; i++) {
            c.charge(p, "api", known, Optional.empty());
        }
        c.flush();
        REDIS.server().stopServer();
        PG.stopServer();
        try {
            QuotaVerdict refused = c.charge(p, "api", stranger, Optional.empty());
            assertThat(refused.blocked()).hasValueSatisfying(b -> {
                assertThat(b.storeUnavailable()).isTrue();
                assertThat(b.quota()).isEqualTo("hard");
            });
            assertThat(c.charge(p, "other", stranger, Optional.empty()).blocked())
                    .isEmpty();
            // the known caller: 4 counted before, 2 more fit, then the limit holds on this replica's own count
            assertThat(c.charge(p, "api", known, Optional.empty()).blocked()).isEmpty();
            assertThat(c.charge(p, "api", known, Optional.empty()).blocked()).isEmpty();
            assertThat(c.charge(p, "api", known, Optional.empty()).blocked())
                    .hasValueSatisfying(b -> assertThat(b.storeUnavailable()).isFalse());
            assertThat(registry.find("meshguard_quota_unavailable_total")
                            .tags("quota", "hard")
                            .counter()
                            .count())
                    .isEqualTo(1);
        } finally {
            PG.startServer();
            REDIS.server().startServer();
        }
        awaitFlushed(c);
        assertThat(durable("hard", known)).isEqualTo(6);
        assertThat(durable("soft", stranger)).isEqualTo(1);
        redis.close();
    }

    private static void awaitFlushed(QuotaCounter c) throws InterruptedException {
        for (int i = 0; i < 200; i++) {
            c.flush();
            if (c.durableStoreUp() && c.pendingIncrements() == 0) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("pending quota increments never reached PostgreSQL: " + c.pendingIncrements());
    }
}
