package io.meshguard.bench.extauthz;

import com.zaxxer.hikari.HikariDataSource;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.meshguard.audit.AuditWriter;
import io.meshguard.audit.AuditWriterSettings;
import io.meshguard.audit.ConnectionSource;
import io.meshguard.audit.spool.SpoolSettings;
import io.meshguard.bench.ProcReadings;
import io.meshguard.catalog.apikey.JdbcApiKeyStore;
import io.meshguard.catalogmodel.apikey.ApiKeyService;
import io.meshguard.db.DataSourceFactory;
import io.meshguard.db.DbSettings;
import io.meshguard.db.Migrations;
import io.meshguard.devstack.db.LocalPostgres;
import io.meshguard.extauthz.audit.AuditSinkDecisions;
import io.meshguard.extauthz.server.ExtAuthzConfig;
import io.meshguard.extauthz.server.ExtAuthzServer;
import io.meshguard.extauthz.tools.CheckRequests;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A flood of made-up API keys (the right shape, a new random id each time) against extauthz on a real PostgreSQL, as
 * users run it (audit to PostgreSQL, 10,000 keys stored), in two configurations in the same run: every unknown id read
 * from the database ({@code apikey.unlisted_reads_per_second=100000}, what every replica did before V79) and the
 * default (20 a second, ids followed through V79's notices). Per configuration and round:
 * the flood alone (32 in flight: its Checks/s, PostgreSQL's CPU per made-up key from {@code /proc}, the store reads it
 * caused), and a subscriber's key at a fixed rate without and with the flood beside it (p99 from the intended send
 * time). Medians of the rounds.
 *
 * <p>Arguments (optional): seconds per measurement (5), the subscriber's Checks per second (500), rounds (3), stored
 * keys (10000). A benchmark, not a test (docs/benchmarks.md, "extauthz: the Check").
 */
public final class MadeUpApiKeyBench {
    private static final String HOST = "api.bank.example";

    private record Sample(
            double floodPerSecond, double pgMicrosPerMadeUp, double readsPerMadeUp, long p99Alone, long p99Flooded) {}

    private record Config(
            String name,
            ExtAuthzServer server,
            HikariDataSource db,
            SimpleMeterRegistry meters,
            ManagedChannel channel) {}

    private MadeUpApiKeyBench() {}

    public static void main(String[] args) throws Exception {
        Duration seconds = Duration.ofSeconds(args.length > 0 ? Integer.parseInt(args[0]) : 5);
        int rate = args.length > 1 ? Integer.parseInt(args[1]) : 500;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        int stored = args.length > 3 ? Integer.parseInt(args[3]) : 10_000;
        Path dir = Files.createTempDirectory("made-up-key-bench");
        System.out.printf(
                "JDK %s, %d processors, %s, load average %s%n",
                Runtime.version(),
                Runtime.getRuntime().availableProcessors(),
                ProcReadings.cpuModel(),
                ProcReadings.loadAverage());
        try (LocalPostgres pg = LocalPostgres.start(dir.resolve("pg"), 0);
                HikariDataSource ds = DataSourceFactory.create(pg.dbSettings("meshguard-bench"))) {
            Migrations.apply(ds);
            ApiKeyService keys = new ApiKeyService(new JdbcApiKeyStore(ds), Clock.systemUTC());
            String subscriber = null;
            for (int i = 0; i < stored; i++) {
                String text = keys.create(
                                "app-" + i, "svc", "t-" + (i % 50), List.of(), List.of(), "free", Optional.empty())
                        .text();
                subscriber = i == stored / 2 ? text : subscriber;
            }
            Path policy = Files.writeString(dir.resolve("authz.yaml"), """
                    rate_limits:
                      default_tier: free
                      tiers: {free: {requests_per_second: 1000000, burst: 1000000}}
                    routes:
                      - {name: payments, match: {path_prefix: /payments}, auth: apikey}
                    """);
            DbSettings db = pg.dbSettings("meshguard-bench-audit");
            try (AuditWriter audit = AuditWriter.start(
                    AuditWriterSettings.defaults(SpoolSettings.defaults(dir.resolve("spool"))),
                    ConnectionSource.forUrl(db.jdbcUrl(), db.user(), db.password(), Duration.ofSeconds(10)),
                    new SimpleMeterRegistry())) {
                List<Config> configs = new ArrayList<>();
                for (long reads : new long[] {100_000, ExtAuthzConfig.defaults().apiKeyUnlistedReadsPerSecond()}) {
                    configs.add(start(
                            reads == 100_000 ? "every unknown id read (as before V79)" : "default: " + reads + "/s",
                            reads,
                            policy,
                            pg,
                            audit,
                            stored));
                }
                try {
                    run(configs, subscriber, seconds, rate, rounds, ds);
                } finally {
                    for (Config c : configs) {
                        c.channel().shutdownNow();
                        c.server().close();
                        c.db().close();
                    }
                }
            }
        }
        System.exit(0);
    }

    private static Config start(String name, long reads, Path policy, LocalPostgres pg, AuditWriter audit, int stored)
            throws Exception {
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        HikariDataSource serverDb = DataSourceFactory.create(pg.dbSettings("meshguard-extauthz"));
        ExtAuthzServer server = new ExtAuthzServer(
                ExtAuthzConfig.onLoopback(policy, Duration.ofSeconds(10)).withApiKeyUnlistedReads(reads),
                meters,
                Optional.of(serverDb),
                new AuditSinkDecisions(audit),
                Clock.systemUTC());
        server.start();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (meters.get("meshguard_authz_apikey_ids_known").gauge().value() < stored) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(name + ": the stored keys' ids were not read within 60 s");
            }
            Thread.sleep(50);
        }
        ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.grpcPort())
                .usePlaintext()
                .build();
        return new Config(name, server, serverDb, meters, channel);
    }

    private static void run(
            List<Config> configs, String subscriber, Duration seconds, int rate, int rounds, HikariDataSource ds)
            throws Exception {
        CheckRequest legit = request(subscriber);
        for (Config c : configs) {
            // warm-up: both paths compiled before the first round
            new LoadGenerator(c.channel(), legit).closedLoop(32, Duration.ofSeconds(3));
            flood(c).closedLoop(32, Duration.ofSeconds(3));
        }
        List<List<Sample>> samples = new ArrayList<>();
        configs.forEach(c -> samples.add(new ArrayList<>()));
        for (int round = 0; round < rounds; round++) {
            for (int i = 0; i < configs.size(); i++) {
                Config c = configs.get(i);
                LoadGenerator.Result alone =
                        expectAllowed(new LoadGenerator(c.channel(), legit).openLoop(rate, seconds));
                double reads0 = reads(c);
                long pg0 = ProcReadings.postgresCpuNanos(ds);
                LoadGenerator.Result flood = flood(c).closedLoop(32, seconds);
                long pg1 = ProcReadings.postgresCpuNanos(ds);
                double reads1 = reads(c);
                if (flood.notAllowed() != flood.count()) {
                    throw new IllegalStateException(c.name() + ": a made-up key was allowed");
                }
                CompletableFuture<LoadGenerator.Result> beside = CompletableFuture.supplyAsync(() -> {
                    try {
                        return flood(c).closedLoop(32, seconds.plusSeconds(1));
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                });
                LoadGenerator.Result flooded =
                        expectAllowed(new LoadGenerator(c.channel(), legit).openLoop(rate, seconds));
                beside.join();
                samples.get(i)
                        .add(new Sample(
                                flood.throughput(),
                                (pg1 - pg0) / 1000.0 / flood.count(),
                                (reads1 - reads0) / flood.count(),
                                alone.latency().getValueAtPercentile(99),
                                flooded.latency().getValueAtPercentile(99)));
                System.out.printf(
                        "round %d, %s: flood %.0f/s, PostgreSQL %.1f µs CPU per made-up key, %.3f reads per made-up"
                                + " key; subscriber p99 %d µs alone, %d µs beside the flood%n",
                        round + 1,
                        c.name(),
                        flood.throughput(),
                        (pg1 - pg0) / 1000.0 / flood.count(),
                        (reads1 - reads0) / flood.count(),
                        alone.latency().getValueAtPercentile(99),
                        flooded.latency().getValueAtPercentile(99));
            }
        }
        System.out.printf(
                "%nMedians of %d rounds, %d s each, subscriber at %d Checks/s:%n%n", rounds, seconds.toSeconds(), rate);
        System.out.println(
                "| configuration | made-up keys/s (32 in flight) | PostgreSQL µs CPU per made-up key | store reads"
                        + " per made-up key | subscriber p99 alone, µs | beside the flood, µs | ratio |");
        System.out.println("|---|---:|---:|---:|---:|---:|---:|");
        for (int i = 0; i < configs.size(); i++) {
            List<Sample> s = samples.get(i);
            long alone = (long) median(s, x -> x.p99Alone());
            long flooded = (long) median(s, x -> x.p99Flooded());
            System.out.printf(
                    "| %s | %.0f | %.1f | %.3f | %d | %d | %.2f× |%n",
                    configs.get(i).name(),
                    median(s, Sample::floodPerSecond),
                    median(s, Sample::pgMicrosPerMadeUp),
                    median(s, Sample::readsPerMadeUp),
                    alone,
                    flooded,
                    (double) flooded / alone);
        }
    }

    private static LoadGenerator flood(Config c) {
        return new LoadGenerator(c.channel(), () -> request(madeUp()));
    }

    private static LoadGenerator.Result expectAllowed(LoadGenerator.Result r) {
        if (r.notAllowed() > 0) {
            throw new IllegalStateException(r.notAllowed() + " of the subscriber's Checks were not allowed");
        }
        return r;
    }

    private static double reads(Config c) {
        return c.meters()
                .get("meshguard_authz_apikey_unlisted_ids_total")
                .tag("outcome", "read")
                .functionCounter()
                .count();
    }

    private static double median(List<Sample> samples, java.util.function.ToDoubleFunction<Sample> f) {
        double[] v = samples.stream().mapToDouble(f).sorted().toArray();
        return v[v.length / 2];
    }

    /** A key of the right shape whose id and secret nobody issued. */
    private static String madeUp() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        byte[] secret = new byte[32];
        random.nextBytes(secret);
        return "mgk_" + HexFormat.of().toHexDigits(random.nextLong()) + "_"
                + Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
    }

    private static CheckRequest request(String key) {
        return CheckRequests.of(
                "POST",
                HOST,
                "/payments/charges",
                Map.of("x-api-key", List.of(key)),
                Map.of(),
                CheckRequests.Encoding.HEADERS);
    }
}
