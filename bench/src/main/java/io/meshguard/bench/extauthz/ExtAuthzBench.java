package io.meshguard.bench.extauthz;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jwt.JWTClaimsSet;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.grpc.ManagedChannel;
import io.meshguard.catalogmodel.apikey.ApiKeyService;
import io.meshguard.catalogmodel.apikey.InMemoryApiKeyStore;
import io.meshguard.extauthz.server.ExtAuthzConfig;
import io.meshguard.extauthz.server.ExtAuthzServer;
import io.meshguard.extauthz.tools.CheckRequests;
import io.meshguard.extauthz.tools.TestKeys;
import io.meshguard.testing.JwksServer;
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
 * extauthz-server against a no-op Check server, in one run: (a) no-op, (b) cached RS256, (c) uncached RS256,
 * (d) uncached ES256, (e) API key, (f) a route with a mesh principal rule and a CEL condition (cached token),
 * (g) the plain route last in a 10,000-route policy (cached token). Prints the CPU per Check in-process first
 * ({@link DecisionCost}), then max throughput (closed loop) and p50/p99/p99.9 at fixed rates (open loop), with ratios
 * to (a). A benchmark, not a test: run it by hand (see docs/benchmarks.md).
 *
 * <p>Arguments (all optional): seconds per measurement (default 10), fixed rates (default 200,1000), rounds (3).
 * {@code -Donly=cpu} stops after the in-process part.
 */
public final class ExtAuthzBench {
    private record Scenario(String name, int port, CheckRequest request) {}

    private record Row(String name, LoadGenerator.Result max, Map<Integer, LoadGenerator.Result> atRate) {}

    public static void main(String[] args) throws Exception {
        Duration seconds = Duration.ofSeconds(args.length > 0 ? Integer.parseInt(args[0]) : 10);
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        List<Integer> rates = new ArrayList<>();
        for (String r : (args.length > 1 ? args[1] : "200,1000").split(",")) {
            rates.add(Integer.parseInt(r.trim()));
        }
        TestKeys rs = TestKeys.generate("bench-rs", JWSAlgorithm.RS256);
        TestKeys es = TestKeys.generate("bench-es", JWSAlgorithm.ES256);
        String issuer = "https://idp.bench.example";
        Path dir = Files.createTempDirectory("extauthz-bench");
        try (JwksServer jwks = new JwksServer(issuer, TestKeys.publicSet(List.of(rs, es)));
                NoopCheckServer noop = new NoopCheckServer()) {
            // 10 routes: 8 others, the principal+CEL route, the plain route; and the same with 9,998 others
            Path policy = dir.resolve("authz.yaml");
            Files.writeString(policy, BenchPolicies.policy(jwks.jwksUri().toString(), 8));
            Path bigPolicy = dir.resolve("authz-10000.yaml");
            Files.writeString(bigPolicy, BenchPolicies.policy(jwks.jwksUri().toString(), 9_998));
            JWTClaimsSet plainClaims = BenchPolicies.alice(issuer);
            JWTClaimsSet mfaClaims = new JWTClaimsSet.Builder(plainClaims)
                    .claim("amr", List.of("pwd", "mfa"))
                    .build();
            String plainToken = "Bearer " + rs.sign(plainClaims);
            String mfaToken = "Bearer " + rs.sign(mfaClaims);
            var publicKeys = TestKeys.publicSet(List.of(rs, es));
            var small = DecisionCost.pipeline(BenchPolicies.policy("https://unused.example/jwks", 8), publicKeys);
            var big = DecisionCost.pipeline(BenchPolicies.policy("https://unused.example/jwks", 9_998), publicKeys);
            System.out.printf(
                    "JDK %s, %d CPUs%n", Runtime.version(), Runtime.getRuntime().availableProcessors());
            DecisionCost.run(
                    List.of(
                            new DecisionCost.Case("plain JWT route, 10-route policy", small, request(plainToken, null)),
                            new DecisionCost.Case(
                                    "principal rule + CEL condition, 10-route policy", small, mfaRequest(mfaToken)),
                            new DecisionCost.Case(
                                    "plain JWT route, 10,000-route policy", big, request(plainToken, null)),
                            new DecisionCost.Case(
                                    "principal rule + CEL condition, 10,000-route policy", big, mfaRequest(mfaToken))),
                    5,
                    200_000);
            DecisionCost.linearScan(big.policy().orElseThrow(), "api.bench.example", "/v1/orders/42", "GET", 5, 2_000);
            small.close();
            big.close();
            if ("cpu".equals(System.getProperty("only"))) {
                return;
            }
            InMemoryApiKeyStore keys = new InMemoryApiKeyStore();
            String apiKey = new ApiKeyService(keys, Clock.systemUTC())
                    .create("bench", "bench-client", "t1", List.of("user"), List.of(), "free", Optional.empty())
                    .text();
            ExtAuthzConfig base = ExtAuthzConfig.onLoopback(policy, Duration.ofMinutes(10));
            PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            ExtAuthzServer cached =
                    ExtAuthzServer.withApiKeyStore(base, registry, Optional.of(keys), e -> {}, Clock.systemUTC());
            ExtAuthzServer uncached = ExtAuthzServer.withApiKeyStore(
                    base.withTokenCache(0), registry, Optional.of(keys), e -> {}, Clock.systemUTC());
            ExtAuthzServer bigServer = ExtAuthzServer.withApiKeyStore(
                    base.withPolicy(bigPolicy, Duration.ofMinutes(10)),
                    registry,
                    Optional.of(keys),
                    e -> {},
                    Clock.systemUTC());
            cached.start();
            uncached.start();
            bigServer.start();
            try {
                JWTClaimsSet claims = BenchPolicies.alice(issuer);
                List<Scenario> scenarios = List.of(
                        new Scenario("(a) no-op Check server", noop.port(), request("Bearer " + rs.sign(claims), null)),
                        new Scenario(
                                "(b) extauthz, RS256, token cached",
                                cached.grpcPort(),
                                request("Bearer " + rs.sign(claims), null)),
                        new Scenario(
                                "(c) extauthz, RS256, uncached",
                                uncached.grpcPort(),
                                request("Bearer " + rs.sign(claims), null)),
                        new Scenario(
                                "(d) extauthz, ES256, uncached",
                                uncached.grpcPort(),
                                request("Bearer " + es.sign(claims), null)),
                        new Scenario("(e) extauthz, API key", cached.grpcPort(), request(null, apiKey)),
                        new Scenario(
                                "(f) extauthz, principal rule + CEL, cached", cached.grpcPort(), mfaRequest(mfaToken)),
                        new Scenario(
                                "(g) extauthz, 10,000-route policy, cached",
                                bigServer.grpcPort(),
                                request(plainToken, null)));
                printSetup(seconds, rates, rounds);
                List<Row> rows = measure(scenarios, seconds, rates, rounds);
                print(rows, rates);
            } finally {
                cached.close();
                uncached.close();
                bigServer.close();
            }
        }
    }

    /** The principal+CEL route, called by a mesh workload with an MFA token. */
    private static CheckRequest mfaRequest(String authorization) {
        Map<String, List<String>> headers = new LinkedHashMap<>();
        headers.put("authorization", List.of(authorization));
        headers.put("x-tenant-id", List.of("t1"));
        headers.put("x-request-id", List.of("bench"));
        headers.put("user-agent", List.of("bench/1.0"));
        return CheckRequests.of(
                "GET",
                "api.bench.example",
                "/v1/ledger/42",
                headers,
                Map.of(),
                CheckRequests.Encoding.HEADERS,
                BenchPolicies.PRINCIPAL,
                "10.0.0.7");
    }

    static CheckRequest request(String authorization, String apiKey) {
        Map<String, List<String>> headers = new LinkedHashMap<>();
        if (authorization != null) {
            headers.put("authorization", List.of(authorization));
        }
        if (apiKey != null) {
            headers.put("x-api-key", List.of(apiKey));
        }
        headers.put("x-tenant-id", List.of("t1"));
        headers.put("x-request-id", List.of("bench"));
        headers.put("user-agent", List.of("bench/1.0"));
        return CheckRequests.of(
                "GET", "api.bench.example", "/v1/orders/42", headers, Map.of(), CheckRequests.Encoding.HEADERS);
    }

    /**
     * Warms every scenario up, then measures them round-robin so a burst of noise on the shared machine hits all
     * scenarios alike; each figure is the median over the rounds.
     */
    /** The run's setting, before any result: the JDK, the CPUs, and how long, how fast and how often it measures. */
    static void printSetup(Duration seconds, List<Integer> rates, int rounds) {
        System.out.printf(
                "JDK %s, %d CPUs, %d s per measurement, fixed rates %s/s, %d interleaved rounds (median shown)%n",
                Runtime.version(), Runtime.getRuntime().availableProcessors(), seconds.toSeconds(), rates, rounds);
    }

    private static List<Row> measure(List<Scenario> scenarios, Duration seconds, List<Integer> rates, int rounds)
            throws Exception {
        List<ManagedChannel> channels = new ArrayList<>();
        List<LoadGenerator> gens = new ArrayList<>();
        try {
            for (Scenario s : scenarios) {
                gens.add(LoadGenerator.onLoopback(s.port(), s.request(), channels));
            }
            List<InterleavedRounds.Measured> measured = InterleavedRounds.run(
                    scenarios.stream().map(Scenario::name).toList(), gens, seconds, rates, rounds);
            List<Row> rows = new ArrayList<>();
            for (int i = 0; i < scenarios.size(); i++) {
                Map<Integer, LoadGenerator.Result> medians = new LinkedHashMap<>();
                for (int rate : rates) {
                    medians.put(rate, measured.get(i).atRate(rate));
                }
                rows.add(new Row(scenarios.get(i).name(), measured.get(i).maxThroughput(), medians));
            }
            return rows;
        } finally {
            channels.forEach(ManagedChannel::shutdownNow);
        }
    }

    private static void print(List<Row> rows, List<Integer> rates) {
        Row base = rows.get(0);
        System.out.println();
        System.out.println("| scenario | max Checks/s | vs (a) |");
        System.out.println("|---|---:|---:|");
        for (Row r : rows) {
            System.out.printf(
                    "| %s | %.0f | %.2f |%n",
                    r.name(),
                    r.max().throughput(),
                    r.max().throughput() / base.max().throughput());
        }
        for (int rate : rates) {
            System.out.println();
            System.out.printf("At %d Checks/s (open loop, latency in µs from the intended send time):%n%n", rate);
            System.out.println("| scenario | p50 | p99 | p99.9 | p99 vs (a) |");
            System.out.println("|---|---:|---:|---:|---:|");
            double baseP99 = base.atRate().get(rate).latency().getValueAtPercentile(99);
            for (Row r : rows) {
                var h = r.atRate().get(rate).latency();
                if (r.atRate().get(rate).saturated()) {
                    System.out.printf("| %s | saturated | saturated | saturated | - |%n", r.name());
                } else {
                    System.out.printf(
                            "| %s | %d | %d | %d | %.2f |%n",
                            r.name(),
                            h.getValueAtPercentile(50),
                            h.getValueAtPercentile(99),
                            h.getValueAtPercentile(99.9),
                            h.getValueAtPercentile(99) / baseP99);
                }
            }
        }
        // the same figures as CSV lines, for bench/plots/plot.py
        System.out.println();
        io.meshguard.bench.LatencyCsv.header();
        for (Row r : rows) {
            for (int rate : rates) {
                LoadGenerator.Result at = r.atRate().get(rate);
                io.meshguard.bench.LatencyCsv.row(
                        "extauthz", r.name(), r == base, rate, at.throughput(), at.latency(), at.saturated());
            }
        }
    }
}
