package io.meshguard.bench.extauthz;

import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.grpc.ManagedChannel;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * JVM CPU and bytes allocated per Check over gRPC, beside throughput: the servers run in a child JVM
 * ({@link CheckServerProcess}) whose process CPU time is read before and after each measurement, so the load
 * generator's own CPU (this JVM) is not counted. Scenarios, measured round-robin after a warm-up of each, figures the
 * median over the rounds: (a) the no-op Check server, (b) extauthz with a cached RS256 token (ExtAuthzBench's (b),
 * audit on), (c) an API-key route outside any product, (d) the same route as a product route whose key holds one of
 * 10,000 subscriptions (at most +5 % over (c)). (c) and (d) are the same server and the same key.
 *
 * <p>Its extauthz servers are wired by hand with a counting audit sink and the bench's policy: the ratios compare
 * scenarios of that server, not a user's pod with a no-op ({@link CheckPodBench} does that; docs/benchmarks.md says
 * why the figures differ).
 *
 * <p>Arguments (optional): seconds per measurement (default 8), fixed rates (default 2000; "-" for none), rounds (5).
 * A benchmark, not a test: run it by hand (docs/benchmarks.md).
 */
public final class CheckCpuOverGrpc {
    private record Scenario(String name, int port, CheckRequest request) {}

    /** One measurement: Checks answered, their rate, the server JVM's CPU and allocation per Check, p99. */
    private record Sample(double perSecond, double cpuNanos, double bytes, long p50, long p99, boolean saturated) {}

    private CheckCpuOverGrpc() {}

    public static void main(String[] args) throws Exception {
        Duration seconds = Duration.ofSeconds(args.length > 0 ? Integer.parseInt(args[0]) : 8);
        List<Integer> rates = new ArrayList<>();
        String rateArg = args.length > 1 ? args[1] : "2000";
        if (!rateArg.equals("-")) {
            for (String r : rateArg.split(",")) {
                rates.add(Integer.parseInt(r.trim()));
            }
        }
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        Process child = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-Xmx1g",
                        "-cp",
                        System.getProperty("java.class.path"),
                        CheckServerProcess.class.getName())
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        BufferedReader childOut =
                new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
        PrintStream childIn = new PrintStream(child.getOutputStream(), true, StandardCharsets.UTF_8);
        List<ManagedChannel> channels = new ArrayList<>();
        try {
            Map<String, String> ready = ready(childOut);
            List<Scenario> scenarios = List.of(
                    new Scenario(
                            "(a) no-op Check server",
                            port(ready, "noop"),
                            ExtAuthzBench.request("Bearer " + ready.get("token"), null)),
                    new Scenario(
                            "(b) extauthz, RS256 token cached, audit on",
                            port(ready, "jwt"),
                            ExtAuthzBench.request("Bearer " + ready.get("token"), null)),
                    new Scenario(
                            "(c) extauthz, API-key route, no product",
                            port(ready, "products"),
                            SubscriptionCheckBench.request(ready.get("key"), false)),
                    new Scenario(
                            "(d) extauthz, the same route as a product route (10k subscriptions)",
                            port(ready, "products"),
                            SubscriptionCheckBench.request(ready.get("key"), true)));
            List<LoadGenerator> gens = new ArrayList<>();
            for (Scenario s : scenarios) {
                gens.add(LoadGenerator.onLoopback(s.port(), s.request(), channels));
            }
            for (int i = 0; i < gens.size(); i++) {
                LoadGenerator.Result warm =
                        gens.get(i).closedLoop(32, Duration.ofSeconds(Math.max(3, seconds.toSeconds())));
                if (warm.notAllowed() > 0) {
                    throw new IllegalStateException(scenarios.get(i).name() + ": " + warm.notAllowed()
                            + " Checks were not allowed; the scenario is broken");
                }
            }
            System.out.printf(
                    "JDK %s, %d CPUs, %d s per measurement, fixed rates %s/s, %d interleaved rounds (median"
                            + " shown); server JVM CPU = the child JVM's process CPU time%n",
                    Runtime.version(), Runtime.getRuntime().availableProcessors(), seconds.toSeconds(), rates, rounds);
            List<List<Sample>> closed = new ArrayList<>();
            Map<Integer, List<List<Sample>>> open = new HashMap<>();
            scenarios.forEach(s -> closed.add(new ArrayList<>()));
            for (int rate : rates) {
                List<List<Sample>> perScenario = new ArrayList<>();
                scenarios.forEach(s -> perScenario.add(new ArrayList<>()));
                open.put(rate, perScenario);
            }
            for (int round = 0; round < rounds; round++) {
                for (int i = 0; i < gens.size(); i++) {
                    LoadGenerator g = gens.get(i);
                    closed.get(i).add(measure(childIn, childOut, () -> g.closedLoop(32, seconds)));
                }
                for (int rate : rates) {
                    for (int i = 0; i < gens.size(); i++) {
                        LoadGenerator g = gens.get(i);
                        open.get(rate).get(i).add(measure(childIn, childOut, () -> g.openLoop(rate, seconds)));
                    }
                }
                Sample c = closed.get(2).get(round);
                Sample d = closed.get(3).get(round);
                System.out.printf(
                        "round %d of %d: (d)/(c) CPU per Check %.3f, throughput %.3f%n",
                        round + 1, rounds, d.cpuNanos() / c.cpuNanos(), d.perSecond() / c.perSecond());
            }
            print("Closed loop, 32 Checks in flight on one channel", scenarios, closed, false);
            for (int rate : rates) {
                print(
                        "Open loop at " + rate + " Checks/s (latency from the intended send time)",
                        scenarios,
                        open.get(rate),
                        true);
            }
        } finally {
            channels.forEach(ManagedChannel::shutdownNow);
            childIn.close();
            child.waitFor();
        }
    }

    private interface Load {
        LoadGenerator.Result run() throws InterruptedException;
    }

    private static Sample measure(PrintStream childIn, BufferedReader childOut, Load load) throws Exception {
        long[] before = cpu(childIn, childOut);
        LoadGenerator.Result r = load.run();
        long[] after = cpu(childIn, childOut);
        if (r.notAllowed() > 0) {
            throw new IllegalStateException(r.notAllowed() + " Checks were not allowed");
        }
        double n = r.count();
        return new Sample(
                r.throughput(),
                (after[0] - before[0]) / n,
                (after[1] - before[1]) / n,
                r.latency().getValueAtPercentile(50),
                r.latency().getValueAtPercentile(99),
                r.saturated());
    }

    /** The child's process CPU ns and bytes allocated so far. */
    private static long[] cpu(PrintStream childIn, BufferedReader childOut) throws Exception {
        childIn.println("cpu");
        for (String line = childOut.readLine(); line != null; line = childOut.readLine()) {
            if (line.startsWith("CPU ")) {
                String[] f = line.split(" ");
                return new long[] {Long.parseLong(f[1]), Long.parseLong(f[2])};
            }
        }
        throw new IllegalStateException("the server process ended");
    }

    private static Map<String, String> ready(BufferedReader childOut) throws Exception {
        for (String line = childOut.readLine(); line != null; line = childOut.readLine()) {
            if (line.startsWith("READY ")) {
                Map<String, String> fields = new HashMap<>();
                for (String f : line.substring(6).split(" ")) {
                    int eq = f.indexOf('=');
                    fields.put(f.substring(0, eq), f.substring(eq + 1));
                }
                return fields;
            }
        }
        throw new IllegalStateException("the server process ended before it was ready");
    }

    private static int port(Map<String, String> ready, String name) {
        return Integer.parseInt(ready.get(name));
    }

    private static void print(String title, List<Scenario> scenarios, List<List<Sample>> samples, boolean latency) {
        System.out.printf("%n%s:%n%n", title);
        System.out.println(
                "| scenario | Checks/s | vs (a) | server JVM µs CPU per Check | vs (a) | vs (c) | bytes per Check"
                        + (latency ? " | p50 µs | p99 µs | p99 vs (a) |" : " |"));
        System.out.println("|---|---:|---:|---:|---:|---:|---:|" + (latency ? "---:|---:|---:|" : ""));
        double baseRate = median(samples.get(0), Sample::perSecond);
        double baseCpu = median(samples.get(0), Sample::cpuNanos);
        double baseP99 = median(samples.get(0), s -> s.p99());
        double cCpu = median(samples.get(2), Sample::cpuNanos);
        for (int i = 0; i < scenarios.size(); i++) {
            List<Sample> s = samples.get(i);
            double cpu = median(s, Sample::cpuNanos);
            String row = String.format(
                    "| %s | %.0f | %.2f | %.1f | %.2f | %s | %.0f |",
                    scenarios.get(i).name(),
                    median(s, Sample::perSecond),
                    median(s, Sample::perSecond) / baseRate,
                    cpu / 1000,
                    cpu / baseCpu,
                    i >= 2 ? String.format("%.3f", cpu / cCpu) : "",
                    median(s, Sample::bytes));
            if (latency) {
                boolean saturated = s.stream().filter(Sample::saturated).count() > s.size() / 2;
                double p99 = median(s, x -> x.p99());
                row += saturated
                        ? " saturated | saturated | - |"
                        : String.format(" %.0f | %.0f | %.2f |", median(s, x -> x.p50()), p99, p99 / baseP99);
            }
            System.out.println(row);
        }
    }

    private static double median(List<Sample> samples, java.util.function.ToDoubleFunction<Sample> by) {
        double[] v = samples.stream().mapToDouble(by).sorted().toArray();
        return v[v.length / 2];
    }
}
