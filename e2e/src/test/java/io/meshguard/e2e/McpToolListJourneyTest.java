package io.meshguard.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshguard.emulator.DownstreamRequest;
import io.meshguard.emulator.Exchange;
import io.meshguard.emulator.Gateway;
import io.meshguard.emulator.UpstreamServer;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * An agent's {@code tools/list} through the gateway as the controller emits it, with extauthz and the DLP server as
 * {@code up} wires them: extauthz names the tools the caller's token may call, the DLP server cuts the MCP server's
 * answer down to them. The fixture policy's route {@code mcp-tools} lets role {@code agent} call {@code get_balance},
 * {@code list_transactions} with scope {@code accounts:read}, and {@code transfer_funds} only with role
 * {@code payments-agent} and scope {@code payments:write}; the MCP server lists all three to everyone.
 */
@IntegrationTest
class McpToolListJourneyTest {
    /** A database of the class's own on the run's shared server. */
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    static final String HOST = "mcp.local";
    static final String TENANT = "t-agents";
    static final String LIST = "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/list\",\"params\":"
            + "{\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\"}}}";
    static final String ANSWER = "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"tools\":["
            + "{\"name\":\"get_balance\",\"description\":\"the account's balance\",\"inputSchema\":{\"type\":\"object\"}},"
            + "{\"name\":\"list_transactions\",\"description\":\"recent transactions\","
            + "\"inputSchema\":{\"type\":\"object\"}},"
            + "{\"name\":\"transfer_funds\",\"description\":\"moves money out\",\"inputSchema\":{\"type\":\"object\"}}"
            + "]}}";

    @AutoClose
    static E2eStack stack;

    @AutoClose
    static UpstreamServer mcpServer;

    static Gateway gateway;

    @BeforeAll
    static void start() throws Exception {
        stack = E2eStack.start(PG, Files.createTempDirectory("meshguard-e2e-mcp"));
        mcpServer = UpstreamServer.json("mcp-server", 0, ANSWER);
        gateway = stack.publish("""
                groups:
                  - {name: local, environment: test, region: local, hostnames: [mcp.local], listener_port: 8080,
                     proxyless_authz: off}
                upstreams:
                  - {name: agents-mcp, protocol: http1, endpoints: [{address: 127.0.0.1, port: %1$d}],
                     address_exceptions: [{address: 127.0.0.1, port: %1$d, reason: "e2e MCP server on this machine"}]}
                apis:
                  - {name: mcp, base_path: "", default_version: v1, versions: [{version: v1, status: active}]}
                routes:
                  - {name: mcp-endpoint, group: local, api: mcp, version: v1, match: {path_exact: /mcp, methods: [POST]},
                     destinations: [{upstream: agents-mcp, weight: 100}], streaming: true, idle_timeout_ms: 300000,
                     authz_profile: mcp-tools, dlp_profile: mcp}
                """.formatted(mcpServer.port()), "local", 8080);
    }

    @Test
    void toolsList_anAgentWithoutScopes_seesOnlyTheToolItMayCall() throws Exception {
        Exchange answer = gateway.send(listAs(List.of("agent"), List.of()));

        assertThat(answer.status()).as(answer.describe()).isEqualTo(200);
        assertThat(toolNames(answer)).containsExactly("get_balance");
        // the MCP server was asked, and answered every tool: the cut is the mesh's; extauthz's list of the caller's
        // tools was for the DLP server and never reached it
        assertThat(mcpServer.received()).isNotEmpty();
        assertThat(mcpServer.received().getLast().headers().has("x-meshguard-mcp-tools"))
                .isFalse();
    }

    @Test
    void toolsList_scopeAndRole_widenTheListToWhatThePolicyGrants() throws Exception {
        assertThat(toolNames(gateway.send(listAs(List.of("agent"), List.of("accounts:read")))))
                .containsExactly("get_balance", "list_transactions");
        assertThat(toolNames(gateway.send(
                        listAs(List.of("agent", "payments-agent"), List.of("accounts:read", "payments:write")))))
                .containsExactly("get_balance", "list_transactions", "transfer_funds");
    }

    @Test
    void toolsList_aClientsOwnAllowedToolsHeader_widensNothing() throws Exception {
        Exchange answer = gateway.send(listAs(List.of("agent"), List.of())
                .with("x-meshguard-mcp-tools", "[\"get_balance\",\"list_transactions\",\"transfer_funds\"]"));

        assertThat(answer.status()).as(answer.describe()).isEqualTo(200);
        assertThat(toolNames(answer)).containsExactly("get_balance");
    }

    @Test
    void toolsList_aCallerWithoutTheAgentRole_isDeniedBeforeTheServer() throws Exception {
        mcpServer.clear();
        Exchange answer = gateway.send(listAs(List.of("customer"), List.of("accounts:read")));

        assertThat(answer.status()).as(answer.describe()).isEqualTo(403);
        assertThat(mcpServer.received()).isEmpty();
    }

    private static DownstreamRequest listAs(List<String> roles, List<String> scopes) throws Exception {
        return DownstreamRequest.withBody(
                "POST",
                HOST,
                "/mcp",
                LIST,
                "content-type",
                "application/json",
                "accept",
                "application/json, text/event-stream",
                "mcp-protocol-version",
                "2026-07-28",
                "mcp-method",
                "tools/list",
                "authorization",
                "Bearer " + stack.token("agent-7", TENANT, roles, scopes),
                "x-tenant-id",
                TENANT);
    }

    private static List<String> toolNames(Exchange answer) throws Exception {
        assertThat(answer.status()).as(answer.describe()).isEqualTo(200);
        JsonNode tools =
                new ObjectMapper().readTree(answer.body()).path("result").path("tools");
        assertThat(tools.isArray()).as(answer.body()).isTrue();
        List<String> names = new ArrayList<>();
        tools.forEach(t -> names.add(t.path("name").asText()));
        return names;
    }
}
