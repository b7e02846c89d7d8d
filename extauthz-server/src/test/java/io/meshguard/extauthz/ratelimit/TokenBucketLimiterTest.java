package io.meshguard.extauthz.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.extauthz.policy.RateLimitPolicy.RateTier;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class TokenBucketLimiterTest {
    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    private final TokenBucketLimiter limiter = new TokenBucketLimiter(100, Duration.ofMinutes(1), nanos::get);
    private final RateTier free = new RateTier("free", 2, 3);

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
        assertThat(limiter.tryAcquire("tenant:a", new RateTier("premium", 100, 100)).allowed()).isTrue();
    }
}
