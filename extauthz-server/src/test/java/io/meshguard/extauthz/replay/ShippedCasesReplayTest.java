package io.meshguard.extauthz.replay;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.authz.policy.AuthzPolicy;
import io.meshguard.authz.policy.AuthzPolicyParser;
import io.meshguard.authz.replay.DecisionReplay;
import io.meshguard.authz.replay.ImpactReport;
import io.meshguard.authz.replay.RecordedDecision;
import io.meshguard.extauthz.tools.AuthzTestRunner;
import io.meshguard.extauthz.tools.TestResult;
import io.meshguard.testing.FixturePolicies;
import io.meshguard.testing.SlowTest;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Determinism on the policy set as it shipped (the fixture copy) and its own test cases: every decision the cases make
 * through the server's pipeline (JWTs of two issuers, API keys live, revoked and expired, mesh workloads, the gateway
 * hop, calendar quotas, rate limits, upstream credentials, time-pinned conditions) is recorded as its audit row keeps
 * it, read back from JSON and replayed against the same policy: nothing flips, and what cannot be replayed says why.
 */
@SlowTest
class ShippedCasesReplayTest {
    private static final Path POLICIES = FixturePolicies.directory();

    @Test
    void replay_shippedPolicyAgainstItsOwnTestCases_flipsNothing_andNamesWhyTheRestIsNotReplayable() throws Exception {
        List<RecordedDecision> recorded = new ArrayList<>();
        List<TestResult> results = new AuthzTestRunner(Clock.systemUTC(), recorded::add).run(POLICIES);
        assertThat(results).allMatch(TestResult::passed);
        AuthzPolicy policy = new AuthzPolicyParser().parse(POLICIES.resolve("authz.yaml"));
        Set<String> reasons = new TreeSet<>();
        Set<String> methods = new TreeSet<>();
        recorded.forEach(r -> {
            reasons.add(r.reason());
            r.identity().ifPresent(i -> methods.add(i.authMethod()));
        });
        // the cases reach the kinds DecisionReplayTest's own policy does not: API keys and calendar quotas
        assertThat(methods).contains("jwt", "apikey");
        assertThat(reasons).contains("allowed", "public_route", "quota_exceeded", "api_key_revoked", "rate_limited");

        DecisionReplay replay = new DecisionReplay(policy);
        ImpactReport report = new ImpactReport();
        for (RecordedDecision r : recorded) {
            RecordedDecision read = RecordedDecision.fromJson(r.toJson(), r.requestId(), r.time(), r.subscription());
            report.add(read, replay.replay(read));
        }

        assertThat(report.flipped()).as(report.render()).isZero();
        assertThat(report.unchanged() + report.notReplayableTotal()).isEqualTo(recorded.size());
        assertThat(report.unchanged()).as(report.render()).isGreaterThanOrEqualTo(recorded.size() * 9L / 10);
        assertThat(report.notReplayableByReason().keySet())
                .allMatch(reason -> !reason.isBlank() && !reason.contains("?"));
    }
}
