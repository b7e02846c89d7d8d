package io.meshguard.cli.dlp;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshguard.cli.CliRun;
import io.meshguard.dlp.mcp.ToolPins;
import io.meshguard.dlp.policy.DlpPolicyParser;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DlpPinCommandTest {
    private static final String ANSWER = "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"tools\":["
            + "{\"name\":\"get_balance\",\"description\":\"The balance: \\\"booked\\\" only.\\nIn € and CHF\\t\","
            + "\"inputSchema\":{\"type\":\"object\",\"properties\":{\"limit\":{\"type\":\"number\",\"maximum\":1e5,"
            + "\"minimum\":0.5}},\"x-flag\":true,\"default\":null}},"
            + "{\"name\":\"transfer_funds\",\"inputSchema\":{\"type\":\"object\",\"required\":[\"amount\"],"
            + "\"properties\":{\"amount\":{\"type\":\"integer\",\"minimum\":1},\"ref\":{\"pattern\":\"^[A-Z]{2}:\"}}}}"
            + "]}}";

    @TempDir
    Path dir;

    /** {@code meshguard dlp pin} on {@code answer} saved to a file, then {@code args}. */
    private CliRun pin(String answer, String... args) throws Exception {
        Path file = Files.writeString(dir.resolve("answer-" + System.nanoTime()), answer, StandardCharsets.UTF_8);
        List<String> all = new ArrayList<>(List.of("dlp", "pin"));
        all.addAll(List.of(args));
        all.add(file.toString());
        return CliRun.of(all.toArray(String[]::new));
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
        CliRun r = pin(ANSWER);
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).startsWith("    mcp_pins:\n      tools:\n        - name: \"get_balance\"\n");
        ToolPins pins = pinsOf(r.out());
        for (JsonNode tool : new ObjectMapper().readTree(ANSWER).path("result").path("tools")) {
            assertThat(pins.review(tool).standing())
                    .as(tool.get("name").asText())
                    .isEqualTo(ToolPins.Standing.AS_PINNED);
        }
        assertThat(r.out()).contains("# transfer_funds sha256:");
    }

    @Test
    void pin_eventStreamAnswer_andOneTool_pinsOnlyThatTool() throws Exception {
        String sse = "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}\n\n"
                + "event: message\ndata: " + ANSWER + "\n\n";
        CliRun r = pin(sse, "--tool", "transfer_funds");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(pinsOf(r.out()).tools()).containsOnlyKeys("transfer_funds");
        assertThat(pin(ANSWER, "--tool", "close_account").err()).contains("not listed in the answer: close_account");
    }

    @Test
    void pin_schemaTheGatewayCannotValidateWith_refusedExit2NamingTheTool() throws Exception {
        String remote = "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"tools\":[{\"name\":\"t\",\"inputSchema\":"
                + "{\"$ref\":\"https://schemas.example/t.json\"}}]}}";
        CliRun r = pin(remote);
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("tool 't'").contains("points outside the schema");
        assertThat(r.out()).isEmpty();
        assertThat(pin("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{}}").err()).contains("not a tools/list response");
    }
}
