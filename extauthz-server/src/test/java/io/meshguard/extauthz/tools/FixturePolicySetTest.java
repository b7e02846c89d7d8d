package io.meshguard.extauthz.tools;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.authz.policy.AuthzPolicy;
import io.meshguard.authz.policy.AuthzPolicyParser;
import io.meshguard.testing.SlowTest;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The authz parser and case runner on the fixture set (a realistic policy with its cases). */
@SlowTest
class FixturePolicySetTest {
    /** The fixture set (test-support), not the working tree's policies/: `meshguard policy test policies/` checks those. */
    static final Path POLICIES = io.meshguard.testing.FixturePolicies.directory();

    @Test
    void fixturePolicy_parses() throws Exception {
        AuthzPolicy policy = new AuthzPolicyParser().parse(POLICIES.resolve("authz.yaml"));
        assertThat(policy.routes())
                .extracting(r -> r.name())
                .contains("health", "login", "accounts-read", "backoffice-admin");
        assertThat(policy.issuers()).hasSize(2);
    }

    @Test
    void fixtureTestCases_allPass_andThereAreAtLeastTwenty() throws Exception {
        List<TestResult> results = new AuthzTestRunner(Clock.systemUTC()).run(POLICIES);
        assertThat(results.stream().filter(r -> !r.passed()).map(r -> r.name() + ": " + r.message()))
                .isEmpty();
        assertThat(results).hasSizeGreaterThanOrEqualTo(20);
    }
}
