package io.meshguard.cli.dlp;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshguard.dlp.mcp.ToolPins;
import io.meshguard.dlp.policy.DlpPolicyParser;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class DlpPinCommandTest {
    private record Run(int exit, String stdout, String stderr) {}

    private static final String ANSWER = "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"tools\":["
            + "{\"name\":\"get_balance\",\"description\":\"The balance: \\\"booked\\\" only.\\nIn € and CHF\\t\","
            + "\"inputSchema\":{\"type\":\"object\",\"properties\":{\"limit\":{\"type\":\"number\",\"maximum\":1e5,"
            + "\"minimum\":0.5}},\"x-flag\":true,\"default\":null}},"
            + "{\"name\":\"transfer_funds\",\"inputSchema\":{\"type\":\"object\",\"required\":[\"amount\"],"
            + "\"properties\":{\"amount\":{\"type\":\"integer\",\"minimum\":1},\"ref\":{\"pattern\":\"^[A-Z]{2}:\"}}}}"
            + "]}}";

    private static Run run(String stdin, String... args) {
        DlpPinCommand cmd = new DlpPinCommand();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        cmd.out = new PrintStream(out, true, StandardCharsets.UTF_8);
        cmd.err = new PrintStream(err, true, StandardCharsets.UTF_8);
        cmd.in = new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8));
        int exit = new CommandLine(cmd).execute(args);
        return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static ToolPins pinsOf(String block) throws Exception {
        return DlpPolicyParser.parse(
                        "dlp.yaml",
                        "version: 1\nprofiles:\n  - name: mcp\n    match: {paths: [/mcp]}\n    mcp: true\n" + block)
                .profile("mcp")
                .orElseThrow()
                .mcpPins()
                .orElseThrow();
    }

    @Test
    void pin_liveAnswer_printsABlockThatHoldsEveryListedToolAsPinned() throws Exception {
        Run r = run(ANSWER, "-");
        assertThat(r.exit()).as(r.stderr()).isZero();
        assertThat(r.stdout()).startsWith("    mcp_pins:\n      tools:\n        - name: \"get_balance\"\n");
        ToolPins pins = pinsOf(r.stdout());
        for (JsonNode tool : new ObjectMapper().readTree(ANSWER).path("result").path("tools")) {
            assertThat(pins.review(tool).standing())
                    .as(tool.get("name").asText())
                    .isEqualTo(ToolPins.Standing.AS_PINNED);
        }
        assertThat(r.stdout()).contains("# transfer_funds sha256:");
    }

    @Test
    void pin_eventStreamAnswer_andOneTool_pinsOnlyThatTool() throws Exception {
        String sse = "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}\n\n"
                + "event: message\ndata: " + ANSWER + "\n\n";
        Run r = run(sse, "--tool", "transfer_funds", "-");
        assertThat(r.exit()).as(r.stderr()).isZero();
        assertThat(pinsOf(r.stdout()).tools()).containsOnlyKeys("transfer_funds");
        assertThat(run(ANSWER, "--tool", "close_account", "-").stderr())
                .contains("not listed in the answer: close_account");
    }

    @Test
    void pin_schemaTheGatewayCannotValidateWith_refusedExit2NamingTheTool() {
        String remote = "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"tools\":[{\"name\":\"t\",\"inputSchema\":"
                + "{\"$ref\":\"https://schemas.example/t.json\"}}]}}";
        Run r = run(remote, "-");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.stderr()).contains("tool 't'").contains("points outside the schema");
        assertThat(r.stdout()).isEmpty();
        assertThat(run("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{}}", "-").stderr())
                .contains("not a tools/list response");
    }
}
