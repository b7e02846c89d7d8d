package io.meshguard.extauthz.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.grpc.ManagedChannel;
import io.meshguard.catalog.apikey.JdbcApiKeyStore;
import io.meshguard.catalogmodel.apikey.ApiKeyService;
import io.meshguard.extauthz.quota.QuotaConfig;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
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
        ExtAuthzConfig config = ExtAuthzConfig.onLoopback(policy, Duration.ofMillis(100))
                .withQuota(QuotaConfig.Values.DEFAULTS.withAdminTokenFile(Optional.of(tokens)));
        assertThat(config.apiKeyCacheTtl())
                .as("records are cached long enough to matter")
                .isGreaterThan(Duration.ofSeconds(10));
        try (ReplicaSet replicas = ReplicaSet.start(3, config, PG.dataSource(), "revocation-http")) {
            for (ManagedChannel ch : replicas.channels()) {
                assertThat(ReplicaSet.checkWithKey(ch, key).hasOkResponse())
                        .as("every replica caches the valid key")
                        .isTrue();
            }

            HttpResponse<String> revoked =
                    replicas.post("/apikeys/" + keyId + "/revoke", "r".repeat(24), "{\"reason\": \"leaked in a log\"}");
            assertThat(revoked.statusCode()).as(revoked.body()).isEqualTo(200);
            long revokedAt = System.nanoTime();

            CheckResponse here = ReplicaSet.checkWithKey(replicas.channel(0), key);
            assertThat(here.hasDeniedResponse())
                    .as("the replica that revoked it")
                    .isTrue();
            assertThat(here.getDeniedResponse().getStatus().getCodeValue()).isEqualTo(401);
            for (int i = 1; i < 3; i++) {
                ManagedChannel ch = replicas.channel(i);
                org.awaitility.Awaitility.await()
                        .pollInterval(Duration.ofMillis(20))
                        .atMost(Duration.ofSeconds(2))
                        .until(() -> ReplicaSet.checkWithKey(ch, key).hasDeniedResponse());
                System.out.printf(
                        "replica %d refuses the revoked key %d ms after the revocation%n",
                        i, (System.nanoTime() - revokedAt) / 1_000_000);
            }
        }
    }
}
