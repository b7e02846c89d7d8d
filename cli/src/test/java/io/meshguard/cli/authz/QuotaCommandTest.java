package io.meshguard.cli.authz;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.cli.CliRun;
import io.meshguard.extauthz.decision.Identity;
import io.meshguard.extauthz.policy.AuthzPolicy;
import io.meshguard.extauthz.policy.AuthzPolicyParser;
import io.meshguard.extauthz.quota.LiveCounters;
import io.meshguard.extauthz.quota.QuotaAudit;
import io.meshguard.extauthz.quota.QuotaCounter;
import io.meshguard.extauthz.quota.QuotaStore;
import io.meshguard.extauthz.redis.RedisConnection;
import io.meshguard.extauthz.redis.RedisSettings;
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
        Files.writeString(config, "db:\n  url: " + PG.jdbcUrl() + "\n  user: " + PG.user() + "\n  password_file: " + pw
                + "\nredis:\n  url: " + SharedRedis.get().url() + "\n  key_prefix: \"" + prefix + "\"\n");
        redis = RedisConnection.open(RedisSettings.none().withUrl(SharedRedis.get().url()).withKeyPrefix(prefix)
                .withCommandTimeout(Duration.ofSeconds(2)));
        replica = new QuotaCounter(Optional.of(new QuotaStore(PG.dataSource())), () -> Optional.of(redis),
                new LiveCounters(prefix, Duration.ofSeconds(2)), QuotaAudit.logOnly(), Clock.systemUTC(), System::nanoTime,
                QuotaCounter.Settings.DEFAULTS, new SimpleMeterRegistry());
    }

    @AfterEach
    void tearDown() {
        redis.close();
    }

    private int admitted(int attempts) {
        Identity id = new Identity("svc", Optional.of("acme"), List.of(), List.of(), Optional.empty(), "apikey", "apikey",
                Optional.of("free"), Optional.of(keyId));
        int n = 0;
        for (int i = 0; i < attempts; i++) {
            if (replica.charge(parsed, "api", id, Optional.empty()).blocked().isEmpty()) {
                n++;
            }
        }
        return n;
    }

    private CliRun quota(String... args) {
        String[] all = new String[args.length + 7];
        all[0] = "quota";
        System.arraycopy(args, 0, all, 1, args.length);
        System.arraycopy(new String[] {"--config", config.toString(), "--policy", policy.toString(), "--caller",
                "api_key:" + keyId}, 0, all, args.length + 1, 6);
        return CliRun.of(all);
    }

    @Test
    void resetAndAdjust_changeTheLiveCount_andAreAuditedWithActorAndReason() throws Exception {
        assertThat(admitted(7)).isEqualTo(5);
        CliRun reset = quota("reset", "--quota", "daily", "--reason", "INC-1234 double billing", "--actor", "ops-kim");
        assertThat(reset.exit()).as(reset.err()).isZero();
        assertThat(reset.out()).contains("reset quota=daily caller=api_key:" + keyId).contains("delta=-5").contains("live=0");
        assertThat(reset.err()).contains("audited: quota_adjustment #");
        assertThat(admitted(7)).isEqualTo(5);

        CliRun credit = quota("adjust", "--quota", "daily", "--by=-2", "--reason", "goodwill", "--actor", "ops-kim");
        assertThat(credit.exit()).as(credit.err()).isZero();
        assertThat(credit.out()).contains("live=3");
        assertThat(admitted(3)).isEqualTo(2);

        replica.flush();
        CliRun show = quota("show", "--quota", "daily");
        assertThat(show.exit()).as(show.err()).isZero();
        assertThat(show.out()).contains("quota=daily").contains("timezone=Asia/Seoul").contains("used=5").contains("durable=5")
                .contains("reset -5 (").contains("by ops-kim via cli: INC-1234 double billing").contains("adjust -2");
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
        CliRun badCaller = CliRun.of("quota", "adjust", "--quota", "daily", "--by", "3", "--reason", "x", "--config",
                config.toString(), "--policy", policy.toString(), "--caller", "alice");
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
