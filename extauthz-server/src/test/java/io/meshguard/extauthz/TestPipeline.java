package io.meshguard.extauthz;

import com.nimbusds.jose.jwk.JWKSet;
import io.meshguard.authz.apikey.ApiKeyAuthenticator;
import io.meshguard.authz.decision.SecretFiles;
import io.meshguard.authz.jwt.JwksRegistry;
import io.meshguard.authz.policy.AuthzPolicy;
import io.meshguard.authz.quota.QuotaGate;
import io.meshguard.authz.ratelimit.RateLimiter;
import io.meshguard.authz.subscription.SubscriptionGate;
import io.meshguard.extauthz.ratelimit.TokenBucketLimiter;
import io.meshguard.extauthz.server.AuthzPipeline;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The parts of an {@link AuthzPipeline} as tests build one: keys only from local key sets (none unless given), no API
 * keys, a local rate limiter no test runs out of, the system clock, no calendar quotas and no product subscriptions. A
 * test sets the parts it is about: {@code TestPipeline.build(registry, p -> p.keys = local)}.
 */
public final class TestPipeline {
    /** Issuers' key sets by issuer name, as the policy's {@code keys: local} finds them. */
    public Map<String, JWKSet> keys = Map.of();

    public Optional<ApiKeyAuthenticator> apiKeys = Optional.empty();
    public RateLimiter limiter = new TokenBucketLimiter(1000, Duration.ofMinutes(1), System::nanoTime);
    public Clock clock = Clock.systemUTC();
    public QuotaGate quotas = QuotaGate.NONE;
    public SubscriptionGate subscriptions = SubscriptionGate.NONE;

    private TestPipeline() {}

    /** The pipeline of the test defaults with {@code parts} set, no policy running yet. */
    public static AuthzPipeline build(MeterRegistry registry, Consumer<TestPipeline> parts) {
        TestPipeline p = new TestPipeline();
        parts.accept(p);
        return new AuthzPipeline(
                new JwksRegistry(registry, p.keys, Duration.ofSeconds(5)),
                p.apiKeys,
                p.limiter,
                new SecretFiles(System::nanoTime),
                p.clock,
                registry,
                1000,
                Duration.ofMinutes(5),
                p.quotas,
                p.subscriptions);
    }

    /** The same pipeline, running {@code policy}. */
    public static AuthzPipeline running(AuthzPolicy policy, MeterRegistry registry, Consumer<TestPipeline> parts) {
        AuthzPipeline pipeline = build(registry, parts);
        pipeline.use(policy);
        return pipeline;
    }
}
