package io.meshguard.cli.xds;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.meshguard.xds.approval.ReplayReport;
import io.meshguard.xds.model.ConfigJson;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class PolicyRequestsCommandTest {
    @Test
    void show_printsTheRequestItsReportSentencesAndTheDiff() {
        Instant t = Instant.parse("2026-11-26T02:00:00Z");
        ReplayReport report = new ReplayReport(
                t.minusSeconds(30 * 86400),
                t,
                t,
                3,
                312,
                0,
                List.of(new ReplayReport.FlipGroup(
                        "allow 200",
                        "deny 403",
                        "acme",
                        "payments-write",
                        "svc",
                        "deny:writes-freeze",
                        312,
                        List.of("pay-1", "pay-2"))),
                Map.of());
        ObjectNode q = ConfigJson.mapper().createObjectNode();
        q.put("id", 7)
                .put("policy", "authz")
                .put("state", "pending")
                .put("requested_by", "sally")
                .put("requested_at", t.toString())
                .put("reason", "freeze writes")
                .put("digest", "ab".repeat(32))
                .put("diff", "--- a/authz.yaml\n+++ b/authz.yaml\n@@ -1,1 +1,2 @@\n x\n+deny: []\n")
                .put("report_current", true);
        q.set("report", report.toJson());

        String text = PolicyRequestsCommand.render(q);

        assertThat(text)
                .contains("policy request 7 (authz): pending")
                .contains("requested by sally")
                .contains("decisions: 315  unchanged: 3  flipped: 312  not replayable: 0")
                .contains("312 decisions of tenant acme on route payments-write by svc would go allow 200 -> deny 403"
                        + " (deny:writes-freeze); e.g. pay-1, pay-2")
                .endsWith("+deny: []\n");
    }

    @Test
    void show_withoutReport_saysHowToComputeIt() {
        ObjectNode q = ConfigJson.mapper().createObjectNode().put("id", 8).put("diff", "");
        assertThat(PolicyRequestsCommand.render(q))
                .contains("no replay report yet: `meshguard policy requests report 8`");
    }

    @Test
    void policyRequests_isASubcommandOfPolicy_withItsVerbs() {
        CommandLine policy = new CommandLine(new io.meshguard.cli.policy.PolicyCommand());
        assertThat(policy.getSubcommands().get("requests").getSubcommands().keySet())
                .containsExactlyInAnyOrder("open", "list", "show", "approve", "reject", "report");
    }
}
