package io.meshguard.extauthz.server;

import static io.meshguard.extauthz.Fixtures.RS1;
import static io.meshguard.extauthz.Fixtures.claims;
import static io.meshguard.extauthz.Fixtures.headers;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.grpc.ManagedChannel;
import io.meshguard.extauthz.Fixtures;
import io.meshguard.extauthz.audit.AuthzDecisionEvent;
import io.meshguard.extauthz.tools.CheckRequests;
import io.meshguard.extauthz.tools.TestKeys;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.JwksServer;
import io.meshguard.testing.LoopbackGrpc;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Policy edits while Checks stream in: every Check gets an answer from a complete policy, none is lost. */
@IntegrationTest
class ReloadUnderLoadTest {
    @TempDir
    Path dir;

    private static String version(JwksServer jwks, String apiRouteName) {
        return Fixtures.policyYaml("jwks_uri: " + jwks.jwksUri(), "")
                .replace("name: api\n", "name: " + apiRouteName + "\n");
    }

    private void write(Path policy, String text) throws Exception {
        // editors and ConfigMap updates replace the file; a half-written file must never be read
        Path tmp = Files.createTempFile(dir, "authz", ".tmp");
        Files.writeString(tmp, text);
        Files.move(tmp, policy, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    @Test
    void reload_underLoad_losesNoCheck_andInvalidEditsKeepTheRunningPolicy() throws Exception {
        try (JwksServer jwks = new JwksServer(Fixtures.ISSUER, TestKeys.publicSet(List.of(RS1)))) {
            Path policy = dir.resolve("authz.yaml");
            write(policy, version(jwks, "api-v1"));
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            ConcurrentLinkedQueue<AuthzDecisionEvent> audit = new ConcurrentLinkedQueue<>();
            ExtAuthzServer server = new ExtAuthzServer(
                    ExtAuthzConfig.onLoopback(policy, Duration.ofMillis(50)),
                    registry,
                    Optional.empty(),
                    audit::add,
                    Clock.systemUTC());
            server.start();
            ManagedChannel channel = LoopbackGrpc.channelTo(server.grpcPort());
            try {
                String token =
                        RS1.sign(claims("alice", "big-tenant", List.of("user")).build());
                CheckRequest request = CheckRequests.of(
                        "GET",
                        "api.test.example",
                        "/api/orders",
                        headers("authorization", "Bearer " + token, "x-tenant-id", "big-tenant"),
                        Map.of(),
                        CheckRequests.Encoding.HEADERS);
                AtomicBoolean done = new AtomicBoolean();
                AtomicInteger sent = new AtomicInteger();
                AtomicInteger answered = new AtomicInteger();
                Map<String, Integer> outcomes = new ConcurrentHashMap<>();
                ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
                List<Thread> load = new java.util.ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    load.add(Thread.ofPlatform().start(() -> {
                        AuthorizationGrpc.AuthorizationBlockingStub stub = AuthorizationGrpc.newBlockingStub(channel);
                        while (!done.get() && sent.get() < 20_000) {
                            sent.incrementAndGet();
                            try {
                                CheckResponse r = stub.withDeadlineAfter(Duration.ofSeconds(30))
                                        .check(request);
                                answered.incrementAndGet();
                                outcomes.merge(
                                        r.getStatus().getCode() == 0
                                                ? "allow"
                                                : "deny:"
                                                        + r.getDeniedResponse().getBody(),
                                        1,
                                        Integer::sum);
                            } catch (RuntimeException e) {
                                errors.add(e);
                            }
                        }
                    }));
                }
                await().atMost(Duration.ofSeconds(20)).until(() -> answered.get() > 50);
                String[] edits = {"api-v2", "INVALID", "api-v3", "api-v4"};
                for (String edit : edits) {
                    double okBefore = registry.get("meshguard.policy.reload")
                            .tag("policy", "authz")
                            .tag("result", "success")
                            .counter()
                            .count();
                    double badBefore = registry.get("meshguard.policy.reload")
                            .tag("policy", "authz")
                            .tag("result", "invalid")
                            .counter()
                            .count();
                    int answeredBefore = answered.get();
                    write(
                            policy,
                            edit.equals("INVALID")
                                    ? "routes:\n  - {name: x, match: {path: nope}, auth: maybe}\n"
                                    : version(jwks, edit));
                    await().atMost(Duration.ofSeconds(20))
                            .until(() -> registry.get("meshguard.policy.reload")
                                                    .tag("policy", "authz")
                                                    .tag("result", "success")
                                                    .counter()
                                                    .count()
                                            > okBefore
                                    || registry.get("meshguard.policy.reload")
                                                    .tag("policy", "authz")
                                                    .tag("result", "invalid")
                                                    .counter()
                                                    .count()
                                            > badBefore);
                    // let Checks run on the new (or kept) policy before the next edit
                    await().atMost(Duration.ofSeconds(20)).until(() -> answered.get() > answeredBefore + 50);
                }
                done.set(true);
                for (Thread t : load) {
                    t.join();
                }
                assertThat(errors).isEmpty();
                assertThat(answered.get()).isEqualTo(sent.get());
                assertThat(outcomes).containsOnlyKeys("allow");
                assertThat(server.pipeline().policy().orElseThrow().routeNamed("api-v4"))
                        .isPresent();
                assertThat(audit.stream().map(e -> e.route().orElse("?")).distinct())
                        .contains("api-v1", "api-v4")
                        .allSatisfy(r -> assertThat(r).startsWith("api-v"));
                assertThat(registry.get("meshguard.policy.reload")
                                .tag("policy", "authz")
                                .tag("result", "invalid")
                                .counter()
                                .count())
                        .isEqualTo(1);
            } finally {
                channel.shutdownNow();
                server.close();
            }
        }
    }
}
