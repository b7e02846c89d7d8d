package io.meshguard.extauthz.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.authz.policy.RateLimitPolicy;
import io.meshguard.authz.ratelimit.RateLimitHeaders;
import io.meshguard.authz.ratelimit.Verdict;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RateLimitHeadersTest {
    private static Verdict fullBucket(long requests, long burst) {
        RateLimitPolicy.Limit limit = new RateLimitPolicy.Limit(requests, Duration.ofSeconds(1), burst);
        return new Verdict(true, 0, List.of(new Verdict.LimitState(limit, burst - 1, 0)), Verdict.Source.LOCAL, 0);
    }

    @Test
    void burstAboveTheRate_remainingIsNeverStatedAboveTheLimit() {
        Map<String, String> h = RateLimitHeaders.of(RateLimitPolicy.HeaderStyle.BOTH, "free", fullBucket(100, 300));
        assertThat(h).containsEntry("x-ratelimit-limit", "100").containsEntry("x-ratelimit-remaining", "100");
        assertThat(h.get("ratelimit")).isEqualTo("\"free-1s\";r=100;t=0");
        assertThat(h.get("ratelimit-policy")).isEqualTo("\"free-1s\";q=100;w=1");
    }

    @Test
    void burstEqualToTheRate_remainingIsTheBucketsCount_asTheReadmeShows() {
        Map<String, String> h =
                RateLimitHeaders.of(RateLimitPolicy.HeaderStyle.X_RATELIMIT, "enterprise", fullBucket(500, 500));
        assertThat(h)
                .containsEntry("x-ratelimit-limit", "500")
                .containsEntry("x-ratelimit-remaining", "499")
                .containsEntry("x-ratelimit-reset", "0");
    }
}
