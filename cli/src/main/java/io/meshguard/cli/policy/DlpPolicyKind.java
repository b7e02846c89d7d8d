package io.meshguard.cli.policy;

import io.meshguard.dlp.policy.DlpPolicyParser;
import io.meshguard.dlp.policy.IdentityHeaderNames;
import io.meshguard.dlp.policy.PolicyError;
import io.meshguard.dlp.policy.PolicyInvalidException;
import io.meshguard.dlpserver.check.DlpPolicyChecks;
import java.io.IOException;
import java.nio.file.Files;
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

    /**
     * dlp.yaml's {@code identity_headers} against authz.yaml's {@code settings.identity_headers}: the DLP server binds
     * a held tool call to the caller extauthz names, so a header renamed in one file and not the other leaves held calls
     * refused as anonymous, or bound to a header extauthz does not set.
     */
    @Override
    public List<String> warnings(Path policyDir) {
        Path authz = policyDir.resolve("authz.yaml");
        if (!Files.isRegularFile(authz) || !Files.isRegularFile(file(policyDir))) {
            return List.of();
        }
        IdentityHeaderNames dlp;
        io.meshguard.authz.policy.IdentityHeaders extauthz;
        try {
            dlp = DlpPolicyParser.parse(file(policyDir)).identityHeaders();
            extauthz = new io.meshguard.authz.policy.AuthzPolicyParser()
                    .parse(authz)
                    .identityHeaders();
        } catch (PolicyInvalidException | io.meshguard.authz.policy.PolicyInvalidException | IOException e) {
            return List.of(); // the errors are what check reports
        }
        List<String> out = new ArrayList<>();
        differs(policyDir, "subject", dlp.subject(), extauthz.subject(), out);
        differs(policyDir, "issuer", dlp.issuer(), extauthz.issuer(), out);
        differs(policyDir, "client_id", dlp.clientId(), extauthz.clientId(), out);
        return out;
    }

    private void differs(Path policyDir, String key, String dlp, String extauthz, List<String> out) {
        if (!dlp.equals(extauthz)) {
            out.add(file(policyDir) + ":1: identity_headers." + key + " is " + dlp + ", but authz.yaml's"
                    + " settings.identity_headers." + key + " is " + extauthz
                    + ": tool calls held for approval (mcp_approval) would not see the caller extauthz vouches for");
        }
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
