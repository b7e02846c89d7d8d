package io.meshguard.dlpserver.check;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshguard.dlp.policy.PolicyInvalidException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The DLP policy checks and case runner on the fixture set: its dlp.yaml is valid and every DLP case passes. */
class FixturePolicySetTest {
    /** The fixture set (test-support), not the working tree's policies/: `meshguard policy test policies/` checks those. */
    private static final Path POLICIES = io.meshguard.testing.FixturePolicies.directory();

    @Test
    void fixturePolicy_isValid() {
        assertThat(DlpPolicyChecks.check(POLICIES.resolve("dlp.yaml"))).isEmpty();
    }

    @Test
    void everyFixtureTestCase_passes() throws Exception {
        List<Path> files = DlpPolicyChecks.testFiles(POLICIES.resolve("tests"));
        assertThat(files).isNotEmpty();
        for (Path f : files) {
            List<DlpPolicyChecks.CaseResult> results = DlpPolicyChecks.run(f);
            assertThat(results).isNotEmpty();
            assertThat(results)
                    .allSatisfy(r -> assertThat(r.passed()).as(r.toString()).isTrue());
        }
    }

    @Test
    void failingCase_isReportedWithItsLine(@TempDir Path dir) throws Exception {
        Files.copy(POLICIES.resolve("dlp.yaml"), dir.resolve("dlp.yaml"));
        Path t = dir.resolve("dlp-bad.yaml");
        Files.writeString(t, """
                policy: dlp.yaml
                cases:
                  - name: wrong expectation
                    route: /x
                    input: "card 5105 1051 0510 5100"
                    expect:
                      output: "card 5105 1051 0510 5100"
                """);
        DlpPolicyChecks.CaseResult r = DlpPolicyChecks.run(t).get(0);
        assertThat(r.passed()).isFalse();
        assertThat(r.line()).isEqualTo(3);
        assertThat(r.message()).contains("**** **** **** 5100");
    }

    @Test
    void malformedTestFile_failsWithFileAndLine(@TempDir Path dir) throws Exception {
        Files.copy(POLICIES.resolve("dlp.yaml"), dir.resolve("dlp.yaml"));
        Path t = dir.resolve("dlp-bad.yaml");
        Files.writeString(t, "policy: dlp.yaml\ncases:\n  - name: x\n    input: y\n    expect: {}\n    colour: red\n");
        assertThatThrownBy(() -> DlpPolicyChecks.run(t))
                .isInstanceOf(PolicyInvalidException.class)
                .hasMessageContaining(t + ":6: unknown key 'colour'");
    }

    @Test
    void caseNamingAProfileThePolicyLacks_failsWithFileAndLine(@TempDir Path dir) throws Exception {
        Files.copy(POLICIES.resolve("dlp.yaml"), dir.resolve("dlp.yaml"));
        Path t = dir.resolve("dlp-bad.yaml");
        Files.writeString(t, "policy: dlp.yaml\ncases:\n  - name: x\n    profile: pci\n    input: y\n    expect: {}\n");
        assertThatThrownBy(() -> DlpPolicyChecks.run(t))
                .isInstanceOf(PolicyInvalidException.class)
                .hasMessageContaining(t + ":4: profile 'pci' is not in the policy");
    }

    @Test
    void blockedCase_inChunks_secretInALaterChunk_passes_andNothingOfItWasSent(@TempDir Path dir) throws Exception {
        // the chunks before the key were already released when the block came: only the decision and findings compare
        Files.copy(POLICIES.resolve("dlp.yaml"), dir.resolve("dlp.yaml"));
        Path t = dir.resolve("dlp-late.yaml");
        Files.writeString(t, """
                policy: dlp.yaml
                cases:
                  - name: key after a long preamble
                    route: /debug/keys
                    chunk_size: 16
                    input: "Here is the material you asked for, as discussed.\\n-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\\n-----END PRIVATE KEY-----\\n"
                    expect:
                      blocked: true
                      findings: [private_key]
                      not_contains: ["MIIEvQIBADAN"]
                """);
        List<DlpPolicyChecks.CaseResult> results = DlpPolicyChecks.run(t);
        assertThat(results)
                .singleElement()
                .satisfies(r -> assertThat(r.passed()).as(r.toString()).isTrue());
    }

    @Test
    void chunkedRun_differentFindingsOrDecision_orPassedOutput_isStillAFailure() {
        var whole = new DlpPolicyChecks.Outcome("", List.of("private_key", "card"), true);
        assertThat(DlpPolicyChecks.chunkedDiffers(
                        whole, new DlpPolicyChecks.Outcome("Here is", List.of("private_key", "card"), true), 7))
                .isEmpty();
        assertThat(DlpPolicyChecks.chunkedDiffers(
                        whole, new DlpPolicyChecks.Outcome("", List.of("private_key"), true), 7))
                .hasValueSatisfying(m -> assertThat(m).contains("findings were [private_key] when fed in chunks"));
        assertThat(DlpPolicyChecks.chunkedDiffers(
                        whole, new DlpPolicyChecks.Outcome("x", List.of("private_key", "card"), false), 7))
                .hasValueSatisfying(m -> assertThat(m).contains("passed when fed in chunks"));
        var passed = new DlpPolicyChecks.Outcome("card ****", List.of("card"), false);
        assertThat(DlpPolicyChecks.chunkedDiffers(
                        passed, new DlpPolicyChecks.Outcome("card 4532", List.of("card"), false), 3))
                .hasValueSatisfying(m -> assertThat(m).contains("output differs"));
    }
}
