package io.meshguard.xds.approval;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.runtime.policy.PolicySource;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class PolicyDiffTest {
    static PolicyBundle bundle(String... nameAndText) {
        List<PolicySource> files = new java.util.ArrayList<>();
        for (int i = 0; i < nameAndText.length; i += 2) {
            files.add(new PolicySource(nameAndText[i], nameAndText[i + 1]));
        }
        return new PolicyBundle(files);
    }

    @Test
    void unified_oneChangedLine_showsItAsMinusPlusWithThreeLinesOfContext() {
        String before = "a\nb\nc\nd\ne\nf\ng\nh\ni\n";
        String after = "a\nb\nc\nd\nE\nf\ng\nh\ni\n";
        String diff = PolicyDiff.unified(Optional.of(bundle("authz.yaml", before)), bundle("authz.yaml", after));
        assertThat(diff)
                .isEqualTo("--- a/authz.yaml\n+++ b/authz.yaml\n@@ -2,7 +2,7 @@\n b\n c\n d\n-e\n+E\n f\n g\n h\n");
    }

    @Test
    void unified_noBase_everyFileIsNew() {
        String diff = PolicyDiff.unified(Optional.empty(), bundle("authz.yaml", "x: 1\n"));
        assertThat(diff).startsWith("--- /dev/null\n+++ b/authz.yaml\n").contains("+x: 1\n");
    }

    @Test
    void unified_sameFiles_isEmpty_andAFileRemovedIsShownAgainstDevNull() {
        PolicyBundle two = bundle("a.yaml", "x\n", "b.yaml", "y\n");
        assertThat(PolicyDiff.unified(Optional.of(two), two)).isEmpty();
        assertThat(PolicyDiff.unified(Optional.of(two), bundle("a.yaml", "x\n")))
                .startsWith("--- a/b.yaml\n+++ /dev/null\n")
                .contains("-y\n");
    }

    @Test
    void digest_isExtauthzsDigestOfTheSameFiles_andNamesCount() {
        assertThat(bundle("authz.yaml", "x\n").digest())
                .isEqualTo(io.meshguard.runtime.policy.PolicyReload.digestOf(
                        List.of(new PolicySource("authz.yaml", "x\n"))))
                .isNotEqualTo(bundle("other.yaml", "x\n").digest());
    }

    @Test
    void bundle_fromJson_refusesPathsOutsideTheDirectory() {
        var json = io.meshguard.xds.model.ConfigJson.mapper().createArrayNode();
        json.addObject().put("file", "../etc/passwd").put("text", "x");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> PolicyBundle.fromJson(json))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("relative and plain");
    }

    @Test
    void reportCurrent_onlyForAReportComputedSinceTheRequest() {
        Instant asked = Instant.parse("2026-11-26T02:00:00Z");
        ReplayReport before = new ReplayReport(
                asked.minusSeconds(60),
                asked.minusSeconds(2),
                asked.minusSeconds(1),
                1,
                0,
                0,
                List.of(),
                java.util.Map.of());
        ReplayReport after = new ReplayReport(
                asked.minusSeconds(60), asked, asked.plusSeconds(1), 1, 0, 0, List.of(), java.util.Map.of());
        assertThat(request(asked, Optional.of(before)).reportCurrent()).isFalse();
        assertThat(request(asked, Optional.of(after)).reportCurrent()).isTrue();
        assertThat(request(asked, Optional.empty()).reportCurrent()).isFalse();
    }

    @Test
    void replayReport_roundTripsThroughItsStoredJson_andRendersEachGroupAsASentence() {
        Instant t = Instant.parse("2026-11-26T02:00:00Z");
        ReplayReport r = new ReplayReport(
                t.minusSeconds(3600),
                t,
                t,
                3,
                312,
                1,
                List.of(new ReplayReport.FlipGroup(
                        "allow 200", "deny 403", "acme", "payments-write", "svc", "deny:x", 312, List.of("r1", "r2"))),
                java.util.Map.of("claim not recorded: amr", 1L));
        ReplayReport back = ReplayReport.fromJson(r.toJson());
        assertThat(back).isEqualTo(r);
        assertThat(back.render())
                .contains("decisions: 316  unchanged: 3  flipped: 312  not replayable: 1")
                .contains("312 decisions of tenant acme on route payments-write by svc would go allow 200 -> deny 403"
                        + " (deny:x); e.g. r1, r2")
                .contains("1  claim not recorded: amr");
    }

    private static PolicyRequest request(Instant at, Optional<ReplayReport> report) {
        return new PolicyRequest(
                1,
                "authz",
                PolicyRequest.State.PENDING,
                "sally",
                "sally-id",
                at,
                "why",
                "d",
                Optional.empty(),
                "",
                report,
                Optional.empty(),
                Optional.empty(),
                Optional.empty());
    }
}
