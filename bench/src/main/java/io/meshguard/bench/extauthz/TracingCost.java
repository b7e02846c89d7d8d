package io.meshguard.bench.extauthz;

import com.nimbusds.jose.JWSAlgorithm;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.grpc.stub.StreamObserver;
import io.meshguard.extauthz.server.AuthorizationService;
import io.meshguard.extauthz.server.AuthzPipeline;
import io.meshguard.extauthz.tools.CheckRequests;
import io.meshguard.extauthz.tools.TestKeys;
import io.meshguard.runtime.tracing.Tracing;
import io.meshguard.testing.OtlpTraceReceiver;
import io.meshguard.testing.StreamSink;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What tracing costs per Check: the same Check (cached RS256 token, 10-route policy, a sampled {@code traceparent} in
 * the request) through {@link AuthorizationService} with tracing off and with tracing on (every span sampled, batch
 * span processor, OTLP/gRPC export to a real receiver on loopback). Rounds alternate off and on; each
 * figure is the median over the rounds.
 *
 * <p>Two measures: the Check thread's own CPU time (the request path), and the whole server process's CPU time per
 * Check after every span of the round was exported (the request path plus the batch processor, the OTLP encoding and
 * the gRPC send). The receiver runs in a separate JVM ({@link OtlpTraceReceiver#main}), so its decoding is not
 * counted.
 *
 * <pre>{@code java -cp "$CP" io.meshguard.bench.extauthz.TracingCost [rounds] [checksPerRound]}</pre>
 */
public final class TracingCost {
    private static final StreamObserver<CheckResponse> DISCARD = StreamSink.discarding();

    private TracingCost() {}

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 7;
        int perRound = args.length > 1 ? Integer.parseInt(args[1]) : 100_000;
        TestKeys rs = TestKeys.generate("bench-rs", JWSAlgorithm.RS256);
        String token = "Bearer " + rs.sign(BenchPolicies.alice(BenchPolicies.ISSUER));
        List<CheckRequest> requests = requests(token, 256);
        String policy = BenchPolicies.policy("https://unused.example/jwks", 8);

        // the collector runs in its own JVM: decoding the exports is not the server's CPU
        Process collectorProcess = new ProcessBuilder(
                        java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java")
                                .toString(),
                        "-Xmx256m",
                        "-cp",
                        System.getProperty("java.class.path"),
                        OtlpTraceReceiver.class.getName())
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        java.io.BufferedReader collectorOut = new java.io.BufferedReader(new java.io.InputStreamReader(
                collectorProcess.getInputStream(), java.nio.charset.StandardCharsets.UTF_8));
        String endpoint = collectorOut.readLine();
        if (endpoint == null || !endpoint.startsWith("http://")) {
            throw new IllegalStateException("the OTLP receiver process did not start: " + endpoint);
        }
        try {
            SimpleMeterRegistry tracingMeters = new SimpleMeterRegistry();
            // a queue large enough that no span of a round is dropped: every span is exported, and paid for
            Tracing on = Tracing.fromEnvironment(
                    Map.of(
                            "OTEL_TRACES_EXPORTER",
                            "otlp",
                            "OTEL_EXPORTER_OTLP_ENDPOINT",
                            endpoint,
                            "OTEL_BSP_SCHEDULE_DELAY",
                            "100",
                            "OTEL_BSP_MAX_QUEUE_SIZE",
                            Integer.toString(perRound + 1024),
                            "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
                            "512"),
                    "meshguard-extauthz-bench",
                    tracingMeters);
            Tracing off = Tracing.fromEnvironment(Map.of(), "meshguard-extauthz-bench", new SimpleMeterRegistry());
            AuthzPipeline offPipeline = DecisionCost.pipeline(policy, TestKeys.publicSet(List.of(rs)));
            AuthzPipeline onPipeline = DecisionCost.pipeline(policy, TestKeys.publicSet(List.of(rs)));
            AuthorizationService offService =
                    new AuthorizationService(offPipeline, e -> {}, Clock.systemUTC(), new SimpleMeterRegistry(), off);
            AuthorizationService onService =
                    new AuthorizationService(onPipeline, e -> {}, Clock.systemUTC(), new SimpleMeterRegistry(), on);

            if (!offPipeline
                    .decide(io.meshguard.authz.request.HttpRequestView.of(requests.get(0)))
                    .allowed()) {
                throw new IllegalStateException("the benchmark's Check is not allowed; the scenario is broken");
            }
            System.out.printf(
                    "JDK %s, %d CPUs, %d rounds x %d Checks per case (median shown)%n",
                    Runtime.version(), Runtime.getRuntime().availableProcessors(), rounds, perRound);
            // warm-up: both paths compiled, the exporter connected
            loop(offService, requests, perRound);
            loop(onService, requests, perRound);
            awaitExported(tracingMeters);

            ThreadMXBean threads = ManagementFactory.getThreadMXBean();
            com.sun.management.OperatingSystemMXBean os =
                    (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
            List<Double> offThread = new ArrayList<>();
            List<Double> onThread = new ArrayList<>();
            List<Double> offProcess = new ArrayList<>();
            List<Double> onProcess = new ArrayList<>();
            for (int r = 0; r < rounds; r++) {
                long p0 = os.getProcessCpuTime();
                long t0 = threads.getCurrentThreadCpuTime();
                loop(offService, requests, perRound);
                offThread.add((threads.getCurrentThreadCpuTime() - t0) / (double) perRound);
                offProcess.add((os.getProcessCpuTime() - p0) / (double) perRound);

                p0 = os.getProcessCpuTime();
                t0 = threads.getCurrentThreadCpuTime();
                loop(onService, requests, perRound);
                onThread.add((threads.getCurrentThreadCpuTime() - t0) / (double) perRound);
                awaitExported(tracingMeters);
                onProcess.add((os.getProcessCpuTime() - p0) / (double) perRound);
            }
            double exported = tracingMeters
                    .get("meshguard_tracing_spans_exported_total")
                    .tag("outcome", "success")
                    .counter()
                    .count();
            double ended = tracingMeters
                    .get("meshguard_tracing_spans_ended_total")
                    .counter()
                    .count();
            System.out.println();
            System.out.println(
                    "| measure | tracing off, ns per Check | tracing on (all sampled), ns per Check | added, ns |");
            System.out.println("|---|---:|---:|---:|");
            row("Check thread CPU", median(offThread), median(onThread));
            row(
                    "server process CPU (incl. batch processor, OTLP encoding, gRPC send)",
                    median(offProcess),
                    median(onProcess));
            collectorProcess.getOutputStream().write('\n');
            collectorProcess.getOutputStream().flush();
            System.out.printf(
                    "%nspans ended %.0f, exported %.0f, received by the collector (separate JVM) %s%n",
                    ended, exported, collectorOut.readLine());
            offPipeline.close();
            onPipeline.close();
            on.close();
        } finally {
            collectorProcess.getOutputStream().close();
            collectorProcess.waitFor();
        }
    }

    private static void row(String name, double off, double on) {
        System.out.printf("| %s | %.0f | %.0f | %.0f (%.2fx) |%n", name, off, on, on - off, on / off);
    }

    private static List<CheckRequest> requests(String token, int count) {
        SecureRandom random = new SecureRandom();
        List<CheckRequest> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            byte[] trace = new byte[16];
            byte[] span = new byte[8];
            random.nextBytes(trace);
            random.nextBytes(span);
            Map<String, List<String>> headers = new LinkedHashMap<>();
            headers.put("authorization", List.of(token));
            headers.put("x-tenant-id", List.of("t1"));
            headers.put("x-request-id", List.of("bench-" + i));
            headers.put(
                    "traceparent",
                    List.of("00-" + HexFormat.of().formatHex(trace) + "-"
                            + HexFormat.of().formatHex(span) + "-01"));
            out.add(CheckRequests.of(
                    "GET", "api.bench.example", "/v1/orders/42", headers, Map.of(), CheckRequests.Encoding.HEADERS));
        }
        return out;
    }

    private static void loop(AuthorizationService service, List<CheckRequest> requests, int n) {
        int size = requests.size();
        for (int i = 0; i < n; i++) {
            service.check(requests.get(i % size), DISCARD);
        }
    }

    /** Waits until the batch processor has exported every span ended so far. */
    private static void awaitExported(SimpleMeterRegistry meters) throws InterruptedException {
        while (true) {
            double ended =
                    meters.get("meshguard_tracing_spans_ended_total").counter().count();
            double done = meters.get("meshguard_tracing_spans_exported_total")
                            .tag("outcome", "success")
                            .counter()
                            .count()
                    + meters.get("meshguard_tracing_spans_exported_total")
                            .tag("outcome", "failure")
                            .counter()
                            .count();
            if (done >= ended) {
                return;
            }
            Thread.sleep(5);
        }
    }

    private static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        sorted.sort(Double::compare);
        return sorted.get(sorted.size() / 2);
    }
}
