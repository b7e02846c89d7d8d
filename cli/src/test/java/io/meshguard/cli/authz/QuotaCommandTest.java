package io.meshguard.cli.authz;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.authz.policy.AuthzPolicy;
import io.meshguard.authz.policy.AuthzPolicyParser;
import io.meshguard.authz.request.Identity;
import io.meshguard.cli.CliRun;
import io.meshguard.extauthz.quota.LiveCounters;
import io.meshguard.extauthz.quota.QuotaAudit;
import io.meshguard.extauthz.quota.QuotaCounter;
import io.meshguard.extauthz.quota.QuotaStore;
import io.meshguard.extauthz.redis.RedisConnection;
import io.meshguard.extauthz.redis.RedisSettings;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.testing.SharedRedis;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@code meshguard quota show|adjust|reset} against a real PostgreSQL and the Redis the replicas count in. */
@IntegrationTest
class QuotaCommandTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @TempDir
    Path tmp;

    private final String prefix = SharedRedis.keyPrefix(QuotaCommandTest.class);
    private final String keyId = UUID.randomUUID().toString().replace("-", "").substring(0, 16);
    private Path policy;
    private Path config;
    private RedisConnection redis;
    private QuotaCounter replica;
    private AuthzPolicy parsed;

    @BeforeEach
    void setUp() throws Exception {
        policy = tmp.resolve("authz.yaml");
        Files.writeString(policy, """
                rate_limits:
                  default_tier: free
                  tiers: {free: {requests_per_second: 100}}
                routes:
                  - {name: api, match: {path_prefix: /api}, auth: apikey}
                quotas:
                  - {name: daily, per: api_key, period: day, timezone: Asia/Seoul, limits: {free: 5}}
                """);
        parsed = new AuthzPolicyParser().parse(policy);
        Path pw = tmp.resolve("pw");
        Files.writeString(pw, PG.password());
        config = tmp.resolve("extauthz.yaml");
        Files.writeString(
                config,
                "db:\n  url: " + PG.jdbcUrl() + "\n  user: " + PG.user() + "\n  password_file: " + pw
                        + "\nredis:\n  url: " + SharedRedis.get().url() + "\n  key_prefix: \"" + prefix + "\"\n");
        redis = RedisConnection.open(RedisSettings.none()
                .withUrl(SharedRedis.get().url())
                .withKeyPrefix(prefix)
                .withCommandTimeout(Duration.ofSeconds(2)));
        replica = new QuotaCounter(
                Optional.of(new QuotaStore(PG.dataSource())),
                () -> Optional.of(redis),
                new LiveCounters(prefix, Duration.ofSeconds(2)),
                QuotaAudit.logOnly(),
                Clock.systemUTC(),
                System::nanoTime,
                QuotaCounter.Settings.DEFAULTS,
                new SimpleMeterRegistry());
    }

    @AfterEach
    void tearDown() {
        redis.close();
    }

    private int admitted(int attempts) {
        Identity id = new Identity(
                "svc",
                Optional.of("acme"),
                List.of(),
                List.of(),
                Optional.empty(),
                "apikey",
                "apikey",
                Optional.of("free"),
                Optional.of(keyId));
        int n = 0;
        for (int i = 0; i < attempts; i++) {
            if (replica.charge(parsed, "api", id, Optional.empty()).blocked().isEmpty()) {
                n++;
            }
        }
        return n;
    }

    /** The break-glass path: straight into PostgreSQL and Redis with their credentials. */
    private CliRun quota(String... args) {
        String[] all = new String[args.length + 8];
        all[0] = "quota";
        System.arraycopy(args, 0, all, 1, args.length);
        System.arraycopy(
                new String[] {
                    "--direct-db",
                    "--config",
                    config.toString(),
                    "--policy",
                    policy.toString(),
                    "--caller",
                    "api_key:" + keyId
                },
                0,
                all,
                args.length + 1,
                7);
        return CliRun.of(all);
    }

    /** The default: through the admin API's /quotas, as the caller the token names (the actor is not self-declared). */
    @Test
    void adjustAndReset_throughTheAdminApi_areMadeAsTheTokensCaller() throws Exception {
        assertThat(admitted(7)).isEqualTo(5);
        Path tokens = tmp.resolve("admin-tokens");
        Files.writeString(tokens, "ops-lee:quota-token-for-tests\n");
        Path token = tmp.resolve("token");
        Files.writeString(token, "quota-token-for-tests\n");
        io.meshguard.extauthz.quota.QuotaOperations ops = new io.meshguard.extauthz.quota.QuotaOperations(
                new QuotaStore(PG.dataSource()),
                () -> Optional.of(redis),
                new LiveCounters(prefix, Duration.ofSeconds(2)),
                QuotaAudit.logOnly(),
                Clock.systemUTC());
        io.meshguard.runtime.http.StatusHttpServer http = new io.meshguard.runtime.http.StatusHttpServer(
                "quota-test",
                io.meshguard.runtime.http.HttpServerSettings.onPort(0),
                new io.micrometer.prometheusmetrics.PrometheusMeterRegistry(
                        io.micrometer.prometheusmetrics.PrometheusConfig.DEFAULT));
        http.addHandler(
                io.meshguard.extauthz.quota.QuotaAdminApi.PREFIX,
                new io.meshguard.extauthz.quota.QuotaAdminApi(
                        () -> Optional.of(parsed),
                        Optional.of(ops),
                        new io.meshguard.runtime.http.BearerTokens(Optional.of(tokens))));
        http.start();
        try {
            String[] admin = {
                "--url",
                "http://127.0.0.1:" + http.port(),
                "--token-file",
                token.toString(),
                "--quota",
                "daily",
                "--caller",
                "api_key:" + keyId
            };
            CliRun reset = CliRun.of(
                    join(new String[] {"quota", "reset", "--reason", "INC-77", "--actor", "someone-else"}, admin));
            assertThat(reset.exit()).as(reset.err()).isZero();
            assertThat(reset.out()).contains("\"actor\" : \"ops-lee\"").contains("\"via\" : \"admin_api\"");
            assertThat(admitted(7)).isEqualTo(5);
            CliRun show = CliRun.of(join(new String[] {"quota", "show"}, admin));
            assertThat(show.exit()).as(show.err()).isZero();
            assertThat(show.out()).contains("INC-77");
            Files.writeString(token, "not-a-token\n");
            CliRun refused = CliRun.of(join(new String[] {"quota", "adjust", "--by", "3", "--reason", "x"}, admin));
            assertThat(refused.exit()).isEqualTo(1);
            assertThat(refused.err()).contains("401");
        } finally {
            http.close();
        }
    }

    private static String[] join(String[] first, String[] second) {
        String[] all = java.util.Arrays.copyOf(first, first.length + second.length);
        System.arraycopy(second, 0, all, first.length, second.length);
        return all;
    }

    @Test
    void resetAndAdjust_changeTheLiveCount_andAreAuditedWithActorAndReason() throws Exception {
        assertThat(admitted(7)).isEqualTo(5);
        replica.flush();
        CliRun reset = quota("reset", "--quota", "daily", "--reason", "INC-1234 double billing", "--actor", "ops-kim");
        assertThat(reset.exit()).as(reset.err()).isZero();
        assertThat(reset.out())
                .contains("reset quota=daily caller=api_key:" + keyId)
                .contains("delta=-5")
                .contains("live=0");
        assertThat(reset.err()).contains("audited: quota_adjustment #");
        assertThat(admitted(7)).isEqualTo(5);

        CliRun credit = quota("adjust", "--quota", "daily", "--by=-2", "--reason", "goodwill", "--actor", "ops-kim");
        assertThat(credit.exit()).as(credit.err()).isZero();
        assertThat(credit.out()).contains("live=3");
        assertThat(admitted(3)).isEqualTo(2);

        replica.flush();
        CliRun show = quota("show", "--quota", "daily");
        assertThat(show.exit()).as(show.err()).isZero();
        assertThat(show.out())
                .contains("quota=daily")
                .contains("timezone=Asia/Seoul")
                .contains("used=5")
                .contains("durable=5")
                .contains("reset -5 (")
                .contains("by ops-kim via cli: INC-1234 double billing")
                .contains("adjust -2");
        try (Connection c = PG.dataSource().getConnection();
                PreparedStatement s = c.prepareStatement("SELECT subject, decision, details->>'why' FROM audit_event "
                        + "WHERE kind = 'quota' AND details->>'caller' = ? ORDER BY occurred_at")) {
            s.setString(1, "api_key:" + keyId);
            try (ResultSet rs = s.executeQuery()) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo("ops-kim");
                assertThat(rs.getString(2)).isEqualTo("reset");
                assertThat(rs.getString(3)).isEqualTo("INC-1234 double billing");
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(2)).isEqualTo("adjust");
            }
        }
    }

    @Test
    void reset_afterTheStoresDriftedApart_setsBothToZero_neverANegativeCount() throws Exception {
        assertThat(admitted(7)).isEqualTo(5);
        replica.flush();
        // a reset that reached PostgreSQL but not Redis (no Redis given): durable 0, live still 5
        new io.meshguard.extauthz.quota.QuotaOperations(
                        new QuotaStore(PG.dataSource()),
                        Optional::empty,
                        new LiveCounters(prefix, Duration.ofSeconds(2)),
                        QuotaAudit.logOnly(),
                        Clock.systemUTC())
                .reset(parsed.quotas().get(0), "api_key:" + keyId, "ops-kim", "cli", "first try", "r1");

        CliRun reset = quota("reset", "--quota", "daily", "--reason", "second try, with Redis", "--actor", "ops-kim");
        assertThat(reset.exit()).as(reset.err()).isZero();
        assertThat(reset.out()).contains("durable=0").contains("live=0");
        CliRun show = quota("show", "--quota", "daily");
        assertThat(show.out()).contains("used=0 durable=0 live=0");
        assertThat(admitted(7)).isEqualTo(5);
    }

    @Test
    void directDb_underUp_changesTheLiveCounterInUpsRedis() throws Exception {
        assertThat(admitted(7)).isEqualTo(5);
        replica.flush();
        // the up.json a running `meshguard up` writes: this process stands in for it
        Path dataDir = Files.createDirectories(tmp.resolve("up-data"));
        Path pw = tmp.resolve("db-password");
        Files.writeString(pw, PG.password());
        Files.writeString(
                dataDir.resolve("up.json"),
                new com.fasterxml.jackson.databind.ObjectMapper()
                        .createObjectNode()
                        .put("pid", ProcessHandle.current().pid())
                        .put("jdbcUrl", PG.jdbcUrl())
                        .put("dbUser", PG.user())
                        .put("dbPasswordFile", pw.toString())
                        .put("redisUrl", SharedRedis.get().url())
                        .put("redisKeyPrefix", prefix)
                        .toString());

        CliRun reset = CliRun.of(
                "quota",
                "reset",
                "--direct-db",
                "--data-dir",
                dataDir.toString(),
                "--policy",
                policy.toString(),
                "--quota",
                "daily",
                "--caller",
                "api_key:" + keyId,
                "--reason",
                "INC-9",
                "--actor",
                "ops");
        assertThat(reset.exit()).as(reset.err()).isZero();
        assertThat(reset.err()).contains("the Redis of the `meshguard up` on");
        assertThat(reset.out()).contains("live=0").contains("durable=0");
        assertThat(admitted(7)).isEqualTo(5);
    }

    @Test
    void show_withRedis_printsNoLogLineOfTheRedisClient() {
        // CliRun leaves log lines out; here they must be seen
        java.io.PrintStream originalErr = System.err;
        java.io.ByteArrayOutputStream raw = new java.io.ByteArrayOutputStream();
        int exit;
        try {
            System.setErr(new java.io.PrintStream(raw, true, java.nio.charset.StandardCharsets.UTF_8));
            exit = io.meshguard.cli.Main.execute(
                    "quota",
                    "show",
                    "--direct-db",
                    "--config",
                    config.toString(),
                    "--policy",
                    policy.toString(),
                    "--caller",
                    "api_key:" + keyId,
                    "--quota",
                    "daily");
        } finally {
            System.setErr(originalErr);
        }
        String err = raw.toString(java.nio.charset.StandardCharsets.UTF_8);
        assertThat(exit).as(err).isZero();
        assertThat(err).doesNotContain("\"logger\":\"io.lettuce");
    }

    @Test
    void missingReason_unknownQuota_badCaller_areRefusedWithoutAChange() throws Exception {
        CliRun noReason = quota("reset", "--quota", "daily");
        assertThat(noReason.exit()).isEqualTo(2);
        assertThat(noReason.err()).contains("Missing required option: '--reason");
        CliRun blank = quota("reset", "--quota", "daily", "--reason", "  ");
        assertThat(blank.exit()).isEqualTo(1);
        assertThat(blank.err()).contains("a reason is required");
        CliRun unknown = quota("show", "--quota", "monthly");
        assertThat(unknown.exit()).isEqualTo(1);
        assertThat(unknown.err()).contains("has no quota named 'monthly' (it has: daily)");
        CliRun badCaller = CliRun.of(
                "quota",
                "adjust",
                "--quota",
                "daily",
                "--by",
                "3",
                "--reason",
                "x",
                "--direct-db",
                "--config",
                config.toString(),
                "--policy",
                policy.toString(),
                "--caller",
                "alice");
        assertThat(badCaller.exit()).isEqualTo(1);
        assertThat(badCaller.err()).contains("caller must be api_key:<key id>");
        try (Connection c = PG.dataSource().getConnection();
                PreparedStatement s = c.prepareStatement("SELECT count(*) FROM quota_adjustment WHERE caller = ?")) {
            s.setString(1, "api_key:" + keyId);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                assertThat(rs.getLong(1)).isZero();
            }
        }
    }
}
