package io.meshguard.dlp.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.dlp.mcp.ToolPins;
import java.util.List;
import org.junit.jupiter.api.Test;

class McpPinsPolicyTest {
    /** A profile {@code mcp} that pins the tools appended below it (list entries indented eight spaces). */
    private static final String PINNED =
            "version: 1\nprofiles:\n  - name: mcp\n    mcp: true\n    mcp_pins:\n      tools:\n";

    private static List<String> errors(String yaml) {
        return DlpPolicyParserTest.errors(yaml);
    }

    @Test
    void mcpPins_yamlOrPastedJsonSchema_readAsTheSameJson() throws Exception {
        DlpPolicy p = DlpPolicyParser.parse("dlp.yaml", PINNED + """
                        - name: transfer_funds
                          description: "Moves money between accounts"
                          input_schema:
                            type: object
                            properties:
                              amount: {type: integer, minimum: 1}
                              urgent: {type: boolean}
                            required: [amount]
                        - name: get_balance
                          input_schema: {"type": "object", "properties": {"amount": {"type": "integer", "minimum": 1}}}
                """);
        ToolPins pins = p.profile("mcp").orElseThrow().mcpPins().orElseThrow();
        assertThat(pins.tools()).containsOnlyKeys("transfer_funds", "get_balance");
        assertThat(pins.tools().get("transfer_funds").inputSchema().toString())
                .isEqualTo("{\"type\":\"object\",\"properties\":{\"amount\":{\"type\":\"integer\",\"minimum\":1},"
                        + "\"urgent\":{\"type\":\"boolean\"}},\"required\":[\"amount\"]}");
        assertThat(pins.tools().get("get_balance").description()).isEmpty();
        assertThat(p.profile("mcp").orElseThrow().mcpApproval()).isEmpty();
    }

    @Test
    void mcpPins_schemaTheValidatorCannotHold_refusedWithItsLine() {
        assertThat(errors(PINNED + """
                                - name: remote
                                  input_schema: {$ref: "https://schemas.example/transfer.json"}
                                - name: backtracking
                                  input_schema: {properties: {x: {pattern: "(a+)\\\\1"}}}
                                - name: twice
                                  input_schema: {type: object, type: string}
                                - name: remote
                                  input_schema: {}
                                - name: no_schema
                                - description: nameless
                                  input_schema: {}
                        """))
                .anySatisfy(e -> assertThat(e).startsWith("dlp.yaml:8: tool 'remote': $ref at $ points outside"))
                .anySatisfy(e -> assertThat(e).startsWith("dlp.yaml:10: tool 'backtracking': pattern '(a+)\\1'"))
                .anySatisfy(e -> assertThat(e).contains("tool 'twice'"))
                .anySatisfy(e -> assertThat(e).isEqualTo("dlp.yaml:13: tool 'remote' is pinned twice"))
                .anySatisfy(e -> assertThat(e)
                        .isEqualTo(
                                "dlp.yaml:15: tool 'no_schema' needs its 'input_schema' (MCP tools always have one)"))
                .anySatisfy(e -> assertThat(e).isEqualTo("dlp.yaml:16: a pinned tool needs a 'name'"));
    }

    @Test
    void mcpPins_withoutMcpTrue_orWithoutTools_refused() {
        assertThat(errors("""
                        version: 1
                        profiles:
                          - name: a
                            mcp_pins: {tools: []}
                          - name: b
                            mcp: true
                            mcp_pins: {}
                        """))
                .contains(
                        "dlp.yaml:4: 'mcp_pins' holds MCP tools to their pins: the profile needs 'mcp: true'",
                        "dlp.yaml:7: 'mcp_pins' needs 'tools': a list of {name, description, input_schema}");
    }
}
