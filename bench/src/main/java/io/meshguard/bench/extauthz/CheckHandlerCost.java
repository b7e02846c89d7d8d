package io.meshguard.bench.extauthz;

import com.google.rpc.Status;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jwt.JWTClaimsSet;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.envoyproxy.envoy.service.auth.v3.OkHttpResponse;
import io.grpc.stub.StreamObserver;
import io.meshguard.audit.AuditEvent;
import io.meshguard.audit.AuditSink;
import io.meshguard.extauthz.audit.AuditSinkDecisions;
import io.meshguard.extauthz.server.AuthorizationService;
import io.meshguard.extauthz.server.AuthzPipeline;
import io.meshguard.extauthz.tools.CheckRequests;
import io.meshguard.extauthz.tools.TestKeys;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.lang.management.ManagementFactory;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The whole Check handler without the transport: {@code AuthorizationService.check} (request view, logging context,
 * decision, metrics, CheckResponse, latency timer, audit event built and handed to an audit sink) against the no-op
 * Check server's handler, on one thread, measured as that thread's CPU time and bytes allocated per Check (both
 * immune to the other processes of a shared machine). The configuration is ExtAuthzBench's (b): the plain route of the
 * 10-route policy (no rate limit), a cached RS256 token, audit on (the event goes through {@link AuditSinkDecisions}
 * to a sink that keeps a count: what the Check thread does for the PostgreSQL writer up to its queue).
 *
 * <p>Arguments (optional): rounds (default 9), Checks per round (200,000). {@code -Dloop=N} only runs the meshguard
 * handler N times (for a profiler) and prints nothing else.
 */
public final class CheckHandlerCost {
    private static final CheckResponse OK = CheckResponse.newBuilder()
            .setStatus(Status.newBuilder().setCode(0))
            .setOkResponse(OkHttpResponse.getDefaultInstance())
            .build();

    /** Discards what the handler answers, as the transport would after writing it. */
    private static final class Discard implements StreamObserver<CheckResponse> {
        long answered;

        @Override
        public void onNext(CheckResponse value) {
            answered += value.getStatus().getCode() == 0 ? 1 : 0;
        }

        @Override
        public void onError(Throwable t) {
            throw new IllegalStateException(t);
        }

        @Override
        public void onCompleted() {}
    }

    private interface Handler {
        void check(CheckRequest request, StreamObserver<CheckResponse> observer);
    }

    private CheckHandlerCost() {}

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 9;
        int ops = args.length > 1 ? Integer.parseInt(args[1]) : 200_000;
        TestKeys rs = TestKeys.generate("bench-rs", JWSAlgorithm.RS256);
        String issuer = "https://idp.bench.example";
        AuthzPipeline pipeline = DecisionCost.pipeline(
                BenchPolicies.policy("https://unused.example/jwks", 8), TestKeys.publicSet(List.of(rs)));
        AtomicLong audited = new AtomicLong();
        AuditSink counting = (AuditEvent e) -> {
            audited.incrementAndGet();
            return true;
        };
        AuthorizationService service = new AuthorizationService(
                pipeline,
                new AuditSinkDecisions(counting),
                Clock.systemUTC(),
                new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
        Instant now = Instant.now();
        JWTClaimsSet claims = BenchPolicies.alice(issuer);
        Map<String, List<String>> headers = new LinkedHashMap<>();
        headers.put("authorization", List.of("Bearer " + rs.sign(claims)));
        headers.put("x-tenant-id", List.of("t1"));
        headers.put("x-request-id", List.of("bench"));
        headers.put("user-agent", List.of("bench/1.0"));
        CheckRequest request = CheckRequests.of(
                "GET", "api.bench.example", "/v1/orders/42", headers, Map.of(), CheckRequests.Encoding.HEADERS);
        Handler noop = (r, o) -> {
            o.onNext(OK);
            o.onCompleted();
        };
        Handler meshguard = service::check;
        // the same handler with the audit event's details rendered on the Check thread (how every event was written
        // before the replay facts moved to the writer's thread): the difference is what the Check no longer pays
        AuthorizationService renderingOnCheck = new AuthorizationService(
                pipeline,
                e -> {
                    AuditEvent event = AuditSinkDecisions.toAuditEvent(e);
                    if (event.detailsJson().isEmpty()) {
                        throw new IllegalStateException("no details");
                    }
                    counting.record(event);
                },
                Clock.systemUTC(),
                new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
        Handler eager = renderingOnCheck::check;
        // the replay facts alone, as the writer's thread makes them (RecordedDecision.of and its JSON)
        io.meshguard.authz.request.HttpRequestView view = io.meshguard.authz.request.HttpRequestView.of(request);
        AuthzPipeline.Recorded recorded = pipeline.decideRecorded(view);
        Instant at = Instant.now();
        long[] factBytes = {0};
        Handler facts = (r, o) -> {
            factBytes[0] += new io.meshguard.authz.replay.ReplayFacts(
                            view, recorded.decision(), at, recorded.kept().orElseThrow())
                    .json()
                    .length();
            o.onNext(OK);
        };
        long loop = Long.getLong("loop", 0);
        if (loop > 0) {
            Discard d = new Discard();
            for (long i = 0; i < loop; i++) {
                meshguard.check(request, d);
            }
            if (d.answered != loop) {
                throw new IllegalStateException("denied Checks: " + (loop - d.answered));
            }
            return;
        }
        List<String> names = List.of(
                "no-op Check handler",
                "extauthz AuthorizationService.check (cached RS256, audit on; replay facts made by the writer)",
                "the same, the event's details (replay facts too) rendered on the Check thread",
                "replay facts alone (RecordedDecision.of + JSON, on the writer's thread)");
        List<Handler> handlers = List.of(noop, meshguard, eager, facts);
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long self = Thread.currentThread().threadId();
        for (Handler h : handlers) {
            run(h, request, ops * 3);
        }
        List<List<Double>> cpu = new ArrayList<>();
        List<List<Double>> bytes = new ArrayList<>();
        handlers.forEach(h -> {
            cpu.add(new ArrayList<>());
            bytes.add(new ArrayList<>());
        });
        for (int r = 0; r < rounds; r++) {
            for (int i = 0; i < handlers.size(); i++) {
                long b0 = threads.getThreadAllocatedBytes(self);
                long t0 = threads.getCurrentThreadCpuTime();
                run(handlers.get(i), request, ops);
                cpu.get(i).add((threads.getCurrentThreadCpuTime() - t0) / (double) ops);
                bytes.get(i).add((threads.getThreadAllocatedBytes(self) - b0) / (double) ops);
            }
        }
        System.out.printf(
                "JDK %s, %d CPUs; median of %d rounds x %d Checks, thread CPU time and allocation%n%n",
                Runtime.version(), Runtime.getRuntime().availableProcessors(), rounds, ops);
        System.out.println("| handler | ns CPU per Check | bytes allocated per Check |");
        System.out.println("|---|---:|---:|");
        for (int i = 0; i < handlers.size(); i++) {
            System.out.printf("| %s | %.0f | %.0f |%n", names.get(i), median(cpu.get(i)), median(bytes.get(i)));
        }
        System.out.printf("%naudit events recorded: %d (replay facts made: %d chars)%n", audited.get(), factBytes[0]);
        pipeline.close();
    }

    private static void run(Handler h, CheckRequest request, int ops) {
        Discard d = new Discard();
        for (int i = 0; i < ops; i++) {
            h.check(request, d);
        }
        if (d.answered != ops) {
            throw new IllegalStateException("denied Checks: " + (ops - d.answered));
        }
    }

    private static double median(List<Double> values) {
        List<Double> s = new ArrayList<>(values);
        s.sort(null);
        return s.get(s.size() / 2);
    }
}
