package io.meshguard.cli.policy;

import io.meshguard.dlp.policy.PolicyError;
import io.meshguard.dlp.policy.PolicyInvalidException;
import io.meshguard.dlpserver.check.DlpPolicyChecks;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** dlp.yaml for {@code meshguard policy check|test}: validation with file:line, and {@code tests/dlp-*.yaml}. */
public final class DlpPolicyKind implements PolicyKind {
    @Override
    public String name() {
        return "dlp";
    }

    @Override
    public Path file(Path policyDir) {
        return policyDir.resolve("dlp.yaml");
    }

    @Override
    public List<String> check(Path policyDir) {
        return DlpPolicyChecks.check(file(policyDir)).stream()
                .map(PolicyError::toString)
                .toList();
    }

    @Override
    public List<PolicyTestResult> test(Path policyDir) {
        List<PolicyTestResult> out = new ArrayList<>();
        try {
            for (Path f : DlpPolicyChecks.testFiles(policyDir.resolve("tests"))) {
                try {
                    for (DlpPolicyChecks.CaseResult r : DlpPolicyChecks.run(f)) {
                        out.add(new PolicyTestResult(
                                name(), r.file() + ":" + r.line(), r.name(), r.passed(), r.message()));
                    }
                } catch (PolicyInvalidException e) {
                    for (PolicyError err : e.errors()) {
                        out.add(new PolicyTestResult(
                                name(), f.toString(), "test file and policy are valid", false, err.toString()));
                    }
                }
            }
        } catch (IOException e) {
            out.add(new PolicyTestResult(name(), "tests/", "test files readable", false, e.getMessage()));
        }
        return out;
    }
}
