package io.meshguard.extauthz.ratelimit;

import static io.meshguard.extauthz.Fixtures.RS1;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.meshguard.authz.ratelimit.RateLimiter;
import io.meshguard.authz.ratelimit.Verdict;
import io.meshguard.extauthz.Fixtures;
import io.meshguard.extauthz.TestPipeline;
import io.meshguard.extauthz.redis.RedisConnection;
import io.meshguard.extauthz.redis.RedisSettings;
import io.meshguard.extauthz.server.AuthorizationService;
import io.meshguard.extauthz.server.AuthzPipeline;
import io.meshguard.extauthz.tools.TestKeys;
import io.meshguard.testing.EmbeddedRedis;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.JwksServer;
import io.meshguard.testing.LoopbackGrpc;
import io.meshguard.testing.OpenResources;
import io.meshguard.testing.SharedRedis;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.StringReader;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Published class "client-reset in-flight Checks" (Envoy GHSA-qm74-x36m-555q / CVE-2024-45810), rate limits: a Check
 * Envoy cancelled before its answer was sent (the downstream reset, so no request follows it) gives back the tokens
 * it took, for every kind of limiter: this replica's buckets, the shared store (real Redis), and the degraded share
 * while the store is down. A Check whose answer was sent keeps its tokens, so cancelling mints no free calls.
 */
@IntegrationTest
class CancelledCheckTokensTest {
    /** Every place a rate-limit count lives. */
    enum Kind {
        LOCAL(Verdict.Source.LOCAL),
        GLOBAL(Verdict.Source.GLOBAL),
        DEGRADED(Verdict.Source.DEGRADED);

        final Verdict.Source source;

        Kind(Verdict.Source source) {
            this.source = source;
        }
    }

    @AutoClose
    final OpenResources open = new OpenResources();

    private RateLimiter limiter(Kind kind, SimpleMeterRegistry registry) throws Exception {
        String prefix = SharedRedis.keyPrefix(CancelledCheckTokensTest.class) + System.nanoTime() + ":";
        return switch (kind) {
            case LOCAL -> new TokenBucketLimiter(1000, Duration.ofMinutes(1), System::nanoTime);
            case GLOBAL -> {
                RedisConnection connection = RedisConnection.open(RedisSettings.none()
                        .withUrl(SharedRedis.get().url())
                        .withKeyPrefix(prefix)
                        .withCommandTimeout(Duration.ofSeconds(1)));
                open.add(connection);
                RedisRateLimiter r = new RedisRateLimiter(
                        connection, RateLimitSettings.DEFAULTS, registry, System::nanoTime, "cancel-global");
                open.add(r);
                yield r;
            }
            case DEGRADED -> {
                String url = EmbeddedRedis.closedUrl();
                RedisConnection connection = RedisConnection.connectInBackground(
                        RedisSettings.none().withUrl(url).withKeyPrefix(prefix));
                open.add(connection);
                RedisRateLimiter r = new RedisRateLimiter(
                        connection, RateLimitSettings.DEFAULTS, registry, System::nanoTime, "cancel-degraded");
                open.add(r);
                yield r;
            }
        };
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Kind.class)
    void checkCancelledBeforeItsAnswer_givesItsTokensBack_answeredChecksKeepTheirs(Kind kind) throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (JwksServer jwks = new JwksServer(Fixtures.ISSUER, TestKeys.publicSet(List.of(RS1)))) {
            // two requests a minute for tenant t-small, no refill within the test
            String yaml = Fixtures.policyYaml("jwks_uri: " + jwks.jwksUri(), "")
                    .replace("small: {requests_per_second: 1, burst: 3}", "small: {limits: [{requests: 2, per: 1m}]}");
            RateLimiter limiter = limiter(kind, registry);
            AuthzPipeline pipeline = TestPipeline.build(registry, p -> p.limiter = limiter);
            open.add(pipeline);
            pipeline.use(new io.meshguard.authz.policy.AuthzPolicyParser().parse("authz.yaml", new StringReader(yaml)));
            Server server =
                    LoopbackGrpc.serve(new AuthorizationService(pipeline, e -> {}, Clock.systemUTC(), registry));
            open.add(server::shutdownNow);
            ManagedChannel channel = LoopbackGrpc.channelTo(server.getPort());
            open.add(channel::shutdownNow);
            String token = RS1.sign(Fixtures.claims("cancel-" + kind, "t-small", List.of("user"))
                    .build());
            CheckRequest check = Fixtures.bearerCheck(token, "t-small");

            // the server decides the cancelled Check once the IdP answers, and its limiter counts it then
            Fixtures.cancelWhileKeysLoad(jwks, Duration.ofMillis(1500), channel, check);
            await().atMost(Duration.ofSeconds(15))
                    .until(() -> registry.counter("meshguard_authz_cancelled_checks_total")
                                    .count()
                            >= 1);
            jwks.answerAfter(Duration.ZERO);

            // the two answered Checks the limit allows, then a refusal: the cancelled one took nothing, and answered
            // Checks keep what they took
            var stub = AuthorizationGrpc.newBlockingStub(channel);
            List<CheckResponse> answers = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                answers.add(stub.withDeadlineAfter(10, TimeUnit.SECONDS).check(check));
            }
            assertThat(answers.subList(0, 2)).allSatisfy(r -> assertThat(r.hasOkResponse())
                    .as("allowed: %s", r.getDeniedResponse().getBody())
                    .isTrue());
            assertThat(answers.get(2).getDeniedResponse().getStatus().getCodeValue())
                    .isEqualTo(429);
            assertThat(registry.counter("meshguard_authz_cancelled_checks_tokens_returned_total")
                            .count())
                    .isEqualTo(1.0);
            if (limiter instanceof RedisRateLimiter) {
                assertThat(registry.find("meshguard_ratelimit_decisions_total")
                                .tag("source", kind.source.name().toLowerCase(java.util.Locale.ROOT))
                                .tag("result", "allow")
                                .counter()
                                .count())
                        .as("decided by the %s limiter", kind)
                        .isEqualTo(3.0);
            }
        }
    }
}
