package io.meshguard.bench.extauthz;

import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.grpc.ManagedChannel;
import io.meshguard.extauthz.redis.RedisSettings;
import io.meshguard.extauthz.server.ExtAuthzConfig;
import io.meshguard.extauthz.server.ExtAuthzServer;
import io.meshguard.extauthz.tools.CheckRequests;
import io.meshguard.testing.EmbeddedRedis;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What the global rate limiter costs a Check, in one run: (a) the no-op Check server, (b) extauthz on a public route
 * whose limits are local buckets, (c) the same route and policy with the limits in Redis (an embedded
 * {@code redis-server} on loopback: one atomic script per Check). Every Check is admitted (a limit far above the
 * load), so every Check of (c) makes its store call. Prints max throughput (closed loop, 32 in flight) and
 * p50/p99/p99.9 at fixed rates (open loop), the limiter's added p99 ((c) − (b)) and the throughput ratios; scenarios
 * are measured round-robin and each figure is the median over the rounds. A benchmark, not a test.
 *
 * <p>Arguments (all optional): seconds per measurement (default 8), fixed rates (default 200,1000), rounds (3).
 */
public final class GlobalLimitBench {
    private record Scenario(String name, int port) {}

    private static final String POLICY = """
            rate_limits:
              default_tier: bench
              public_tier: bench
              tiers:
                bench:
                  limits:
                    - {requests: 100000, per: 1s}
                    - {requests: 100000000, per: 1h}
            routes:
              - {name: open, match: {path_prefix: /v1/open}, auth: none, header_contract: exempt}
            """;

    public static void main(String[] args) throws Exception {
        Duration seconds = Duration.ofSeconds(args.length > 0 ? Integer.parseInt(args[0]) : 8);
        List<Integer> rates = new ArrayList<>();
        for (String r : (args.length > 1 ? args[1] : "200,1000").split(",")) {
            rates.add(Integer.parseInt(r.trim()));
        }
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        Path dir = Files.createTempDirectory("global-limit-bench");
        Path policy = Files.writeString(dir.resolve("authz.yaml"), POLICY);
        PrometheusMeterRegistry localRegistry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        PrometheusMeterRegistry globalRegistry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        ExtAuthzConfig base = ExtAuthzConfig.onLoopback(policy, Duration.ofMinutes(10));
        try (EmbeddedRedis redis = EmbeddedRedis.start();
                NoopCheckServer noop = new NoopCheckServer()) {
            ExtAuthzServer local =
                    ExtAuthzServer.withApiKeyStore(base, localRegistry, Optional.empty(), e -> {}, Clock.systemUTC());
            ExtAuthzServer global = ExtAuthzServer.withApiKeyStore(
                    base.withRedis(RedisSettings.none().withUrl(redis.endpoint().url())),
                    globalRegistry,
                    Optional.empty(),
                    e -> {},
                    Clock.systemUTC());
            local.start();
            global.start();
            try {
                while (!global.globalLimits()
                                .orElseThrow()
                                .breaker()
                                .state()
                                .name()
                                .equals("CLOSED")
                        || global.globalLimits().get().sinceHeartbeat().isEmpty()) {
                    Thread.sleep(50);
                }
                List<Scenario> scenarios = List.of(
                        new Scenario("(a) no-op Check server", noop.port()),
                        new Scenario("(b) extauthz, public route, local limits", local.grpcPort()),
                        new Scenario(
                                "(c) extauthz, public route, global limits (Redis on loopback)", global.grpcPort()));
                ExtAuthzBench.printSetup(seconds, rates, rounds);
                limiterAlone(redis.endpoint().url(), rounds);
                measure(scenarios, seconds, rates, rounds);
                var stats = global.globalLimits().get().breaker().stats();
                System.out.printf(
                        "%nstore calls %d, timeouts %d, errors %d, breaker trips %d (a trip would mean degraded Checks)%n",
                        stats.storeCalls(), stats.timeouts(), stats.errors(), stats.trips());
            } finally {
                local.close();
                global.close();
            }
        }
    }

    /**
     * The limiter's own cost, without gRPC: one thread calling {@code acquire} on the local buckets and on the Redis
     * limiter (its own connection to the same server), interleaved rounds of 20,000 calls; latency per call.
     */
    private static void limiterAlone(String url, int rounds) {
        var registry = new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
        var limit = new io.meshguard.authz.policy.RateLimitPolicy.Limit(100_000, Duration.ofSeconds(1), 100_000);
        var request = new io.meshguard.authz.ratelimit.LimitRequest(
                io.meshguard.authz.ratelimit.RateLimitKeys.caller("policy", "addr", "10.9.9.9", "bench"),
                "bench",
                List.of(
                        limit,
                        new io.meshguard.authz.policy.RateLimitPolicy.Limit(
                                100_000_000, Duration.ofHours(1), 100_000_000)),
                io.meshguard.authz.policy.RateLimitPolicy.OnStoreError.DEGRADED);
        var local =
                new io.meshguard.extauthz.ratelimit.TokenBucketLimiter(1000, Duration.ofMinutes(1), System::nanoTime);
        try (var connection = io.meshguard.extauthz.redis.RedisConnection.open(RedisSettings.none()
                        .withUrl(url)
                        .withKeyPrefix("bench:")
                        .withCommandTimeout(Duration.ofSeconds(1)));
                var global = new io.meshguard.extauthz.ratelimit.RedisRateLimiter(
                        connection,
                        io.meshguard.extauthz.ratelimit.RateLimitSettings.DEFAULTS,
                        registry,
                        System::nanoTime,
                        "bench")) {
            var hLocal = new org.HdrHistogram.Histogram(3);
            var hGlobal = new org.HdrHistogram.Histogram(3);
            for (int i = 0; i < 20_000; i++) {
                local.acquire(request);
                global.acquire(request);
            }
            for (int round = 0; round < rounds; round++) {
                for (var pair : List.of(
                        java.util.Map.entry(local, hLocal),
                        java.util.Map.<io.meshguard.authz.ratelimit.RateLimiter, org.HdrHistogram.Histogram>entry(
                                global, hGlobal))) {
                    for (int i = 0; i < 20_000; i++) {
                        long t0 = System.nanoTime();
                        if (!pair.getKey().acquire(request).allowed()) {
                            throw new IllegalStateException("the bench limit refused a request");
                        }
                        pair.getValue().recordValue(Math.max(1, (System.nanoTime() - t0) / 1000));
                    }
                }
            }
            System.out.println();
            System.out.println("Limiter alone, one thread, " + (20_000 * rounds) + " calls each (µs per decision):");
            System.out.println();
            System.out.println("| limiter | p50 | p99 | p99.9 | calls/s |");
            System.out.println("|---|---:|---:|---:|---:|");
            for (var e : List.of(
                    java.util.Map.entry("local buckets", hLocal),
                    java.util.Map.entry("Redis, one script (2 limits)", hGlobal))) {
                var h = e.getValue();
                System.out.printf(
                        "| %s | %d | %d | %d | %.0f |%n",
                        e.getKey(),
                        h.getValueAtPercentile(50),
                        h.getValueAtPercentile(99),
                        h.getValueAtPercentile(99.9),
                        1e6 / Math.max(1e-3, h.getMean()));
            }
            System.out.printf(
                    "%nlimiter's added p99 (Redis − local): %d µs; store timeouts %d%n",
                    hGlobal.getValueAtPercentile(99) - hLocal.getValueAtPercentile(99),
                    global.breaker().stats().timeouts());
        }
    }

    private static CheckRequest request() {
        Map<String, List<String>> headers = new LinkedHashMap<>();
        headers.put("x-request-id", List.of("bench"));
        headers.put("user-agent", List.of("bench/1.0"));
        return CheckRequests.of(
                "GET",
                "api.bench.example",
                "/v1/open/42",
                headers,
                Map.of(),
                CheckRequests.Encoding.HEADERS,
                "",
                "10.1.2.3");
    }

    private static void measure(List<Scenario> scenarios, Duration seconds, List<Integer> rates, int rounds)
            throws Exception {
        List<ManagedChannel> channels = new ArrayList<>();
        try {
            List<LoadGenerator> gens = new ArrayList<>();
            for (Scenario s : scenarios) {
                gens.add(LoadGenerator.onLoopback(s.port(), request(), channels));
            }
            List<InterleavedRounds.Measured> measured = InterleavedRounds.run(
                    scenarios.stream().map(Scenario::name).toList(), gens, seconds, rates, rounds);
            System.out.println();
            System.out.println("| scenario | max Checks/s | vs (a) | vs (b) |");
            System.out.println("|---|---:|---:|---:|");
            double[] tput = new double[scenarios.size()];
            for (int i = 0; i < scenarios.size(); i++) {
                tput[i] = measured.get(i).maxThroughput().throughput();
            }
            for (int i = 0; i < scenarios.size(); i++) {
                System.out.printf(
                        "| %s | %.0f | %.2f | %.2f |%n",
                        scenarios.get(i).name(), tput[i], tput[i] / tput[0], tput[i] / tput[1]);
            }
            for (int rate : rates) {
                System.out.println();
                System.out.printf("At %d Checks/s (open loop, µs from the intended send time):%n%n", rate);
                System.out.println("| scenario | p50 | p99 | p99.9 |");
                System.out.println("|---|---:|---:|---:|");
                long[] p99 = new long[scenarios.size()];
                for (int i = 0; i < scenarios.size(); i++) {
                    LoadGenerator.Result r = measured.get(i).atRate(rate);
                    var h = r.latency();
                    p99[i] = h.getValueAtPercentile(99);
                    System.out.printf(
                            "| %s | %s | %s | %s |%n",
                            scenarios.get(i).name(),
                            r.saturated() ? "saturated" : Long.toString(h.getValueAtPercentile(50)),
                            r.saturated() ? "saturated" : Long.toString(p99[i]),
                            r.saturated() ? "saturated" : Long.toString(h.getValueAtPercentile(99.9)));
                }
                System.out.printf("%nlimiter's added p99 at %d/s: %d µs ((c) − (b))%n", rate, p99[2] - p99[1]);
            }
        } finally {
            channels.forEach(ManagedChannel::shutdownNow);
        }
    }
}
