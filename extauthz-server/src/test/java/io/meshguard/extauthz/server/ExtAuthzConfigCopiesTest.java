package io.meshguard.extauthz.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.extauthz.quota.QuotaConfig;
import io.meshguard.extauthz.ratelimit.RateLimitSettings;
import io.meshguard.extauthz.redis.RedisSettings;
import io.meshguard.extauthz.subscription.SubscriptionStateSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Each {@code with…} copy changes what it names and carries every other setting unchanged: changing the value back
 * gives a config equal to the one it started from.
 */
class ExtAuthzConfigCopiesTest {
    private static final ExtAuthzConfig BASE = ExtAuthzConfig.defaults();

    @Test
    void grpcCopies_changeTheServerSettingsOnly() {
        ExtAuthzConfig c = BASE.withGrpc("127.0.0.1", 0).withShutdown(Duration.ZERO, Duration.ofSeconds(5));
        assertThat(c.grpc().port()).isZero();
        assertThat(c.grpc()).isNotEqualTo(BASE.grpc());
        assertThat(c.withGrpcSettings(BASE.grpc())).isEqualTo(BASE);
    }

    @Test
    void policyCopies_changeThePolicySettingsOnly() {
        ExtAuthzConfig c = BASE.withPolicy(Path.of("elsewhere.yaml"), Duration.ofMillis(7));
        assertThat(c.policyFile()).isEqualTo(Path.of("elsewhere.yaml"));
        assertThat(c.policyReloadInterval()).isEqualTo(Duration.ofMillis(7));
        assertThat(c.withPolicy(BASE.policyFile(), BASE.policyReloadInterval())).isEqualTo(BASE);

        ExtAuthzConfig approving = BASE.withPolicyApproval(!BASE.policyRequireApproval());
        assertThat(approving.policyRequireApproval()).isNotEqualTo(BASE.policyRequireApproval());
        assertThat(approving.withPolicyApproval(BASE.policyRequireApproval())).isEqualTo(BASE);
    }

    @Test
    void cacheAndKeyCopies_changeTheirLimitOnly() {
        ExtAuthzConfig tokens = BASE.withTokenCache(BASE.tokenCacheMaxEntries() + 1);
        assertThat(tokens.tokenCacheMaxEntries()).isEqualTo(BASE.tokenCacheMaxEntries() + 1);
        assertThat(tokens.withTokenCache(BASE.tokenCacheMaxEntries())).isEqualTo(BASE);

        ExtAuthzConfig reads = BASE.withApiKeyUnlistedReads(BASE.apiKeyUnlistedReadsPerSecond() + 1);
        assertThat(reads.apiKeyUnlistedReadsPerSecond()).isEqualTo(BASE.apiKeyUnlistedReadsPerSecond() + 1);
        assertThat(reads.withApiKeyUnlistedReads(BASE.apiKeyUnlistedReadsPerSecond()))
                .isEqualTo(BASE);
    }

    @Test
    void storeCopies_changeTheirStoreOnly() {
        QuotaConfig.Values quota = BASE.quota().withAdminTokenFile(Optional.of(Path.of("tokens")));
        assertThat(BASE.withQuota(quota).quota()).isEqualTo(quota);
        assertThat(BASE.withQuota(quota).withQuota(BASE.quota())).isEqualTo(BASE);

        RedisSettings redis = RedisSettings.none().withUrl("redis://127.0.0.1:6379");
        assertThat(BASE.withRedis(redis).redis()).isEqualTo(redis);
        assertThat(BASE.withRedis(redis).withRedis(BASE.redis())).isEqualTo(BASE);

        RateLimitSettings limits = RateLimitSettings.DEFAULTS.withBreaker(9, Duration.ofSeconds(9));
        assertThat(BASE.withRateLimit(limits).rateLimit()).isEqualTo(limits);
        assertThat(BASE.withRateLimit(limits).withRateLimit(BASE.rateLimit())).isEqualTo(BASE);

        SubscriptionStateSettings subscriptions =
                new SubscriptionStateSettings(Optional.of("xds:18000"), Duration.ofMinutes(3));
        assertThat(BASE.withSubscriptions(subscriptions).subscriptions()).isEqualTo(subscriptions);
        assertThat(BASE.withSubscriptions(subscriptions).withSubscriptions(BASE.subscriptions()))
                .isEqualTo(BASE);
    }

    @Test
    void onLoopback_isTheDefaultsOnAFreeLoopbackPort_withoutDrain_andThisPolicy() {
        ExtAuthzConfig c = ExtAuthzConfig.onLoopback(Path.of("authz.yaml"), Duration.ofSeconds(1));
        assertThat(c)
                .isEqualTo(BASE.withGrpc("127.0.0.1", 0)
                        .withShutdown(Duration.ZERO, Duration.ofSeconds(5))
                        .withPolicy(Path.of("authz.yaml"), Duration.ofSeconds(1)));
        assertThat(c.grpc().port()).isZero();
    }
}
