package io.meshguard.bench.extauthz;

import com.nimbusds.jose.jwk.JWKSet;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.meshguard.authz.decision.CheckResponses;
import io.meshguard.authz.decision.SecretFiles;
import io.meshguard.authz.jwt.JwksRegistry;
import io.meshguard.authz.policy.AuthzPolicy;
import io.meshguard.authz.policy.AuthzPolicyParser;
import io.meshguard.authz.policy.RoutePolicy;
import io.meshguard.authz.request.HttpRequestView;
import io.meshguard.extauthz.ratelimit.TokenBucketLimiter;
import io.meshguard.extauthz.server.AuthzPipeline;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.StringReader;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * CPU per Check inside extauthz, without gRPC: CheckRequest → request view → decision → CheckResponse, on one thread,
 * measured as that thread's CPU time (not wall time, so other processes on a shared machine do not count), the
 * scenarios interleaved round by round, median of the rounds. Tokens are cached, as in steady state.
 */
public final class DecisionCost {
    record Case(String name, AuthzPipeline pipeline, CheckRequest request) {}

    private DecisionCost() {}

    public static AuthzPipeline pipeline(String policyYaml, JWKSet keys) throws Exception {
        AuthzPolicy policy = new AuthzPolicyParser().parse("bench.yaml", new StringReader(policyYaml));
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        AuthzPipeline p = new AuthzPipeline(
                new JwksRegistry(registry, Map.of("bench-idp", keys), Duration.ofSeconds(1)),
                Optional.empty(),
                new TokenBucketLimiter(1000, Duration.ofMinutes(1), System::nanoTime),
                new SecretFiles(System::nanoTime),
                Clock.systemUTC(),
                registry,
                10_000,
                Duration.ofMinutes(30));
        p.use(policy);
        return p;
    }

    /**
     * Prints ns of CPU and bytes allocated per Check for each case and its ratio to the first, and the median of the
     * per-round ratios to the first (each round's cases ran back to back, so a burst of load hits both sides of a
     * ratio alike); returns each case's per-round ns.
     */
    static List<List<Double>> run(List<Case> cases, int rounds, int opsPerRound) {
        var cpu = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long self = Thread.currentThread().threadId();
        for (Case c : cases) {
            if (!c.pipeline().decide(HttpRequestView.of(c.request())).allowed()) {
                throw new IllegalStateException(c.name() + ": not allowed; the scenario is broken");
            }
            loop(c, opsPerRound * 3);
        }
        List<List<Double>> perOp = new ArrayList<>();
        List<List<Double>> bytes = new ArrayList<>();
        cases.forEach(c -> {
            perOp.add(new ArrayList<>());
            bytes.add(new ArrayList<>());
        });
        for (int r = 0; r < rounds; r++) {
            for (int i = 0; i < cases.size(); i++) {
                long b0 = cpu.getThreadAllocatedBytes(self);
                long t0 = cpu.getCurrentThreadCpuTime();
                loop(cases.get(i), opsPerRound);
                perOp.get(i).add((cpu.getCurrentThreadCpuTime() - t0) / (double) opsPerRound);
                bytes.get(i).add((cpu.getThreadAllocatedBytes(self) - b0) / (double) opsPerRound);
            }
        }
        double base = median(perOp.get(0));
        System.out.println();
        System.out.printf(
                "CPU per Check in-process (thread CPU time, median of %d rounds x %d Checks):%n%n",
                rounds, opsPerRound);
        System.out.println(
                "| case | ns CPU per Check | vs first | median of per-round ratios to first | bytes per Check |");
        System.out.println("|---|---:|---:|---:|---:|");
        for (int i = 0; i < cases.size(); i++) {
            double m = median(perOp.get(i));
            List<Double> ratios = new ArrayList<>();
            for (int r = 0; r < rounds; r++) {
                ratios.add(perOp.get(i).get(r) / perOp.get(0).get(r));
            }
            System.out.printf(
                    "| %s | %.0f | %.2f | %.3f | %.0f |%n",
                    cases.get(i).name(), m, m / base, median(ratios), median(bytes.get(i)));
        }
        return perOp;
    }

    /** What selecting the last of {@code routes} by a first-match scan in file order costs (the pre-index way). */
    static void linearScan(AuthzPolicy policy, String host, String path, String method, int rounds, int ops) {
        ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
        List<Double> perOp = new ArrayList<>();
        int sink = 0;
        for (int r = 0; r < rounds + 1; r++) {
            long t0 = cpu.getCurrentThreadCpuTime();
            for (int i = 0; i < ops; i++) {
                Optional<RoutePolicy> hit = policy.routes().stream()
                        .filter(x -> x.match().matches(host, path, method))
                        .findFirst();
                sink += hit.isPresent() ? 1 : 0;
            }
            if (r > 0) {
                perOp.add((cpu.getCurrentThreadCpuTime() - t0) / (double) ops);
            }
        }
        System.out.printf(
                "%nFor reference, a first-match linear scan over the %d routes of that policy: %.0f ns CPU per"
                        + " selection (%d hits)%n",
                policy.routes().size(), median(perOp), sink);
    }

    private static void loop(Case c, int ops) {
        int allowed = 0;
        for (int i = 0; i < ops; i++) {
            allowed += CheckResponses.toResponse(c.pipeline().decide(HttpRequestView.of(c.request())))
                                    .getStatus()
                                    .getCode()
                            == 0
                    ? 1
                    : 0;
        }
        if (allowed != ops) {
            throw new IllegalStateException(c.name() + ": " + (ops - allowed) + " Checks were not allowed");
        }
    }

    private static double median(List<Double> values) {
        List<Double> s = new ArrayList<>(values);
        s.sort(null);
        return s.get(s.size() / 2);
    }
}
