package io.meshguard.dlp.replay;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.dlp.policy.Direction;
import io.meshguard.dlp.policy.DlpPolicy;
import io.meshguard.dlp.policy.DlpPolicyParser;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Recorded findings (profile, direction, detector, confidence, action) decided again against drafts of a policy: the
 * policy in force changes nothing; a changed action, a detector turned off, a direction no longer scanned and a
 * stricter confidence threshold are reported with the before and after; what reads facts a finding row does not keep
 * (allowed values, context words, a profile that is gone) is not replayable, with the reason.
 */
class FindingReplayTest {
    private static final String POLICY = """
            version: 1
            tenant_header: x-tenant-id
            detectors:
              card:
                allow: ["4111111111111111"]
              employee_id:
                pattern: '\\bEMP-[0-9]{6}\\b'
                confidence: 0.7
            profiles:
              - name: default
                request:
                  detectors:
                    private_key: block
                    card: alert
                response:
                  detectors:
                    card: mask
                    email: alert
                    employee_id: mask
              - name: cards
                request:
                  detectors:
                    card: alert
            """;

    private static final List<FindingReplay.RecordedFinding> RECORDED = List.of(
            new FindingReplay.RecordedFinding("r1", "default", Direction.RESPONSE, "card", 0.95, "mask"),
            new FindingReplay.RecordedFinding("r2", "default", Direction.RESPONSE, "card", 0.95, "mask"),
            new FindingReplay.RecordedFinding("r3", "default", Direction.RESPONSE, "email", 0.9, "alert"),
            new FindingReplay.RecordedFinding("r4", "default", Direction.RESPONSE, "employee_id", 0.7, "mask"),
            new FindingReplay.RecordedFinding("r5", "default", Direction.REQUEST, "private_key", 0.99, "block"),
            new FindingReplay.RecordedFinding("r6", "cards", Direction.REQUEST, "card", 0.95, "alert"));

    private static DlpPolicy parse(String yaml) throws Exception {
        return DlpPolicyParser.parse("dlp.yaml", yaml);
    }

    private static FindingImpactReport replay(String draft) throws Exception {
        FindingReplay replay = new FindingReplay(parse(POLICY), parse(draft));
        FindingImpactReport report = new FindingImpactReport();
        RECORDED.forEach(f -> report.add(f, replay.replay(f)));
        return report;
    }

    private static String edit(String from, String to) {
        assertThat(POLICY).contains(from);
        return POLICY.replace(from, to);
    }

    @Test
    void replay_policyInForce_changesNoFinding() throws Exception {
        FindingImpactReport report = replay(POLICY);

        assertThat(report.unchanged()).isEqualTo(RECORDED.size());
        assertThat(report.changed()).isZero();
        assertThat(report.notReplayableByReason()).isEmpty();
    }

    @Test
    void replay_draftBlockingCardsAndDroppingEmail_reportsBothChanges_groupedWithSamples() throws Exception {
        String draft = edit("        card: mask\n        email: alert\n", "        card: block\n");

        FindingImpactReport report = replay(draft);

        assertThat(report.changed()).isEqualTo(3);
        assertThat(report.groups().get(0).getKey())
                .isEqualTo(new FindingImpactReport.Group(
                        "default", "response", "card", "mask", "block", "card: block in the draft"));
        assertThat(report.groups().get(0).getValue()).isEqualTo(2);
        assertThat(report.samples(report.groups().get(0).getKey())).containsExactly("r1", "r2");
        assertThat(report.render())
                .contains("2 findings of card in profile default (response): mask -> block")
                .contains(
                        "1 findings of email in profile default (response): alert -> none (email is off in the draft)");
        assertThat(report.unchanged()).isEqualTo(3);
    }

    @Test
    void replay_draftRaisingAThresholdOrNotScanningADirection_dropsTheFindings() throws Exception {
        String stricter = edit("    confidence: 0.7\n", "    confidence: 0.7\n    min_confidence: 0.9\n");
        assertThat(replay(stricter).render()).contains("employee_id in profile default (response): mask -> none");

        String noRequests = edit(
                "  - name: cards\n    request:\n      detectors:\n        card: alert\n",
                "  - name: cards\n    response:\n      detectors:\n        card: mask\n");
        FindingImpactReport report = replay(noRequests);
        assertThat(report.render())
                .contains("card in profile cards (request): alert -> none (profile cards no longer scans requests)");
    }

    @Test
    void replay_draftChangingWhatReadsTheValue_orDroppingTheProfile_isNotReplayable_withTheReason() throws Exception {
        FindingImpactReport allow = replay(edit("allow: [\"4111111111111111\"]", "allow: [\"4012888888881881\"]"));
        assertThat(allow.notReplayableByReason())
                .containsOnlyKeys("the draft changes card's allowed values or domains, which are held against the"
                        + " value (not recorded)");
        assertThat(allow.notReplayableByReason().values().iterator().next()).isEqualTo(3);

        FindingImpactReport gone =
                replay(edit("  - name: cards\n    request:\n      detectors:\n        card: alert\n", ""));
        assertThat(gone.notReplayableByReason().keySet())
                .singleElement()
                .asString()
                .startsWith("profile cards is not in the draft");
    }
}
