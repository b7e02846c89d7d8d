package io.meshguard.extauthz.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.meshguard.catalog.apikey.JdbcApiKeyStore;
import io.meshguard.catalogmodel.apikey.ApiKeyService;
import io.meshguard.extauthz.quota.QuotaConfig;
import io.meshguard.extauthz.redis.RedisSettings;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.testing.SharedRedis;
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

/** Two extauthz servers over real gRPC sharing one PostgreSQL and one Redis: one quota, and the admin endpoint resets it. */
@IntegrationTest
class QuotaServerTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @TempDir
    Path dir;

    @Test
    void twoReplicas_shareOneQuota_overGrpc_andAResetThroughTheAdminEndpointOpensItAgain() throws Exception {
        Path policy = dir.resolve("authz.yaml");
        Files.writeString(policy, """
                rate_limits:
                  default_tier: free
                  tiers: {free: {requests_per_second: 1000, burst: 1000}}
                routes:
                  - {name: api, match: {path_prefix: /api}, auth: apikey}
                quotas:
                  - {name: daily, per: api_key, period: day, timezone: Asia/Seoul, limits: {free: 4}}
                """);
        Path tokens = dir.resolve("tokens");
        Files.writeString(tokens, "ops:" + "t".repeat(24) + "\n");
        String key = new ApiKeyService(new JdbcApiKeyStore(PG.dataSource()), Clock.systemUTC())
                .create("bench", "svc", "acme", List.of(), List.of(), "free", Optional.empty())
                .text();
        String keyId = key.substring(4, 20);
        ExtAuthzConfig config = ExtAuthzConfig.onLoopback(policy, Duration.ofMillis(100))
                .withRedis(RedisSettings.none()
                        .withUrl(SharedRedis.get().url())
                        .withKeyPrefix(SharedRedis.keyPrefix(getClass()))
                        .withCommandTimeout(Duration.ofSeconds(2)))
                .withQuota(QuotaConfig.Values.DEFAULTS.withAdminTokenFile(Optional.of(tokens)));
        try (ReplicaSet replicas = ReplicaSet.start(2, config, PG.dataSource(), "quota-http")) {
            int allowed = 0;
            CheckResponse last = null;
            for (int i = 0; i < 7; i++) {
                last = ReplicaSet.checkWithKey(replicas.channel(i % 2), key);
                if (last.hasOkResponse()) {
                    allowed++;
                }
            }
            assertThat(allowed).isEqualTo(4);
            assertThat(last.getDeniedResponse().getStatus().getCodeValue()).isEqualTo(429);
            assertThat(last.getDeniedResponse().getBody()).contains("\"quota\":\"daily\"");
            assertThat(last.getDeniedResponse().getHeadersList())
                    .anySatisfy(h -> assertThat(h.getHeader().getKey()).isEqualTo("retry-after"));

            // a reset sets the period to zero in both stores; counts a replica has not flushed yet would land on top
            // of the zero (docs/operate/sell-an-api.md, quota reset), so the reset here comes after both replicas
            // flushed
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> durableCount(keyId) == 4);
            HttpResponse<String> reset = replicas.post(
                    "/quotas/daily/reset",
                    "t".repeat(24),
                    "{\"caller\":\"api_key:" + keyId + "\",\"reason\":\"test reset\"}");
            assertThat(reset.statusCode()).as(reset.body()).isEqualTo(200);
            assertThat(reset.body()).contains("\"actor\" : \"ops\"").contains("\"live\" : 0");
            CheckResponse again = ReplicaSet.checkWithKey(replicas.channel(1), key);
            assertThat(again.hasOkResponse()).isTrue();
            assertThat(again.getOkResponse().getResponseHeadersToAddList()).anySatisfy(h -> {
                assertThat(h.getHeader().getKey()).isEqualTo("x-quota-remaining");
                assertThat(h.getHeader().getValue()).isEqualTo("3");
            });
        }
        try (var c = PG.dataSource().getConnection();
                var s = c.prepareStatement("select used from quota_usage where quota = 'daily' and caller = ?")) {
            s.setString(1, "api_key:" + keyId);
            try (var rs = s.executeQuery()) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getLong(1))
                        .as("4 before the reset, -4 by it, 1 after: written by both replicas at close")
                        .isEqualTo(1);
            }
        }
    }

    private static long durableCount(String keyId) throws java.sql.SQLException {
        try (var c = PG.dataSource().getConnection();
                var s = c.prepareStatement(
                        "select coalesce(sum(used), 0) from quota_usage where quota = 'daily' and caller = ?")) {
            s.setString(1, "api_key:" + keyId);
            try (var rs = s.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }
}
