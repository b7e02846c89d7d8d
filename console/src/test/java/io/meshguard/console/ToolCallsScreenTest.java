package io.meshguard.console;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.access.AdminEvent;
import io.meshguard.access.AdminGate;
import io.meshguard.access.AdminTokenVerifier;
import io.meshguard.access.RoleBindings;
import io.meshguard.runtime.http.HttpServerSettings;
import io.meshguard.runtime.http.StatusHttpServer;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.testing.TestIssuer;
import io.meshguard.xds.LoopbackSettings;
import io.meshguard.xds.XdsController;
import io.meshguard.xds.change.ConfigChangeAudit;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The Held tool calls screen, server-rendered over the controller's {@code ToolCallApprovals}: a call the DLP server
 * held (its row as the DLP server writes it) shows its binding, masked arguments, expiry and votes; a reader sees it
 * without the forms and is refused a decision by the server; the delegating user and the agent's owner are refused
 * their approvals; one person's second approval counts once; another person's makes the call approved.
 */
@IntegrationTest
class ToolCallsScreenTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    static final String BINDINGS = """
            claims: [groups]
            roles:
              approver: {permissions: [tool-call:read, tool-call:approve]}
              reader: {permissions: [tool-call:read]}
              operator: {permissions: [revision:read]}
            bindings:
              - {match: approvers, role: approver, scope: system}
              - {match: auditors, role: reader, scope: system}
              - {match: operators, role: operator, scope: system}
            """;

    /** ursula delegated the call to agent-7, olga owns agent-7; both hold the approver role and still may not. */
    static final Map<String, List<String>> GROUPS = Map.of(
            "alice", List.of("approvers"),
            "bob", List.of("approvers"),
            "ursula", List.of("approvers"),
            "olga", List.of("approvers"),
            "audrey", List.of("auditors"),
            "otto", List.of("operators"));

    @Test
    void heldCall_showsItsBindingAndMaskedArguments_refusesReadersCallerAndOwner_twoOthersApproveIt() throws Exception {
        List<AdminEvent> events = new CopyOnWriteArrayList<>();
        List<ConfigChangeAudit.ConfigChange> trail = new CopyOnWriteArrayList<>();
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try (TestIssuer issuer = new TestIssuer();
                XdsController xds = XdsController.create(LoopbackSettings.of(), PG.dataSource(), registry, trail::add);
                StatusHttpServer http = new StatusHttpServer("tool-calls", HttpServerSettings.onPort(0), registry)) {
            AdminGate gate = AdminGate.people(
                    new AdminTokenVerifier(new AdminTokenVerifier.Settings(
                            issuer.issuer(), "meshguard-admin", Duration.ofSeconds(30))),
                    RoleBindings.parse("bindings", BINDINGS),
                    events::add,
                    "xds.admin.token_file");
            xds.mountAdminApi(http, gate);
            TokenSignedBrowser.serveConsole(xds, http, gate, Optional.empty());
            long id = HeldToolCalls.transferFunds(PG.dsl(), "ref-1", issuer.issuer());
            String screen = "/console/tool-approvals";
            String approve = screen + "/" + id + "/approve";

            TokenSignedBrowser otto = browser(http, issuer, "otto");
            assertThat(otto.get("/console/revisions").body()).doesNotContain("href=\"" + screen + "\"");
            assertThat(otto.open(screen).statusCode()).isEqualTo(403);

            TokenSignedBrowser audrey = browser(http, issuer, "audrey");
            String read = audrey.get(screen).body();
            String row = read.substring(read.indexOf("id=\"tool-call-" + id + "\""));
            assertThat(row)
                    .contains("<code>transfer_funds</code>")
                    .contains("payments-mcp")
                    .contains("data-caller>ursula<")
                    .contains("agent-7")
                    .contains("owned by olga")
                    .contains("****1234")
                    .contains("data-votes>0 of 2");
            assertThat(read).doesNotContain("id=\"decide-" + id + "\"");
            assertThat(audrey.post(approve, read, screen, "looks fine").statusCode())
                    .as("the reader has no tool-call:approve: the server refuses, not only the page")
                    .isEqualTo(403);

            TokenSignedBrowser ursula = browser(http, issuer, "ursula");
            String page = ursula.get(screen).body();
            assertThat(page).contains("id=\"decide-" + id + "\"");
            assertThat(ursula.decide(approve, page, screen, "my own call"))
                    .contains("delegated this call to the agent")
                    .contains("data-votes>0 of 2");
            TokenSignedBrowser olga = browser(http, issuer, "olga");
            assertThat(olga.decide(approve, olga.get(screen).body(), screen, "my agent"))
                    .contains("owns agent agent-7")
                    .contains("data-votes>0 of 2");

            TokenSignedBrowser alice = browser(http, issuer, "alice");
            assertThat(alice.decide(approve, alice.get(screen).body(), screen, "CB-9 checked"))
                    .contains("your approval is recorded (1 of 2)")
                    .contains("data-votes>1 of 2");
            assertThat(alice.decide(approve, alice.get(screen).body(), screen, "again"))
                    .contains("already approved")
                    .contains("data-votes>1 of 2");

            TokenSignedBrowser bob = browser(http, issuer, "bob");
            String after = bob.decide(approve, bob.get(screen).body(), screen, "CB-9, second pair of eyes");
            assertThat(after).contains("Tool call " + id + " approved").contains("No tool call waits for approval.");
            assertThat(after.substring(after.indexOf("id=\"decided-tool-calls\"")))
                    .contains("data-state>approved")
                    .contains("2 of 2");
            assertThat(xds.adminServices().toolCalls().get(id).orElseThrow().state())
                    .isEqualTo("approved");
            assertThat(trail)
                    .extracting(ConfigChangeAudit.ConfigChange::action)
                    .containsExactly("tool_call_approval", "tool_call_approved");
        }
    }

    private static TokenSignedBrowser browser(StatusHttpServer http, TestIssuer issuer, String who) throws Exception {
        return new TokenSignedBrowser(http.port(), issuer.accessToken(who, "meshguard-admin", GROUPS.get(who)));
    }
}
