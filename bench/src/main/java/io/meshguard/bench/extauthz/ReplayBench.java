package io.meshguard.bench.extauthz;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jwt.JWTClaimsSet;
import io.meshguard.authz.policy.AuthzPolicy;
import io.meshguard.authz.replay.DecisionReplay;
import io.meshguard.authz.replay.ImpactReport;
import io.meshguard.authz.replay.RecordedDecision;
import io.meshguard.authz.request.HttpRequestView;
import io.meshguard.extauthz.audit.DecisionEvents;
import io.meshguard.extauthz.server.AuthzPipeline;
import io.meshguard.extauthz.tools.CheckRequests;
import io.meshguard.extauthz.tools.TestKeys;
import java.io.PrintStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code meshguard policy impact}'s replay, without the database: N recorded decisions (the replay facts of audit rows
 * the server's own pipeline wrote, as JSON text) read and decided again against the policy in force, against the
 * baseline of only reading them ({@link RecordedDecision#fromJson}) in the same run. Prints seconds and decisions per
 * second for both, the ratio, the flips (must be 0: the policy replays its own decisions) and the bytes the replay facts
 * add per audit row.
 *
 * <p>Arguments: decisions (default 100000), rounds (3).
 */
public final class ReplayBench {
    private static final PrintStream OUT = System.out;
    private static final String ISSUER = "https://bench-idp.example";

    private ReplayBench() {}

    public static String policy() {
        return """
                issuers:
                  - name: bench-idp
                    issuer: %s
                    jwks_uri: https://unused.example/jwks
                    audiences: [meshguard]
                    claims: {subject: sub, tenant: tenant, roles: realm_access.roles, scopes: scope}
                header_contract:
                  tenant_header: x-tenant-id
                  required: [x-tenant-id]
                deny:
                  - name: no-debug
                    when: '"x-debug" in request.headers && request.headers["x-debug"] == "1"'
                routes:
                  - name: public
                    match: {path_prefix: /public}
                    auth: none
                    header_contract: exempt
                    when: request.headers["x-channel"] == "web"
                  - name: orders
                    match: {path_prefix: /orders}
                    auth: jwt
                    roles: [user]
                  - name: payments
                    match: {path_prefix: /payments}
                    auth: jwt
                    roles: [user]
                    scopes: [pay]
                    when: '"amr" in claims && "mfa" in claims.amr && request.method == "GET"'
                  - name: admin
                    match: {path_prefix: /admin}
                    auth: jwt
                    roles: {all_of: [admin]}
                """.formatted(ISSUER);
    }

    public static String token(TestKeys keys, String sub, String tenant, List<String> roles, List<String> amr) {
        Instant now = Instant.now();
        return "Bearer "
                + keys.sign(new JWTClaimsSet.Builder()
                        .issuer(ISSUER)
                        .subject(sub)
                        .audience("meshguard")
                        .issueTime(Date.from(now))
                        .expirationTime(Date.from(now.plusSeconds(3600)))
                        .claim("tenant", tenant)
                        .claim("realm_access", Map.of("roles", roles))
                        .claim("scope", "read pay")
                        .claim("amr", amr)
                        .build());
    }

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        TestKeys rs = TestKeys.generate("bench-rs", JWSAlgorithm.RS256);
        AuthzPipeline pipeline = DecisionCost.pipeline(policy(), TestKeys.publicSet(List.of(rs)));
        AuthzPolicy inForce = pipeline.policy().orElseThrow();
        // a mix of callers, routes and outcomes, recorded by the server's pipeline and audit mapping
        List<Map<String, List<String>>> shapes = new ArrayList<>();
        List<String> paths = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            String tenant = "tenant-" + (i % 5);
            List<String> roles =
                    i % 7 == 0 ? List.of("guest") : i % 11 == 0 ? List.of("admin", "user") : List.of("user");
            String t = token(rs, "user-" + i, tenant, roles, i % 3 == 0 ? List.of("pwd") : List.of("pwd", "mfa"));
            String[] routes = {"/orders/" + i, "/payments/" + i, "/admin/" + i, "/public/" + i, "/nowhere"};
            for (String path : routes) {
                Map<String, List<String>> h = new LinkedHashMap<>();
                h.put("authorization", List.of(t));
                h.put("x-tenant-id", List.of(i % 13 == 0 ? "other" : tenant));
                h.put("x-channel", List.of(i % 2 == 0 ? "web" : "app"));
                h.put("user-agent", List.of("bench/1.0"));
                if (i % 17 == 0) {
                    h.put("x-debug", List.of("1"));
                }
                shapes.add(h);
                paths.add(path);
            }
        }
        List<String> json = new ArrayList<>(shapes.size());
        long bytes = 0;
        Instant now = Instant.now();
        for (int i = 0; i < shapes.size(); i++) {
            HttpRequestView view = HttpRequestView.of(CheckRequests.of(
                    "GET", "api.bench.example", paths.get(i), shapes.get(i), Map.of(), CheckRequests.Encoding.HEADERS));
            AuthzPipeline.Recorded r = pipeline.decideRecorded(view);
            String facts = DecisionEvents.of(view, r.decision(), now, 1, r.kept())
                    .replayJson()
                    .orElseThrow();
            json.add(facts);
            bytes += facts.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
        }
        OUT.printf(
                "JDK %s, %d decisions per round, %d distinct recorded shapes, replay facts %.0f bytes per row (mean)%n",
                Runtime.version(), n, json.size(), (double) bytes / json.size());
        double baselineBest = Double.MAX_VALUE;
        double replayBest = Double.MAX_VALUE;
        List<Double> ratios = new ArrayList<>();
        for (int round = 0; round < rounds; round++) {
            long t0 = System.nanoTime();
            long sink = 0;
            for (int i = 0; i < n; i++) {
                RecordedDecision d =
                        RecordedDecision.fromJson(json.get(i % json.size()), "req-" + i, now, Optional.empty());
                sink += d.status();
            }
            double baseline = (System.nanoTime() - t0) / 1e9;
            DecisionReplay replay = new DecisionReplay(inForce);
            ImpactReport report = new ImpactReport();
            t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                RecordedDecision d =
                        RecordedDecision.fromJson(json.get(i % json.size()), "req-" + i, now, Optional.empty());
                report.add(d, replay.replay(d));
            }
            double replayed = (System.nanoTime() - t0) / 1e9;
            baselineBest = Math.min(baselineBest, baseline);
            replayBest = Math.min(replayBest, replayed);
            ratios.add(replayed / baseline);
            OUT.printf(
                    "round %d: read only %.2f s (%.0f/s), read and replay %.2f s (%.0f/s), %.2fx; flipped %d, "
                            + "unchanged %d, not replayable %d (check %d)%n",
                    round + 1,
                    baseline,
                    n / baseline,
                    replayed,
                    n / replayed,
                    replayed / baseline,
                    report.flipped(),
                    report.unchanged(),
                    report.notReplayableTotal(),
                    sink % 7);
            if (report.flipped() != 0) {
                OUT.print(report.render());
                throw new IllegalStateException("the policy in force flipped its own decisions");
            }
        }
        ratios.sort(Double::compare);
        OUT.printf(
                "| replay %,d decisions | %.2f s (read only: %.2f s), median %.2fx the read-only baseline | flips 0 |%n",
                n, replayBest, baselineBest, ratios.get(ratios.size() / 2));
        pipeline.close();
    }
}
