package io.meshguard.cli.policy;

import io.meshguard.authz.policy.AuthzPolicyParser;
import io.meshguard.authz.policy.PolicyError;
import io.meshguard.authz.policy.PolicyInvalidException;
import io.meshguard.authz.policy.PolicyWarnings;
import io.meshguard.extauthz.tools.AuthzTestRunner;
import io.meshguard.extauthz.tools.TestResult;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

/** {@code authz.yaml} and its test cases {@code tests/authz*.yaml}. */
final class AuthzPolicyKind implements PolicyKind {
    @Override
    public String name() {
        return "authz";
    }

    @Override
    public Path file(Path policyDir) {
        return policyDir.resolve("authz.yaml");
    }

    @Override
    public List<String> check(Path policyDir) {
        try {
            new AuthzPolicyParser().parse(file(policyDir));
            return List.of();
        } catch (PolicyInvalidException e) {
            return e.errors().stream().map(PolicyError::toString).toList();
        }
    }

    @Override
    public List<String> warnings(Path policyDir) {
        try {
            return PolicyWarnings.of(new AuthzPolicyParser().parse(file(policyDir))).stream()
                    .map(PolicyError::toString)
                    .toList();
        } catch (PolicyInvalidException e) {
            return List.of(); // the errors are what check reports
        }
    }

    @Override
    public List<PolicyTestResult> test(Path policyDir) {
        List<PolicyTestResult> out = new ArrayList<>();
        try {
            for (TestResult r : new AuthzTestRunner(Clock.systemUTC()).run(policyDir)) {
                out.add(new PolicyTestResult(name(), r.file(), r.name(), r.passed(), r.message()));
            }
        } catch (PolicyInvalidException e) {
            for (PolicyError err : e.errors()) {
                out.add(new PolicyTestResult(name(), "authz.yaml", "policy is valid", false, err.toString()));
            }
        } catch (IOException e) {
            out.add(new PolicyTestResult(name(), "tests/", "test files readable", false, e.getMessage()));
        }
        return out;
    }
}
