package io.meshguard.extauthz.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.authz.policy.RateLimitPolicy.Limit;
import io.meshguard.authz.policy.RateLimitPolicy.OnStoreError;
import io.meshguard.authz.ratelimit.LimitRequest;
import io.meshguard.authz.ratelimit.RateLimitKeys;
import io.meshguard.authz.ratelimit.Verdict;
import io.meshguard.extauthz.redis.RedisConnection;
import io.meshguard.extauthz.redis.RedisSettings;
import io.meshguard.testing.EmbeddedRedis;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.OpenResources;
import io.meshguard.testing.SharedRedis;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

/**
 * The global limiter against a real Redis: several replicas (each its own connection, limiter and clock) sharing one
 * store, as extauthz replicas do.
 */
@IntegrationTest
class RedisRateLimiterTest {
    private final String prefix = SharedRedis.keyPrefix(RedisRateLimiterTest.class);

    @AutoClose
    final OpenResources open = new OpenResources();

    private RedisRateLimiter replica(
            String url, Duration commandTimeout, LongSupplier nanoTime, RateLimitSettings settings) {
        RedisConnection connection = RedisConnection.open(
                RedisSettings.none().withUrl(url).withKeyPrefix(prefix).withCommandTimeout(commandTimeout));
        open.add(connection);
        RedisRateLimiter limiter = new RedisRateLimiter(
                connection, settings, new SimpleMeterRegistry(), nanoTime, "replica-" + open.size());
        open.add(limiter);
        return limiter;
    }

    private RedisRateLimiter replica() {
        return replica(SharedRedis.get().url(), Duration.ofSeconds(1), System::nanoTime, RateLimitSettings.DEFAULTS);
    }

    private static LimitRequest request(String tenant, OnStoreError onError, Limit... limits) {
        return new LimitRequest(RateLimitKeys.caller("policy", "tenant", tenant, "t"), "t", List.of(limits), onError);
    }

    /** For k admissions at store times t_i ≤ ... ≤ t_j: k ≤ burst + (t_j − t_i) / T — GCRA's exact bound, every stretch. */
    private static void assertWithinBound(List<Long> admittedAt, Limit limit) {
        List<Long> t = new ArrayList<>(admittedAt);
        Collections.sort(t);
        long emission = limit.emissionMicros();
        for (int i = 0; i < t.size(); i++) {
            for (int j = i; j < t.size(); j++) {
                long admitted = j - i + 1;
                long allowance = limit.burst() + (t.get(j) - t.get(i)) / emission;
                assertThat(admitted)
                        .as("admissions in the %d µs from the %d-th", t.get(j) - t.get(i), i)
                        .isLessThanOrEqualTo(allowance);
            }
        }
    }

    @Test
    void threeReplicas_concurrentLoad_admitWithinTheLimitInEveryWindow() throws Exception {
        Limit limit = new Limit(100, Duration.ofSeconds(1), 20);
        List<RedisRateLimiter> replicas = List.of(replica(), replica(), replica());
        LimitRequest request = request("load", OnStoreError.FAIL_CLOSED, limit);
        List<Long> admittedAt = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger refused = new AtomicInteger();
        AtomicInteger unavailable = new AtomicInteger();
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1500);
        List<Thread> threads = new ArrayList<>();
        CountDownLatch go = new CountDownLatch(1);
        for (RedisRateLimiter r : replicas) {
            for (int n = 0; n < 3; n++) {
                threads.add(Thread.ofPlatform().start(() -> {
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        return;
                    }
                    while (System.nanoTime() < until) {
                        Verdict v = r.acquire(request);
                        if (v.allowed()) {
                            admittedAt.add(v.atMicros());
                        } else if (v.source() == Verdict.Source.STORE_UNAVAILABLE) {
                            unavailable.incrementAndGet();
                        } else {
                            refused.incrementAndGet();
                        }
                    }
                }));
            }
        }
        go.countDown();
        for (Thread t : threads) {
            t.join();
        }
        assertThat(unavailable.get()).as("every decision came from the store").isZero();
        assertThat(refused.get()).as("the load was over the limit").isPositive();
        assertThat(admittedAt).isNotEmpty();
        assertWithinBound(admittedAt, limit);
        // and the plain reading: in every one-second window at most burst + rate (×1.01 for the record)
        List<Long> t = new ArrayList<>(admittedAt);
        Collections.sort(t);
        for (int i = 0, j = 0; i < t.size(); i++) {
            while (j < t.size() && t.get(j) < t.get(i) + 1_000_000) {
                j++;
            }
            assertThat((double) (j - i)).isLessThanOrEqualTo((limit.burst() + limit.requests()) * 1.01);
        }
    }

    @Test
    void boundary_aBurstThenASecondBurst_noDoubleBurst() {
        // a fixed one-second window would admit 10 just before its edge and 10 more just after it
        Limit limit = new Limit(10, Duration.ofSeconds(1), 10);
        RedisRateLimiter a = replica();
        RedisRateLimiter b = replica();
        LimitRequest request = request("edge", OnStoreError.FAIL_CLOSED, limit);
        List<Long> admittedAt = new ArrayList<>();
        int firstBurst = 0;
        for (int i = 0; i < 30; i++) {
            Verdict v = (i % 2 == 0 ? a : b).acquire(request, false);
            if (v.allowed()) {
                admittedAt.add(v.atMicros());
                firstBurst++;
            }
        }
        assertThat(firstBurst).isBetween(10, 11);
        long burstEnd = admittedAt.get(admittedAt.size() - 1);
        // keep asking for a while: what passes after the burst is what the rate earned, never a second burst
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1300);
        while (System.nanoTime() < deadline) {
            Verdict v = a.acquire(request, false);
            if (v.allowed()) {
                admittedAt.add(v.atMicros());
            }
        }
        assertWithinBound(admittedAt, limit);
        long last = admittedAt.get(admittedAt.size() - 1);
        assertThat((long) admittedAt.size())
                .isLessThanOrEqualTo(10 + (last - admittedAt.get(0)) / limit.emissionMicros());
        // in the 100 ms after the burst ended at most one more request was earned
        long soon = admittedAt.stream()
                .filter(x -> x > burstEnd && x <= burstEnd + 100_000)
                .count();
        assertThat(soon).isLessThanOrEqualTo(1);
    }

    @Test
    void refusedRequests_areNotCounted_theBucketNeverRunsPastFull() throws Exception {
        Limit limit = new Limit(5, Duration.ofSeconds(10), 5);
        RedisRateLimiter r = replica();
        LimitRequest request = request("refused", OnStoreError.FAIL_CLOSED, limit);
        int admitted = 0;
        for (int i = 0; i < 200; i++) {
            admitted += r.acquire(request, false).allowed() ? 1 : 0;
        }
        assertThat(admitted).isEqualTo(5);
        // 195 refusals later the stored arrival time is still at most one bucket ahead of the store's clock (a limiter
        // counting refusals would be 195 intervals = 390 s ahead), and the key expires when the bucket is full
        try (RedisConnection c = RedisConnection.open(
                RedisSettings.none().withUrl(SharedRedis.get().url()).withCommandTimeout(Duration.ofSeconds(2)))) {
            String key = RateLimitKeys.storeKey(prefix, request.callerKey(), limit.label());
            long tat = Long.parseLong(c.async().get(key).get(5, TimeUnit.SECONDS));
            List<String> time = c.async().time().get(5, TimeUnit.SECONDS);
            long now = Long.parseLong(time.get(0)) * 1_000_000 + Long.parseLong(time.get(1));
            assertThat(tat - now).isBetween(0L, limit.capacityMicros());
            long ttlMs = c.async().pttl(key).get(5, TimeUnit.SECONDS);
            assertThat(ttlMs).isPositive().isLessThanOrEqualTo(limit.capacityMicros() / 1000 + 1);
        }
        Verdict refused = r.acquire(request, false);
        assertThat(refused.allowed()).isFalse();
        assertThat(refused.retryAfterMicros()).isBetween(1L, limit.emissionMicros());
        assertThat(refused.states().get(0).remaining()).isZero();
    }

    @Test
    void severalLimits_oneRefuses_noneIsCharged() throws Exception {
        Limit perSecond = new Limit(3, Duration.ofSeconds(1), 3);
        Limit perMinute = new Limit(100, Duration.ofMinutes(1), 100);
        RedisRateLimiter r = replica();
        LimitRequest request = request("both", OnStoreError.FAIL_CLOSED, perSecond, perMinute);
        List<Verdict> verdicts = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            verdicts.add(r.acquire(request, false));
        }
        assertThat(verdicts.stream().filter(Verdict::allowed).count()).isEqualTo(3);
        // the minute limit was charged for the 3 admitted only: 97 remain, not 90
        Verdict last = verdicts.get(verdicts.size() - 1);
        assertThat(last.states().get(1).remaining()).isEqualTo(97);
        assertThat(verdicts.get(2).states().get(0).remaining()).isZero();
        assertThat(verdicts.get(0).states().get(1).remaining()).isEqualTo(99);
    }

    @Test
    void keyParts_areLengthPrefixed_soJoinedSpellingsNeverShareACount() {
        assertThat(RateLimitKeys.caller("a:b", "c")).isNotEqualTo(RateLimitKeys.caller("a", "b:c"));
        assertThat(RateLimitKeys.caller("a_b", "c")).isNotEqualTo(RateLimitKeys.caller("a", "b_c"));
        assertThat(RateLimitKeys.caller("3:abc")).isNotEqualTo(RateLimitKeys.caller("3", "abc"));
        String huge = "x".repeat(10_000);
        assertThat(RateLimitKeys.caller("sub", huge, huge)).hasSizeLessThan(200);
        assertThat(RateLimitKeys.caller("sub", huge + "1")).isNotEqualTo(RateLimitKeys.caller("sub", huge + "2"));

        Limit limit = new Limit(2, Duration.ofMinutes(1), 2);
        RedisRateLimiter r = replica();
        LimitRequest ab = new LimitRequest(
                RateLimitKeys.caller("policy", "sub", "issuer:a", "b", "t"),
                "t",
                List.of(limit),
                OnStoreError.FAIL_CLOSED);
        LimitRequest a = new LimitRequest(
                RateLimitKeys.caller("policy", "sub", "issuer", "a:b", "t"),
                "t",
                List.of(limit),
                OnStoreError.FAIL_CLOSED);
        assertThat(r.acquire(ab).allowed()).isTrue();
        assertThat(r.acquire(ab).allowed()).isTrue();
        assertThat(r.acquire(ab).allowed()).isFalse();
        assertThat(r.acquire(a).allowed())
                .as("another caller whose parts join to the same text")
                .isTrue();
    }

    @Test
    void storeClock_replicasWithSkewedAndRunawayClocks_agree() {
        Limit limit = new Limit(10, Duration.ofSeconds(1), 10);
        AtomicLong fast = new AtomicLong(System.nanoTime());
        List<RedisRateLimiter> replicas = List.of(
                replica(
                        SharedRedis.get().url(),
                        Duration.ofSeconds(1),
                        () -> System.nanoTime() + TimeUnit.HOURS.toNanos(5),
                        RateLimitSettings.DEFAULTS),
                replica(
                        SharedRedis.get().url(),
                        Duration.ofSeconds(1),
                        () -> System.nanoTime() - TimeUnit.DAYS.toNanos(3),
                        RateLimitSettings.DEFAULTS),
                // a clock that jumps 10 s at every reading: a limiter on local time would refill on each request
                replica(
                        SharedRedis.get().url(),
                        Duration.ofSeconds(1),
                        () -> fast.addAndGet(TimeUnit.SECONDS.toNanos(10)),
                        RateLimitSettings.DEFAULTS));
        LimitRequest request = request("skew", OnStoreError.FAIL_CLOSED, limit);
        List<Long> admittedAt = new ArrayList<>();
        List<Long> decidedAt = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            Verdict v = replicas.get(i % 3).acquire(request);
            if (v.source() == Verdict.Source.GLOBAL) {
                decidedAt.add(v.atMicros());
            }
            if (v.allowed()) {
                admittedAt.add(v.atMicros());
            }
        }
        assertWithinBound(admittedAt, limit);
        // every replica's decisions carry the store's time: one clock, within the run's few seconds
        assertThat(Collections.max(decidedAt) - Collections.min(decidedAt)).isLessThan(TimeUnit.SECONDS.toMicros(30));
    }

    @Test
    void redisKilledMidRun_degradedSharesHoldTheLimit_noCheckWaits_countsReconcileAfterRecovery() throws Exception {
        Limit limit = new Limit(60, Duration.ofMinutes(1), 60);
        try (EmbeddedRedis store = EmbeddedRedis.start()) {
            RateLimitSettings settings = RateLimitSettings.DEFAULTS
                    .withBreaker(3, Duration.ofMillis(300))
                    .withHeartbeat(Duration.ofMillis(200));
            List<RedisRateLimiter> replicas = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                replicas.add(replica(store.endpoint().url(), Duration.ofMillis(200), System::nanoTime, settings)
                        .start());
            }
            awaitTrue(() -> replicas.stream().allMatch(r -> r.replicas() == 3), "every replica counts 3 live replicas");
            LimitRequest degraded = request("outage", OnStoreError.DEGRADED, limit);
            LimitRequest closed = request("outage-closed", OnStoreError.FAIL_CLOSED, limit);
            for (RedisRateLimiter r : replicas) {
                for (int i = 0; i < 5; i++) {
                    assertThat(r.acquire(degraded).source()).isEqualTo(Verdict.Source.GLOBAL);
                }
            }
            List<StoreBreaker.Stats> before =
                    replicas.stream().map(r -> r.breaker().stats()).toList();

            store.stopServer();
            int outageAdmitted = 0;
            int perReplica = 40;
            for (RedisRateLimiter r : replicas) {
                for (int i = 0; i < perReplica; i++) {
                    Verdict v = r.acquire(degraded);
                    assertThat(v.source()).isIn(Verdict.Source.DEGRADED);
                    outageAdmitted += v.allowed() ? 1 : 0;
                    Verdict c = r.acquire(closed);
                    assertThat(c.allowed()).isFalse();
                    assertThat(c.source()).isEqualTo(Verdict.Source.STORE_UNAVAILABLE);
                }
            }
            // each replica enforced 1/3 of the limit: together within 5 % of the limit
            assertThat((double) outageAdmitted).isBetween(60 * 0.95, 60 * 1.05);
            for (int i = 0; i < replicas.size(); i++) {
                StoreBreaker.Stats s = replicas.get(i).breaker().stats();
                StoreBreaker.Stats b = before.get(i);
                long failed = (s.timeouts() - b.timeouts()) + (s.errors() - b.errors());
                long calls = s.storeCalls() - b.storeCalls();
                // the breaker, not the clock, says no Check waited: each store call of the outage failed (at once, or
                // at the command timeout at worst), at most `threshold` per trip, and every other decision skipped it
                assertThat(s.state()).isNotEqualTo(StoreBreaker.State.CLOSED);
                assertThat(s.trips()).isPositive();
                assertThat(failed).isEqualTo(calls);
                assertThat(failed).isLessThanOrEqualTo(3L * s.trips());
                assertThat(s.shortCircuited() - b.shortCircuited()).isGreaterThanOrEqualTo(2L * perReplica - failed);
            }

            store.startServer();
            awaitTrue(
                    () -> replicas.stream().allMatch(r -> r.breaker().state() == StoreBreaker.State.CLOSED),
                    "every breaker closes once the store answers");
            awaitTrue(
                    () -> replicas.stream().allMatch(r -> r.reconciledBuckets() > 0),
                    "every replica charged its outage admissions");
            // the restarted store lost its keys, but the outage admissions were charged to it: the bucket is (nearly)
            // empty, as it would be had the store seen them; without reconciliation 60 more would pass now
            int after = 0;
            for (int i = 0; i < 30; i++) {
                Verdict v = replicas.get(i % 3).acquire(degraded);
                assertThat(v.source()).isEqualTo(Verdict.Source.GLOBAL);
                after += v.allowed() ? 1 : 0;
            }
            assertThat(after).isLessThanOrEqualTo(10);
        }
    }

    @Test
    void storeDownAtStart_firstDecisionsDegradeAtOnce_andTheBreakerOpens() throws Exception {
        String url = EmbeddedRedis.closedUrl();
        RedisConnection connection = RedisConnection.connectInBackground(
                RedisSettings.none().withUrl(url).withKeyPrefix(prefix));
        open.add(connection);
        RedisRateLimiter r = new RedisRateLimiter(
                connection, RateLimitSettings.DEFAULTS, new SimpleMeterRegistry(), System::nanoTime, "lonely");
        open.add(r);
        LimitRequest request = request("down", OnStoreError.DEGRADED, new Limit(5, Duration.ofMinutes(1), 5));
        int admitted = 0;
        for (int i = 0; i < 10; i++) {
            Verdict v = r.acquire(request);
            assertThat(v.source()).isEqualTo(Verdict.Source.DEGRADED);
            admitted += v.allowed() ? 1 : 0;
        }
        assertThat(admitted).isEqualTo(5);
        assertThat(r.breaker().state()).isEqualTo(StoreBreaker.State.OPEN);
        assertThat(r.breaker().stats().storeCalls()).isEqualTo(3);
    }

    private static void awaitTrue(java.util.function.BooleanSupplier condition, String what)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(20);
        }
    }
}
