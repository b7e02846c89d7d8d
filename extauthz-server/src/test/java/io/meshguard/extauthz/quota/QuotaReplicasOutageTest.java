package io.meshguard.extauthz.quota;

import static io.meshguard.extauthz.quota.QuotaTestSupport.apiKeyCaller;
import static io.meshguard.extauthz.quota.QuotaTestSupport.policy;
import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.authz.policy.AuthzPolicy;
import io.meshguard.authz.policy.QuotaPolicy;
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
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Three quota engines (replicas) in one JVM sharing a real Redis and a real PostgreSQL, each flushing as the server
 * does, under concurrent Checks while Redis is stopped or paused: a blocking calendar quota never admits more than its
 * limit in total, and {@code meshguard_quota_decisions_total} says which path decided.
 */
@IntegrationTest
class QuotaReplicasOutageTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    /** A server of this class's own: the tests stop and pause it. */
    @RegisterExtension
    static final OwnRedis REDIS = new OwnRedis();

    private static final int REPLICAS = 3;
    private final MovableClock clock = new MovableClock(Instant.parse("2026-11-22T03:00:00Z"));
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final String prefix = "t:" + UUID.randomUUID() + ":";
    private final QuotaStore store = new QuotaStore(PG.dataSource());
    private final List<RedisConnection> connections = new ArrayList<>();
    private final List<QuotaCounter> replicas = new ArrayList<>();
    private final ScheduledExecutorService flusher = Executors.newSingleThreadScheduledExecutor();

    @AfterEach
    void close() throws Exception {
        flusher.shutdownNow();
        flusher.awaitTermination(5, TimeUnit.SECONDS);
        connections.forEach(RedisConnection::close);
        REDIS.server().startServer();
    }

    /**
     * Three replicas as the server wires them: a 250 ms Redis budget (the server's is 20 ms; a loaded 2-core test
     * machine needs more to keep Redis deciding before the outage), a flush every 100 ms, a settle of 300 ms.
     */
    private void startReplicas() {
        for (int i = 0; i < REPLICAS; i++) {
            RedisConnection conn = connect();
            connections.add(conn);
            replicas.add(new QuotaCounter(
                    Optional.of(store),
                    () -> Optional.of(conn),
                    new LiveCounters(prefix, Duration.ofMillis(250)),
                    QuotaAudit.logOnly(),
                    clock,
                    System::nanoTime,
                    QuotaTestSupport.settings(),
                    registry,
                    () -> REPLICAS));
        }
        flusher.scheduleWithFixedDelay(() -> replicas.forEach(QuotaCounter::flush), 100, 100, TimeUnit.MILLISECONDS);
    }

    /** Lettuce gives a connection one second to initialise: a loaded machine may need a second try. */
    private RedisConnection connect() {
        for (int attempt = 1; ; attempt++) {
            try {
                return QuotaTestSupport.connect(REDIS.server().endpoint().url(), prefix);
            } catch (RuntimeException e) {
                if (attempt == 3) {
                    throw e;
                }
            }
        }
    }

    private static AuthzPolicy plan(int perDay) {
        return policy("""
                quotas:
                  - {name: plan-daily, per: api_key, period: day, timezone: UTC, limits: {free: %d}}
                """.formatted(perDay));
    }

    private static Identity caller() {
        return apiKeyCaller(UUID.randomUUID().toString().substring(0, 16), "acme", "free");
    }

    /** Every replica charges the caller from a thread of its own for {@code duration}; returns how many were admitted. */
    private int load(AuthzPolicy p, Identity id, Duration duration) throws Exception {
        long until = System.nanoTime() + duration.toNanos();
        var pool = Executors.newFixedThreadPool(REPLICAS);
        try {
            List<Future<Integer>> admitted = new ArrayList<>();
            for (QuotaCounter r : replicas) {
                admitted.add(pool.submit(() -> {
                    int n = 0;
                    while (System.nanoTime() - until < 0) {
                        if (r.charge(p, "api", id, Optional.empty()).blocked().isEmpty()) {
                            n++;
                        }
                        Thread.sleep(5);
                    }
                    return n;
                }));
            }
            int total = 0;
            for (Future<Integer> f : admitted) {
                total += f.get();
            }
            return total;
        } finally {
            pool.shutdownNow();
        }
    }

    /** Before the outage, Redis counts {@code before} calls spread over the replicas (not all flushed yet). */
    private int beforeOutage(AuthzPolicy p, Identity id, int before) {
        int admitted = 0;
        for (int i = 0; i < before; i++) {
            if (replicas.get(i % REPLICAS)
                    .charge(p, "api", id, Optional.empty())
                    .blocked()
                    .isEmpty()) {
                admitted++;
            }
        }
        assertThat(admitted).isEqualTo(before);
        assertThat(decisions("redis")).isEqualTo(before);
        return admitted;
    }

    private long durable(Identity id) throws Exception {
        QuotaKey key =
                new QuotaKey("plan-daily", QuotaCallers.of(QuotaPolicy.Per.API_KEY, id), LocalDate.parse("2026-11-22"));
        return store.used(List.of(key)).get(key);
    }

    private double decisions(String path) {
        return registry.find("meshguard_quota_decisions_total")
                .tag("path", path)
                .counter()
                .count();
    }

    private void awaitFlushed() throws Exception {
        for (int i = 0; i < 100; i++) {
            long pending =
                    replicas.stream().mapToLong(QuotaCounter::pendingIncrements).sum();
            if (pending == 0) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("quota increments never reached PostgreSQL");
    }

    private void awaitReconnected() throws InterruptedException {
        for (int i = 0; i < 200 && !connections.stream().allMatch(RedisConnection::isOpen); i++) {
            Thread.sleep(50);
        }
        assertThat(connections).allMatch(RedisConnection::isOpen);
    }

    @Test
    void redisStopped_blockingTenADayPlan_onThreeReplicas_admitsAtMostTheLimit_eachReplicaSpendingItsShare()
            throws Exception {
        startReplicas();
        AuthzPolicy p = plan(10);
        Identity id = caller();
        int allowed = beforeOutage(p, id, 4);
        REDIS.server().stopServer();
        try {
            allowed += load(p, id, Duration.ofMillis(1500));
        } finally {
            REDIS.server().startServer();
        }
        awaitReconnected();
        allowed += load(p, id, Duration.ofMillis(300));
        awaitFlushed();

        assertThat(allowed)
                .as("calls admitted by three replicas, a 10-a-day plan, Redis stopped")
                .isLessThanOrEqualTo(10);
        // 6 were left when Redis stopped: a share of 2 per replica, spent once the durable count had settled
        assertThat(decisions("share")).as("admitted from a replica's share").isPositive();
        assertThat(decisions("unavailable"))
                .as("refused while the durable count settled")
                .isPositive();
        assertThat(durable(id)).isEqualTo(allowed);
    }

    @Test
    void redisStopped_blockingOneADayPlan_calledOnce_noReplicaAdmitsASecondCall() throws Exception {
        startReplicas();
        AuthzPolicy p = plan(1);
        Identity id = caller();
        int allowed = beforeOutage(p, id, 1); // counted in Redis by the first replica
        REDIS.server().stopServer();
        try {
            allowed += load(p, id, Duration.ofMillis(1000));
        } finally {
            REDIS.server().startServer();
        }
        assertThat(allowed).isEqualTo(1);
        assertThat(decisions("unavailable") + decisions("share")).isPositive();
        awaitFlushed();
        assertThat(durable(id)).isEqualTo(1);
    }

    @Test
    void callerPastItsLimit_redisSlowerThanItsTimeout_isRefusedAsOverQuota429_notAsUnavailable() throws Exception {
        startReplicas();
        AuthzPolicy p = plan(3);
        Identity id = caller();
        beforeOutage(p, id, 3);
        for (QuotaCounter r : replicas) {
            assertThat(r.charge(p, "api", id, Optional.empty()).blocked())
                    .as("the fourth call, Redis deciding")
                    .hasValueSatisfying(b -> assertThat(b.storeUnavailable()).isFalse());
        }
        io.lettuce.core.RedisClient client =
                io.lettuce.core.RedisClient.create(REDIS.server().endpoint().url());
        try (var admin = client.connect()) {
            admin.sync().clientPause(1500);
            for (QuotaCounter r : replicas) {
                assertThat(r.charge(p, "api", id, Optional.empty()).blocked())
                        .as("a caller Redis last counted at its limit, Redis slower than its timeout")
                        .hasValueSatisfying(b -> assertThat(b.storeUnavailable())
                                .as("over quota reads as over quota (429), not as the store away (503)")
                                .isFalse());
            }
        } finally {
            client.shutdown();
        }
        assertThat(decisions("unavailable")).isZero();
    }

    @Test
    void redisSlowerThanItsTimeout_blockingPlan_onThreeReplicas_admitsAtMostTheLimit() throws Exception {
        startReplicas();
        AuthzPolicy p = plan(10);
        Identity id = caller();
        int allowed = beforeOutage(p, id, 4);
        io.lettuce.core.RedisClient client =
                io.lettuce.core.RedisClient.create(REDIS.server().endpoint().url());
        try (var admin = client.connect()) {
            // every command of every replica waits 2 s: 8 times their 250 ms budget
            admin.sync().clientPause(2000);
            allowed += load(p, id, Duration.ofMillis(1900));
        } finally {
            client.shutdown();
        }
        allowed += load(p, id, Duration.ofMillis(600)); // Redis answers again: it decides, with what was owed
        awaitFlushed();

        assertThat(allowed)
                .as("calls admitted by three replicas, a 10-a-day plan, Redis paused")
                .isLessThanOrEqualTo(10);
        assertThat(decisions("share")).isPositive();
        assertThat(durable(id)).isEqualTo(allowed);
    }

    @Test
    void redisStopped_flaggingQuota_countsLocallyOnEachReplica_neverRefuses() throws Exception {
        startReplicas();
        AuthzPolicy p = policy("""
                quotas:
                  - {name: plan-daily, per: api_key, period: day, timezone: UTC, limits: {free: 2}, on_exceed: allow_and_flag}
                """);
        Identity id = caller();
        REDIS.server().stopServer();
        try {
            for (int i = 0; i < 6; i++) {
                assertThat(replicas.get(i % REPLICAS)
                                .charge(p, "api", id, Optional.empty())
                                .blocked())
                        .isEmpty();
            }
        } finally {
            REDIS.server().startServer();
        }
        assertThat(decisions("local"))
                .as("counted on each replica, never refused as unavailable")
                .isEqualTo(6);
        assertThat(decisions("unavailable")).isZero();
    }
}
