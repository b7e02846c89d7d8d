package io.meshguard.deploy.box;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * An agent's MCP tool calls through the edge gateway, both ends the official MCP TypeScript SDK (protocol 2026-07-28):
 * the bank's automation publishes its accounts MCP server as docs/agents.md says (an API on {@code mcp.local}, the
 * shipped rule {@code mcp-tools}, DLP profile {@code mcp}); the bank's agent signs in at the bank's IdP (realm
 * {@code retail}, role {@code agent}, its tokens bound to the server's URI) and connects, lists tools, reads a balance
 * and tries a transfer. What the server received is read from its own log.
 */
@Tag("cluster")
class McpAgentJourneyTest extends BoxJourney {
    private static final String HOST = "mcp.local";
    private static final String METADATA = "/.well-known/oauth-protected-resource/mcp";

    @Test
    void agentThroughTheEdge_seesAndCallsOnlyItsTools_noTokenReachesTheServer_resultsMasked() throws Exception {
        BankPipeline bank = BankPipeline.signIn(box, idp);
        bank.edgeAndBankApp();
        bank.accountsMcp();
        bank.api("accounts");
        bank.route("accounts-read", "accounts", "/balances", "accounts-read");
        bank.meshguard("xds", "publish", "--reason", "CHG-2001: the accounts MCP server behind the edge");
        BoxPod server = box.accountsMcp();
        BoxPod gateway = box.pod(ClusterInABox.GATEWAY);
        InetSocketAddress edge = box.node().local(gateway.ip(), 8080);

        // no token: the MCP spec's challenge, naming where the server's metadata is (404 until the publish arrived)
        EdgeClient.Answer anonymous = EdgeClient.eventually(
                () -> EdgeClient.send(edge, "POST", HOST, "/mcp", mcpHeaders("tools/list", "", ""), "{}"),
                a -> a.status() != 404 && a.status() != 503);
        assertThat(anonymous.status()).as("%s", anonymous).isEqualTo(401);
        assertThat(anonymous.headers().get("www-authenticate"))
                .as("%s", anonymous)
                .contains("resource_metadata=\"https://mcp.local" + METADATA + "\"");
        EdgeClient.Answer metadata = EdgeClient.send(edge, "GET", HOST, METADATA, Map.of());
        assertThat(metadata.status()).as("%s", metadata).isEqualTo(200);
        assertThat(metadata.body()).contains("\"resource\":\"https://mcp.local/mcp\"");

        String token = idp.agentToken();
        McpNode.Run agent = McpNode.agent(McpNode.install(), "http://mcp.local/mcp", edge, token);
        String received = box.process(server).lastLines(200);
        assertThat(agent.exit())
                .as("the agent: %s\nthe server received:\n%s", agent.output(), received)
                .isZero();
        // tools/list cut down to what the token may call: list_transactions wants accounts:read, transfer_funds the
        // role payments-agent
        assertThat(agent.output()).contains("TOOLS [\"get_balance\"]");
        assertThat(agent.output())
                .as("the tool's result, through the DLP profile mcp")
                .contains("BALANCE ")
                .contains("tenant acme-corp")
                .contains("credential none")
                .doesNotContain(BankApp.CARD)
                .doesNotContain(BankApp.CARD.replace(" ", ""));
        // the SDK reports the gateway's 403 as an error of the call; that the server never ran it is asserted below
        assertThat(agent.output()).contains("TRANSFER_REFUSED ").doesNotContain("TRANSFER [");
        assertThat(received)
                .as("the server got the connect, the list and one call, never a credential, never the transfer")
                .contains("{\"received\":\"server/discover\",\"name\":\"\",\"authorization\":\"absent\"}")
                .contains("{\"received\":\"tools/call\",\"name\":\"get_balance\",\"authorization\":\"absent\"}")
                .doesNotContain("\"authorization\":\"present\"")
                .doesNotContain("transfer_funds");

        // headers that name one tool and a body that runs another: refused before the server sees a byte
        String smuggled = "{\"jsonrpc\":\"2.0\",\"id\":41,\"method\":\"tools/call\",\"params\":{\"name\":"
                + "\"transfer_funds\",\"arguments\":{\"to\":\"CH44-9999\",\"amount\":5000},\"_meta\":"
                + "{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\"}}}";
        EdgeClient.Answer mismatch = EdgeClient.send(
                edge, "POST", HOST, "/mcp", mcpHeaders("tools/call", "get_balance", "Bearer " + token), smuggled);
        assertThat(mismatch.status()).as("%s", mismatch).isEqualTo(400);
        assertThat(mismatch.body()).contains("-32020").contains("\"id\":41");
        assertThat(box.process(server).lastLines(200)).doesNotContain("transfer_funds");

        // a token bound to the MCP server is not spent on the bank's other APIs of the same issuer (RFC 8707)
        EdgeClient.Answer elsewhere = EdgeClient.send(
                edge,
                "GET",
                "api.bank.example",
                "/accounts/v1/balances",
                Map.of("Authorization", "Bearer " + token, "x-tenant-id", "acme-corp"));
        assertThat(elsewhere.status()).as("%s", elsewhere).isEqualTo(401);
    }

    private static Map<String, String> mcpHeaders(String method, String name, String authorization) {
        Map<String, String> h = new java.util.LinkedHashMap<>();
        h.put("content-type", "application/json");
        h.put("accept", "application/json, text/event-stream");
        h.put("mcp-protocol-version", "2026-07-28");
        h.put("mcp-method", method);
        if (!name.isEmpty()) {
            h.put("mcp-name", name);
        }
        if (!authorization.isEmpty()) {
            h.put("authorization", authorization);
        }
        return h;
    }
}
