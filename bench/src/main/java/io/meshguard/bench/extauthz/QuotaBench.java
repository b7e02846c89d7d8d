package io.meshguard.bench.extauthz;

import com.zaxxer.hikari.HikariDataSource;
import io.meshguard.authz.policy.AuthzPolicy;
import io.meshguard.authz.policy.AuthzPolicyParser;
import io.meshguard.authz.quota.QuotaGate;
import io.meshguard.authz.request.Identity;
import io.meshguard.db.DataSourceFactory;
import io.meshguard.db.Migrations;
import io.meshguard.devstack.db.LocalPostgres;
import io.meshguard.extauthz.quota.LiveCounters;
import io.meshguard.extauthz.quota.QuotaAudit;
import io.meshguard.extauthz.quota.QuotaCounter;
import io.meshguard.extauthz.quota.QuotaStore;
import io.meshguard.extauthz.redis.RedisConnection;
import io.meshguard.extauthz.redis.RedisSettings;
import io.meshguard.testing.SharedRedis;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.StringReader;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * What a calendar quota adds to a Check: wall time of one {@link QuotaGate#charge} on loopback Redis (one script per
 * Check, PostgreSQL written by the background flush every 500 ms) and without Redis (local count), beside a Redis
 * {@code PING} as the round-trip baseline, rounds interleaved, 1,000 callers. Usage: {@code QuotaBench [rounds] [ops]}.
 */
public final class QuotaBench {
    private QuotaBench() {}

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        int ops = args.length > 1 ? Integer.parseInt(args[1]) : 20_000;
        AuthzPolicy policy = new AuthzPolicyParser().parse("bench.yaml", new StringReader("""
                rate_limits:
                  default_tier: free
                  tiers: {free: {requests_per_second: 1000}}
                routes:
                  - {name: api, match: {path_prefix: /api}, auth: apikey}
                quotas:
                  - {name: daily, per: api_key, period: day, timezone: Asia/Seoul, limits: {free: 1000000000}, alerts: [80%, 100%]}
                  - {name: monthly, per: tenant, period: month, timezone: Asia/Seoul, limits: {free: 1000000000}}
                """));
        List<Identity> callers = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            callers.add(new Identity(
                    "svc",
                    Optional.of("tenant-" + (i % 50)),
                    List.of(),
                    List.of(),
                    Optional.empty(),
                    "apikey",
                    "apikey",
                    Optional.of("free"),
                    Optional.of(String.format("%016x", i))));
        }
        LocalPostgres pg = LocalPostgres.start(Files.createTempDirectory("meshguard-bench-quota"), 0);
        ScheduledExecutorService flusher = Executors.newSingleThreadScheduledExecutor();
        try (HikariDataSource ds = DataSourceFactory.create(pg.dbSettings("meshguard-bench"));
                RedisConnection redis = RedisConnection.open(RedisSettings.none()
                        .withUrl(SharedRedis.get().url())
                        .withKeyPrefix("bench:" + System.nanoTime() + ":")
                        .withCommandTimeout(Duration.ofSeconds(1)))) {
            Migrations.apply(ds);
            QuotaStore store = new QuotaStore(ds);
            QuotaCounter live = new QuotaCounter(
                    Optional.of(store),
                    () -> Optional.of(redis),
                    new LiveCounters(redis.settings().keyPrefix(), Duration.ofSeconds(1)),
                    QuotaAudit.logOnly(),
                    Clock.systemUTC(),
                    System::nanoTime,
                    QuotaCounter.Settings.DEFAULTS,
                    new SimpleMeterRegistry());
            QuotaCounter local = new QuotaCounter(
                    Optional.of(store),
                    Optional::empty,
                    new LiveCounters("unused:", Duration.ofSeconds(1)),
                    QuotaAudit.logOnly(),
                    Clock.systemUTC(),
                    System::nanoTime,
                    QuotaCounter.Settings.DEFAULTS,
                    new SimpleMeterRegistry());
            flusher.scheduleWithFixedDelay(live::flush, 500, 500, TimeUnit.MILLISECONDS);
            flusher.scheduleWithFixedDelay(local::flush, 500, 500, TimeUnit.MILLISECONDS);
            Histogram ping = new Histogram(3);
            Histogram redisCharge = new Histogram(3);
            Histogram localCharge = new Histogram(3);
            for (int r = -1; r < rounds; r++) { // round -1 warms up and is not recorded
                for (int i = 0; i < ops; i++) {
                    long t0 = System.nanoTime();
                    redis.async().ping().get();
                    long t1 = System.nanoTime();
                    live.charge(policy, "api", callers.get(i % callers.size()), Optional.empty());
                    long t2 = System.nanoTime();
                    local.charge(policy, "api", callers.get(i % callers.size()), Optional.empty());
                    long t3 = System.nanoTime();
                    if (r >= 0) {
                        ping.recordValue(t1 - t0);
                        redisCharge.recordValue(t2 - t1);
                        localCharge.recordValue(t3 - t2);
                    }
                }
            }
            System.out.printf(
                    "%nquota charge, 2 quotas per Check, 1,000 callers, %d x %d charges, %d CPUs, Java %s%n%n",
                    rounds, ops, Runtime.getRuntime().availableProcessors(), Runtime.version());
            System.out.println("| path | p50 us | p99 us | p99.9 us |");
            System.out.println("|---|---:|---:|---:|");
            row("Redis PING (round-trip baseline)", ping);
            row("charge with Redis (one script)", redisCharge);
            row("charge without Redis (local count)", localCharge);
            live.flush();
            local.flush();
            System.out.printf(
                    "%npending after the last flush: redis path %d, local path %d%n",
                    live.pendingIncrements(), local.pendingIncrements());
        } finally {
            flusher.shutdownNow();
            pg.close();
        }
        System.exit(0);
    }

    private static void row(String name, Histogram h) {
        System.out.printf(
                "| %s | %.1f | %.1f | %.1f |%n",
                name,
                h.getValueAtPercentile(50) / 1000.0,
                h.getValueAtPercentile(99) / 1000.0,
                h.getValueAtPercentile(99.9) / 1000.0);
    }
}
