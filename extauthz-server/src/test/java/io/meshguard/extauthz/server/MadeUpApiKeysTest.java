package io.meshguard.extauthz.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.grpc.ManagedChannel;
import io.meshguard.catalog.apikey.JdbcApiKeyStore;
import io.meshguard.catalogmodel.apikey.ApiKeyService;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.LoopbackGrpc;
import io.meshguard.testing.PostgresExtension;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A flood of made-up API keys over real gRPC against a replica on a real PostgreSQL: each is refused (401), and beyond
 * {@code apikey.unlisted_reads_per_second} none of them is read from the database; a key created meanwhile — by
 * another process, straight into PostgreSQL — is admitted all the same, from its V79 notice even when the budget is 0.
 */
@IntegrationTest
class MadeUpApiKeysTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    private static final SecureRandom RANDOM = new SecureRandom();

    @TempDir
    Path dir;

    @Test
    void madeUpKeys_refusedMostlyUnread_whileANewKeyIsAdmittedFromItsNotice() throws Exception {
        String existing = create();
        try (Replica replica = Replica.start(config().withApiKeyUnlistedReads(0))) {
            assertThat(replica.status(existing))
                    .as("a key stored before the start")
                    .isZero();

            for (int i = 0; i < 500; i++) {
                assertThat(replica.status(madeUp())).isEqualTo(401);
            }
            assertThat(replica.unlisted("refused")).isEqualTo(500);
            assertThat(replica.unlisted("read"))
                    .as("budget 0: not one of them read")
                    .isZero();

            String created = create();
            Awaitility.await()
                    .pollInterval(Duration.ofMillis(20))
                    .atMost(Duration.ofSeconds(2))
                    .until(() -> replica.status(created) == 0);
            assertThat(replica.unlisted("read")).isZero();
        }
    }

    @Test
    void withinTheBudget_aKeyUsedBeforeItsNoticeIsRead_andAdmitted() throws Exception {
        create();
        assertThat(ExtAuthzConfig.defaults().apiKeyUnlistedReadsPerSecond())
                .as("the shipped default reads some")
                .isPositive();
        try (Replica replica = Replica.start(config())) {
            // a key inserted with the notice trigger off: the replica does not know it, as before its notice arrives
            String unnoticed;
            try (var c = PG.dataSource().getConnection();
                    var s = c.createStatement()) {
                s.execute("alter table api_keys disable trigger api_keys_created");
                try {
                    unnoticed = create();
                } finally {
                    s.execute("alter table api_keys enable trigger api_keys_created");
                }
            }
            assertThat(replica.status(unnoticed)).isZero();
            assertThat(replica.unlisted("read")).isEqualTo(1);
        }
    }

    /** One extauthz replica on the test's database, started once it has read the stored keys' ids. */
    private record Replica(ExtAuthzServer server, ManagedChannel channel, SimpleMeterRegistry registry)
            implements AutoCloseable {
        static Replica start(ExtAuthzConfig config) throws Exception {
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            ExtAuthzServer server =
                    new ExtAuthzServer(config, registry, Optional.of(PG.dataSource()), e -> {}, Clock.systemUTC());
            server.start();
            Replica replica = new Replica(server, LoopbackGrpc.channelTo(server.grpcPort()), registry);
            // every test stores a key first, so a count of at least one means the ids were read
            Awaitility.await()
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> registry.get("meshguard_authz_apikey_ids_known")
                                    .gauge()
                                    .value()
                            >= 1);
            return replica;
        }

        double unlisted(String outcome) {
            return registry.get("meshguard_authz_apikey_unlisted_ids_total")
                    .tag("outcome", outcome)
                    .functionCounter()
                    .count();
        }

        int status(String key) {
            CheckResponse r = ReplicaSet.checkWithKey(channel, key);
            return r.hasOkResponse() ? 0 : r.getDeniedResponse().getStatus().getCodeValue();
        }

        @Override
        public void close() {
            channel.shutdownNow();
            server.close();
        }
    }

    private ExtAuthzConfig config() throws Exception {
        Path policy = Files.writeString(dir.resolve("authz.yaml"), """
                rate_limits:
                  default_tier: free
                  tiers: {free: {requests_per_second: 100000, burst: 100000}}
                routes:
                  - {name: api, match: {path_prefix: /api}, auth: apikey}
                """);
        return ExtAuthzConfig.onLoopback(policy, Duration.ofSeconds(1));
    }

    private static String create() throws Exception {
        return new ApiKeyService(new JdbcApiKeyStore(PG.dataSource()), Clock.systemUTC())
                .create("app", "svc", "acme", List.of(), List.of(), "free", Optional.empty())
                .text();
    }

    /** A key of the right shape whose id and secret nobody issued. */
    private static String madeUp() {
        byte[] secret = new byte[32];
        RANDOM.nextBytes(secret);
        return "mgk_" + HexFormat.of().toHexDigits(RANDOM.nextLong()) + "_"
                + Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
    }
}
