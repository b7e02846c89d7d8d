package io.meshguard.extauthz.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.authz.policy.RateLimitPolicy.Limit;
import io.meshguard.authz.policy.RateLimitPolicy.OnStoreError;
import io.meshguard.authz.policy.RateLimitPolicy.RateTier;
import io.meshguard.authz.ratelimit.LimitRequest;
import io.meshguard.authz.ratelimit.RateLimitKeys;
import io.meshguard.authz.ratelimit.Verdict;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class TokenBucketLimiterTest {
    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    private final TokenBucketLimiter limiter = new TokenBucketLimiter(100, Duration.ofMinutes(1), nanos::get);
    private final RateTier free = RateTier.perSecond("free", 2, 3);

    @Test
    void burstPasses_thenRefusedWithTheWaitForTheNextToken_thenRefills() {
        for (int i = 0; i < 3; i++) {
            assertThat(limiter.tryAcquire("tenant:a", free).allowed()).isTrue();
        }
        TokenBucketLimiter.Outcome refused = limiter.tryAcquire("tenant:a", free);
        assertThat(refused.allowed()).isFalse();
        assertThat(refused.retryAfter()).isEqualTo(Duration.ofMillis(500));
        nanos.addAndGet(500_000_000L);
        assertThat(limiter.tryAcquire("tenant:a", free).allowed()).isTrue();
        assertThat(limiter.tryAcquire("tenant:a", free).allowed()).isFalse();
    }

    @Test
    void bucketsAreSeparatePerKeyAndTier() {
        for (int i = 0; i < 3; i++) {
            limiter.tryAcquire("tenant:a", free);
        }
        assertThat(limiter.tryAcquire("tenant:a", free).allowed()).isFalse();
        assertThat(limiter.tryAcquire("tenant:b", free).allowed()).isTrue();
        assertThat(limiter.tryAcquire("tenant:a", RateTier.perSecond("premium", 100, 100))
                        .allowed())
                .isTrue();
    }

    @Test
    void severalLimits_allOrNothing_aRefusedRequestCountsInNone() {
        // 5 per second and 8 per minute: the minute limit runs out first
        List<Limit> limits = List.of(new Limit(5, Duration.ofSeconds(1), 5), new Limit(8, Duration.ofMinutes(1), 8));
        LimitRequest request = new LimitRequest(
                RateLimitKeys.caller("policy", "tenant", "a", "t"), "t", limits, OnStoreError.DEGRADED);
        int admitted = 0;
        for (int second = 0; second < 4; second++) {
            for (int i = 0; i < 5; i++) {
                admitted += limiter.acquire(request).allowed() ? 1 : 0;
            }
            nanos.addAndGet(1_000_000_000L);
        }
        assertThat(admitted).isEqualTo(8);
        // the refused ones did not spend the per-second limit: after 7.5 s (one minute-limit request earned) one passes
        nanos.addAndGet(3_500_000_000L);
        Verdict v = limiter.acquire(request);
        assertThat(v.allowed()).isTrue();
        assertThat(v.states()).hasSize(2);
        assertThat(v.states().get(0).remaining()).isEqualTo(4);
        assertThat(v.states().get(1).remaining()).isZero();
    }

    @Test
    void degradedShare_eachReplicaEnforcesItsPartOfTheLimit() {
        TokenBucketLimiter share =
                new TokenBucketLimiter(100, Duration.ofMinutes(1), nanos::get, () -> 3, Verdict.Source.DEGRADED);
        LimitRequest request = new LimitRequest(
                RateLimitKeys.caller("policy", "tenant", "a", "t"),
                "t",
                List.of(new Limit(60, Duration.ofMinutes(1), 60)),
                OnStoreError.DEGRADED);
        int admitted = 0;
        for (int i = 0; i < 100; i++) {
            Verdict v = share.acquire(request);
            admitted += v.allowed() ? 1 : 0;
            assertThat(v.source()).isEqualTo(Verdict.Source.DEGRADED);
        }
        assertThat(admitted).isEqualTo(20);
        // its debt, in the limit's own terms, is the 20 requests' worth (20 s of a 1-per-second limit)
        List<TokenBucketLimiter.Debt> debts = share.drainDebts();
        assertThat(debts).singleElement().satisfies(d -> assertThat(d.micros()).isEqualTo(20_000_000L));
        assertThat(share.drainDebts()).isEmpty();
    }

    @Test
    void longLimit_bucketOutlivesTheIdleTime_untilItIsFullAgain() {
        RateTier daily = new RateTier("daily", List.of(new Limit(2, Duration.ofDays(1), 2)));
        assertThat(limiter.tryAcquire("tenant:a", daily).allowed()).isTrue();
        assertThat(limiter.tryAcquire("tenant:a", daily).allowed()).isTrue();
        // ten quiet minutes are far past the one-minute idle time, but the bucket is still empty: it is kept
        nanos.addAndGet(Duration.ofMinutes(10).toNanos());
        assertThat(limiter.tryAcquire("tenant:a", daily).allowed()).isFalse();
        nanos.addAndGet(Duration.ofHours(12).toNanos());
        assertThat(limiter.tryAcquire("tenant:a", daily).allowed()).isTrue();
        assertThat(limiter.tryAcquire("tenant:a", daily).allowed()).isFalse();
    }
}
