package io.meshguard.bench.audit;

import com.nimbusds.jose.JWSAlgorithm;
import io.meshguard.audit.AuditEvent;
import io.meshguard.audit.AuditEventCodec;
import io.meshguard.audit.CopyTextEncoder;
import io.meshguard.authz.replay.KeptFacts;
import io.meshguard.authz.replay.RecordedDecision;
import io.meshguard.authz.replay.TreeEncodedDecision;
import io.meshguard.authz.request.HttpRequestView;
import io.meshguard.bench.extauthz.DecisionCost;
import io.meshguard.bench.extauthz.ReplayBench;
import io.meshguard.extauthz.audit.AuditSinkDecisions;
import io.meshguard.extauthz.audit.AuthzDecisionEvent;
import io.meshguard.extauthz.audit.DecisionEvents;
import io.meshguard.extauthz.server.AuthzPipeline;
import io.meshguard.extauthz.tools.CheckRequests;
import io.meshguard.extauthz.tools.TestKeys;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToLongFunction;

/**
 * CPU per event of the audit work extauthz does for each Check, on one thread (the pod's profile put the
 * audit writer's threads at 18 % of its samples): (1) the {@code authz_decision} event built from a decision as the
 * Check path builds it ({@code DecisionEvents.of}, {@code AuditSinkDecisions.toAuditEvent}) and its details rendered
 * with the replay facts as the writer's thread renders them; (1r) the replay facts alone, as written now and as they
 * were written before (a Jackson tree, kept here as the reference: the two must be the same text); (2) a batch of
 * such events encoded as COPY text ({@code CopyTextEncoder}, what {@code PostgresAuditStore} sends) and (2s) as spool
 * records
 * ({@code AuditEventCodec}, only when PostgreSQL is away). The decisions are 200 shapes (40 callers × 5 routes:
 * allowed, denied by role, by scope, by a deny rule, no route) made by the server's pipeline on {@code ReplayBench}'s
 * policy.
 * Variants alternate round by round in one process; printed: ns of thread CPU per event, median and min of the rounds.
 *
 * <p>Arguments: rounds (default 15), events per round and variant (default 200,000).
 */
public final class DecisionAuditEncodingCost {

    private DecisionAuditEncodingCost() {}

    private record Shape(HttpRequestView view, AuthzPipeline.Recorded recorded) {}

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 15;
        int perRound = args.length > 1 ? Integer.parseInt(args[1]) : 200_000;
        TestKeys rs = TestKeys.generate("bench-rs", JWSAlgorithm.RS256);
        AuthzPipeline pipeline = DecisionCost.pipeline(ReplayBench.policy(), TestKeys.publicSet(List.of(rs)));
        List<Shape> shapes = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            String tenant = "tenant-" + (i % 5);
            List<String> roles =
                    i % 7 == 0 ? List.of("guest") : i % 11 == 0 ? List.of("admin", "user") : List.of("user");
            String t = ReplayBench.token(
                    rs, "user-" + i, tenant, roles, i % 3 == 0 ? List.of("pwd") : List.of("pwd", "mfa"));
            for (String path : new String[] {"/orders/" + i, "/payments/" + i, "/admin/" + i, "/public/" + i, "/x"}) {
                Map<String, List<String>> h = new LinkedHashMap<>();
                h.put("authorization", List.of(t));
                h.put("x-tenant-id", List.of(i % 13 == 0 ? "other" : tenant));
                h.put("x-channel", List.of(i % 2 == 0 ? "web" : "app"));
                h.put("user-agent", List.of("bench/1.0"));
                h.put("traceparent", List.of("00-4bf92f3577b34da6a3ce929d0e0e47" + (10 + i) + "-00f067aa0ba902b7-01"));
                if (i % 17 == 0) {
                    h.put("x-debug", List.of("1"));
                }
                HttpRequestView view = HttpRequestView.of(CheckRequests.of(
                        "GET", "api.bench.example", path, h, Map.of(), CheckRequests.Encoding.HEADERS));
                shapes.add(new Shape(view, pipeline.decideRecorded(view)));
            }
        }
        Instant at = Instant.parse("2026-11-26T10:00:00.123456Z");
        long bytes = 0;
        for (Shape s : shapes) {
            RecordedDecision r = RecordedDecision.of(
                    s.view(), s.recorded().decision(), at, s.recorded().kept().orElseThrow());
            if (!r.toJson().equals(TreeEncodedDecision.treeJson(r))) {
                throw new IllegalStateException("replay facts differ from the tree's text: " + r.toJson());
            }
            bytes += event(s, at).detailsJson().length();
        }
        List<AuditEvent> batch = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            AuditEvent e = event(shapes.get(i % shapes.size()), at.plusNanos(i * 1000L));
            e.detailsJson();
            batch.add(e);
        }
        System.out.printf(
                "JDK %s, %s; %d shapes, details %.0f chars per event (mean); %d rounds of %,d events per variant%n",
                Runtime.version(),
                System.getProperty("os.arch"),
                shapes.size(),
                (double) bytes / shapes.size(),
                rounds,
                perRound);
        Map<String, ToLongFunction<Integer>> variants = new LinkedHashMap<>();
        variants.put(
                "(1) event + details with replay facts",
                i -> event(shapes.get(i % shapes.size()), at).detailsJson().length());
        variants.put(
                "(1r) replay facts, as written now",
                i -> facts(shapes.get(i % shapes.size()), at).toJson().length());
        variants.put("(1r) replay facts, as a Jackson tree (before)", i -> TreeEncodedDecision.treeJson(
                        facts(shapes.get(i % shapes.size()), at))
                .length());
        variants.put(
                "(2) COPY text, batches of 500", i -> i % batch.size() == 0 ? CopyTextEncoder.encode(batch).length : 0);
        variants.put("(2s) spool record", i -> AuditEventCodec.encode(batch.get(i % batch.size())).length);
        ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
        Map<String, double[]> ns = new LinkedHashMap<>();
        variants.keySet().forEach(k -> ns.put(k, new double[rounds]));
        long sink = 0;
        for (int round = -3; round < rounds; round++) { // three rounds of warm-up
            List<String> order = new ArrayList<>(variants.keySet());
            if (round % 2 != 0) {
                java.util.Collections.reverse(order);
            }
            for (String k : order) {
                ToLongFunction<Integer> f = variants.get(k);
                long t0 = cpu.getCurrentThreadCpuTime();
                for (int i = 0; i < perRound; i++) {
                    sink += f.applyAsLong(i);
                }
                long t = cpu.getCurrentThreadCpuTime() - t0;
                if (round >= 0) {
                    ns.get(k)[round] = (double) t / perRound;
                }
            }
        }
        for (Map.Entry<String, double[]> e : ns.entrySet()) {
            double[] v = e.getValue().clone();
            Arrays.sort(v);
            System.out.printf("| %s | %,.0f | %,.0f |%n", e.getKey(), v[v.length / 2], v[0]);
        }
        System.out.println("(checksum " + sink + ")");
    }

    private static RecordedDecision facts(Shape s, Instant at) {
        KeptFacts kept = s.recorded().kept().orElseThrow();
        return RecordedDecision.of(s.view(), s.recorded().decision(), at, kept);
    }

    private static AuditEvent event(Shape s, Instant at) {
        AuthzDecisionEvent e = DecisionEvents.of(
                s.view(), s.recorded().decision(), at, 17, s.recorded().kept());
        return AuditSinkDecisions.toAuditEvent(e);
    }
}
