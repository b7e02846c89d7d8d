package io.meshguard.bench.extauthz;

import io.meshguard.authz.policy.AuthzPolicy;
import io.meshguard.authz.policy.AuthzPolicyParser;
import io.meshguard.authz.replay.DecisionReplay;
import io.meshguard.authz.replay.ImpactReport;
import io.meshguard.authz.replay.RecordedDecision;
import io.meshguard.extauthz.tools.AuthzTestRunner;
import io.meshguard.extauthz.tools.TestResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Self-replay with the shipped policies: every decision the shipped test cases ({@code policies/tests/authz*.yaml},
 * run by {@code meshguard policy test}'s runner through the server's pipeline) make is recorded as its audit row keeps
 * it, then N decisions (the recorded ones over and over) are read back from JSON and replayed against the same
 * {@code authz.yaml}. Prints the flips (must be 0), the share replayable, the rest by reason, and the replay facts'
 * size. The cases are the policy's edge cases, not production traffic: the share is a floor for a window where most
 * requests are ordinary ones.
 *
 * <p>Arguments: policy directory (default {@code policies}), decisions (default 1,000,000).
 */
public final class ShippedPolicyReplay {
    private ShippedPolicyReplay() {}

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args.length > 0 ? args[0] : "policies");
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 1_000_000;
        List<RecordedDecision> recorded = new ArrayList<>();
        List<TestResult> results = new AuthzTestRunner(Clock.systemUTC(), recorded::add).run(dir);
        long failed = results.stream().filter(r -> !r.passed()).count();
        AuthzPolicy inForce = new AuthzPolicyParser().parse(dir.resolve("authz.yaml"));
        List<String> json = recorded.stream().map(RecordedDecision::toJson).toList();
        long bytes = json.stream()
                .mapToLong(j -> j.getBytes(StandardCharsets.UTF_8).length)
                .sum();
        System.out.printf(
                "JDK %s; %s: %d cases (%d failed), %d decisions recorded, replay facts %.0f bytes per row (mean), "
                        + "largest %d%n",
                Runtime.version(),
                dir,
                results.size(),
                failed,
                recorded.size(),
                (double) bytes / json.size(),
                json.stream()
                        .mapToInt(j -> j.getBytes(StandardCharsets.UTF_8).length)
                        .max()
                        .orElse(0));
        DecisionReplay replay = new DecisionReplay(inForce);
        ImpactReport distinct = new ImpactReport();
        for (int i = 0; i < recorded.size(); i++) {
            RecordedDecision r = read(recorded.get(i), json.get(i), i);
            distinct.add(r, replay.replay(r));
        }
        print("the recorded decisions once each", distinct, recorded.size());
        ImpactReport report = new ImpactReport();
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            int k = i % json.size();
            RecordedDecision r = read(recorded.get(k), json.get(k), i);
            report.add(r, replay.replay(r));
        }
        double s = (System.nanoTime() - t0) / 1e9;
        print(String.format("%,d decisions (the recorded ones over and over), %.1f s", n, s), report, n);
        if (report.flipped() != 0) {
            System.out.print(report.render());
            throw new IllegalStateException("the shipped policy flipped its own decisions");
        }
    }

    private static RecordedDecision read(RecordedDecision r, String json, int i) {
        return RecordedDecision.fromJson(json, "req-" + i, r.time(), r.subscription());
    }

    private static void print(String what, ImpactReport report, long total) {
        System.out.printf(
                "%s: flipped %d, unchanged %d, not replayable %d; replayable %.2f %%%n",
                what,
                report.flipped(),
                report.unchanged(),
                report.notReplayableTotal(),
                100.0 * (report.unchanged() + report.flipped()) / total);
        for (Map.Entry<String, Long> e : new java.util.TreeMap<>(report.notReplayableByReason()).entrySet()) {
            System.out.printf("  %d  %s%n", e.getValue(), e.getKey());
        }
    }
}
