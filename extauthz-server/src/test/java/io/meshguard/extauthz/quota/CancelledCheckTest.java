package io.meshguard.extauthz.quota;

import static io.meshguard.extauthz.Fixtures.RS1;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.meshguard.extauthz.Fixtures;
import io.meshguard.extauthz.TestPipeline;
import io.meshguard.extauthz.audit.AuthzDecisionEvent;
import io.meshguard.extauthz.server.AuthorizationService;
import io.meshguard.extauthz.server.AuthzPipeline;
import io.meshguard.extauthz.tools.TestKeys;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.JwksServer;
import io.meshguard.testing.LoopbackGrpc;
import io.meshguard.testing.PostgresExtension;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.StringReader;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Published class "client-reset in-flight Checks" (Envoy GHSA-qm74-x36m-555q / CVE-2024-45810: a local reply while
 * the ext_authz call was in flight): when the downstream resets, Envoy cancels its Check. A Check cancelled while it
 * waits (here on a slow IdP) charges no quota, and its audit row is written whole and says the Check was cancelled,
 * never lost because the answer had no one to go to.
 */
@IntegrationTest
class CancelledCheckTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @Test
    void checkCancelledInFlight_chargesNoQuota_andItsAuditRowIsWholeAndSaysCancelled() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        ConcurrentLinkedQueue<AuthzDecisionEvent> audit = new ConcurrentLinkedQueue<>();
        try (JwksServer jwks = new JwksServer(Fixtures.ISSUER, TestKeys.publicSet(List.of(RS1)))) {
            String yaml = Fixtures.policyYaml("jwks_uri: " + jwks.jwksUri(), "") + """
                    quotas:
                      - {name: daily, per: subject, period: day, timezone: UTC, limits: {small: 5, big: 5}, routes: [api]}
                    """;
            QuotaCounter counter = new QuotaCounter(
                    Optional.of(new QuotaStore(PG.dataSource())),
                    Optional::empty,
                    new LiveCounters("cancel:", Duration.ofSeconds(1)),
                    QuotaAudit.logOnly(),
                    Clock.systemUTC(),
                    System::nanoTime,
                    QuotaTestSupport.settings(),
                    registry);
            AuthzPipeline pipeline = TestPipeline.build(registry, p -> p.quotas = counter);
            pipeline.use(new io.meshguard.authz.policy.AuthzPolicyParser().parse("authz.yaml", new StringReader(yaml)));
            Server server =
                    LoopbackGrpc.serve(new AuthorizationService(pipeline, audit::add, Clock.systemUTC(), registry));
            ManagedChannel channel = LoopbackGrpc.channelTo(server.getPort());
            try {
                String token = RS1.sign(Fixtures.claims("cancel-subject", "big-tenant", List.of("user"))
                        .build());
                CheckRequest check = Fixtures.bearerCheck(token, "big-tenant");

                Fixtures.cancelWhileKeysLoad(jwks, Duration.ofMillis(2000), channel, check);
                // the server finishes the cancelled Check once the IdP answers
                await().atMost(Duration.ofSeconds(15))
                        .until(() -> registry.find("meshguard_authz_decisions_total").counters().stream()
                                        .mapToDouble(c -> c.count())
                                        .sum()
                                >= 1);
                jwks.answerAfter(Duration.ZERO);

                CheckResponse next = AuthorizationGrpc.newBlockingStub(channel)
                        .withDeadlineAfter(10, TimeUnit.SECONDS)
                        .check(check);
                assertThat(next.hasOkResponse()).isTrue();
                // five a day: the cancelled Check took none of them
                assertThat(next.getOkResponse().getResponseHeadersToAddList()).anySatisfy(h -> {
                    assertThat(h.getHeader().getKey()).isEqualTo("x-quota-remaining");
                    assertThat(h.getHeader().getValue()).isEqualTo("4");
                });

                await().atMost(Duration.ofSeconds(5)).until(() -> audit.size() >= 2);
                assertThat(audit)
                        .filteredOn(e -> "true".equals(e.details().get("client_cancelled")))
                        .singleElement()
                        .satisfies(e -> {
                            assertThat(e.route()).contains("api");
                            assertThat(e.path()).isEqualTo("/api/x");
                            assertThat(e.requestId()).isNotEmpty();
                        });
            } finally {
                channel.shutdownNow();
                server.shutdownNow();
                pipeline.close();
            }
        }
    }
}
