package io.meshguard.extauthz.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.meshguard.catalog.apikey.ApiKeyService;
import io.meshguard.catalog.apikey.JdbcApiKeyStore;
import io.meshguard.extauthz.quota.QuotaConfig;
import io.meshguard.extauthz.tools.CheckRequests;
import io.meshguard.runtime.http.HttpServerSettings;
import io.meshguard.runtime.http.StatusHttpServer;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A revoked API key, over real gRPC on three extauthz replicas sharing one PostgreSQL, each holding the key's record in
 * its 30-second cache: the replica that revoked it refuses the key at once, the others within 2 s (the revocation is
 * pushed, not waited out).
 */
@IntegrationTest
class ApiKeyRevocationTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @TempDir
    Path dir;

    @Test
    void revoke_throughOneReplica_refusedThereAtOnce_andOnEveryOtherReplicaWithin2s() throws Exception {
        Path policy = dir.resolve("authz.yaml");
        Files.writeString(policy, """
                rate_limits:
                  default_tier: free
                  tiers: {free: {requests_per_second: 1000, burst: 1000}}
                routes:
                  - {name: api, match: {path_prefix: /api}, auth: apikey}
                """);
        Path tokens = dir.resolve("tokens");
        Files.writeString(tokens, "ops:" + "r".repeat(24) + "\n");
        String key = new ApiKeyService(new JdbcApiKeyStore(PG.dataSource()), Clock.systemUTC())
                .create("leaked", "svc", "acme", List.of(), List.of(), "free", Optional.empty())
                .text();
        String keyId = key.substring(4, 20);
        ExtAuthzConfig config = ExtAuthzConfig.defaults()
                .withGrpc("127.0.0.1", 0)
                .withShutdown(Duration.ZERO, Duration.ofSeconds(5))
                .withPolicy(policy, Duration.ofMillis(100))
                .withQuota(QuotaConfig.Values.DEFAULTS.withAdminTokenFile(Optional.of(tokens)));
        assertThat(config.apiKeyCacheTtl())
                .as("records are cached long enough to matter")
                .isGreaterThan(Duration.ofSeconds(10));
        List<ExtAuthzServer> servers = new ArrayList<>();
        List<ManagedChannel> channels = new ArrayList<>();
        StatusHttpServer http = new StatusHttpServer(
                "revocation-http",
                new HttpServerSettings("127.0.0.1", 0),
                new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
        try {
            for (int i = 0; i < 3; i++) {
                ExtAuthzServer s = new ExtAuthzServer(
                        config, new SimpleMeterRegistry(), Optional.of(PG.dataSource()), e -> {}, Clock.systemUTC());
                servers.add(s);
                if (i == 0) {
                    s.mountQuotaApi(http);
                }
                s.start();
                channels.add(ManagedChannelBuilder.forAddress("127.0.0.1", s.grpcPort())
                        .usePlaintext()
                        .build());
            }
            http.start();
            for (ManagedChannel ch : channels) {
                assertThat(check(ch, key).hasOkResponse())
                        .as("every replica caches the valid key")
                        .isTrue();
            }

            HttpResponse<String> revoked = HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(URI.create(
                                            "http://127.0.0.1:" + http.port() + "/apikeys/" + keyId + "/revoke"))
                                    .header("Authorization", "Bearer " + "r".repeat(24))
                                    .POST(HttpRequest.BodyPublishers.ofString("{\"reason\": \"leaked in a log\"}"))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
            assertThat(revoked.statusCode()).as(revoked.body()).isEqualTo(200);
            long revokedAt = System.nanoTime();

            CheckResponse here = check(channels.get(0), key);
            assertThat(here.hasDeniedResponse())
                    .as("the replica that revoked it")
                    .isTrue();
            assertThat(here.getDeniedResponse().getStatus().getCodeValue()).isEqualTo(401);
            for (int i = 1; i < 3; i++) {
                ManagedChannel ch = channels.get(i);
                org.awaitility.Awaitility.await()
                        .pollInterval(Duration.ofMillis(20))
                        .atMost(Duration.ofSeconds(2))
                        .until(() -> check(ch, key).hasDeniedResponse());
                System.out.printf(
                        "replica %d refuses the revoked key %d ms after the revocation%n",
                        i, (System.nanoTime() - revokedAt) / 1_000_000);
            }
        } finally {
            channels.forEach(ManagedChannel::shutdownNow);
            servers.forEach(ExtAuthzServer::close);
            http.close();
        }
    }

    /** A Check of {@code /api/x} with {@code key} in {@code x-api-key}, as a gateway asks it. */
    static CheckResponse check(ManagedChannel ch, String key) {
        return AuthorizationGrpc.newBlockingStub(ch)
                .withDeadlineAfter(Duration.ofSeconds(30))
                .check(CheckRequests.of(
                        "GET",
                        "api.test.example",
                        "/api/x",
                        Map.of("x-api-key", List.of(key)),
                        Map.of(),
                        CheckRequests.Encoding.HEADERS));
    }
}
