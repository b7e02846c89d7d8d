package io.meshguard.cli.dlp;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.dlpserver.DlpAuditSink;
import io.meshguard.dlpserver.DlpServer;
import io.meshguard.dlpserver.DlpServerSettings;
import io.meshguard.runtime.grpc.GrpcServerSettings;
import io.meshguard.testing.IntegrationTest;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * docs/agents.md "Pinned tools", its "Try it": the shipped policies' {@code mcp-pinned} profile through a real DLP
 * server, with the commands the page shows. A call whose arguments fit the pinned schema goes on; one that does not,
 * and one of a tool not pinned, are answered 400 with JSON-RPC -32602.
 */
@IntegrationTest
class PinnedToolsTryItTest {
    private static DlpServer server;

    @BeforeAll
    static void start() throws Exception {
        server = DlpServer.create(
                new DlpServerSettings(
                        GrpcServerSettings.defaults(0).withAddress("127.0.0.1", 0),
                        java.nio.file.Path.of("..", "policies", "dlp.yaml"),
                        "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.UTF_8),
                        Duration.ofMinutes(1)),
                DlpAuditSink.NONE,
                new SimpleMeterRegistry());
        server.start();
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    private static String send(String tool, String arguments) {
        StringWriter out = new StringWriter();
        CommandLine cl = new CommandLine(new DlpSendCommand());
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(out, true));
        int exit = cl.execute(
                "--target",
                "127.0.0.1:" + server.grpcPort(),
                "--host",
                "mcp-pinned.local",
                "--path",
                "/mcp",
                "--profile",
                "mcp-pinned",
                "--content-type",
                "application/json",
                "--header",
                "mcp-protocol-version=2026-07-28",
                "--header",
                "mcp-method=tools/call",
                "--header",
                "mcp-name=" + tool,
                "--body",
                "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"" + tool
                        + "\",\"arguments\":" + arguments
                        + ",\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\"}}}");
        assertThat(exit).as(out.toString()).isZero();
        return out.toString();
    }

    @Test
    void tryIt_argumentsFitThePin_forwarded() {
        assertThat(send("get_balance", "{\"account\":\"12345678\"}"))
                .contains("FORWARDED")
                .doesNotContain("BLOCKED");
    }

    @Test
    void tryIt_argumentsOutsideThePinnedSchema_blocked400InvalidParams() {
        assertThat(send("get_balance", "{\"account\":\"12345678\",\"include_all_accounts\":true}"))
                .contains("BLOCKED: HTTP 400")
                .contains("\"code\":-32602")
                .contains("get_balance do not match its pinned inputSchema: $: additionalProperties");
    }

    @Test
    void tryIt_toolNotPinned_blocked400UnknownTool() {
        assertThat(send("transfer_funds", "{}")).contains("BLOCKED: HTTP 400").contains("Unknown tool: transfer_funds");
    }
}
