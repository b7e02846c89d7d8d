package io.meshguard.dlp.mcp;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** A tools/list answer cut down to the caller's tools, JSON and SSE alike; what cannot be read is refused. */
class McpToolListTest {
    static final Set<String> BALANCE_ONLY = Set.of("get_balance");

    static final String LIST = "{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{\"tools\":["
            + "{\"name\":\"get_balance\",\"description\":\"balance\",\"inputSchema\":{\"type\":\"object\"}},"
            + "{\"name\":\"transfer_funds\",\"description\":\"moves money\",\"inputSchema\":{\"type\":\"object\"}}"
            + "],\"nextCursor\":\"c2\"}}";

    static Optional<String> cut(String body, boolean sse, Set<String> allowed) {
        return McpToolList.filter(body.getBytes(StandardCharsets.UTF_8), sse, allowed)
                .map(b -> new String(b, StandardCharsets.UTF_8));
    }

    @Test
    void jsonAnswer_listsOnlyTheAllowedTools_keepingTheRest() {
        String out = cut(LIST, false, BALANCE_ONLY).orElseThrow();
        assertThat(out)
                .contains("\"name\":\"get_balance\"")
                .doesNotContain("transfer_funds")
                .doesNotContain("moves money")
                .contains("\"nextCursor\":\"c2\"")
                .contains("\"id\":3");
        assertThat(cut(LIST, false, Set.of()))
                .hasValueSatisfying(s -> assertThat(s).contains("\"tools\":[]"));
    }

    @Test
    void answerWithOnlyAllowedTools_goesOnByteForByte() {
        String spaced = LIST.replace(",", ", ");
        assertThat(cut(spaced, false, Set.of("get_balance", "transfer_funds"))).hasValue(spaced);
    }

    @Test
    void eventStream_cutsTheResponseEvent_passesProgressAndKeepsItsFields() {
        String stream = "event: message\r\nid: 1\r\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\","
                + "\"params\":{\"progress\":1}}\r\n\r\n"
                + ": keep-alive\n\n"
                // a message over two data lines: joined with a newline, which JSON reads as whitespace
                + "id: 2\ndata: " + LIST.substring(0, LIST.indexOf('[') + 1) + "\ndata: "
                + LIST.substring(LIST.indexOf('[') + 1) + "\n\n";
        String out = cut(stream, true, BALANCE_ONLY).orElseThrow();
        assertThat(out)
                .startsWith(
                        "event: message\r\nid: 1\r\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"")
                .contains(": keep-alive\n\n")
                .contains("id: 2\ndata: {")
                .contains("get_balance")
                .doesNotContain("transfer_funds")
                .endsWith("}}\n\n");
    }

    @Test
    void errorAnswer_passes() {
        String error = "{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":{\"code\":-32601,\"message\":\"no\"}}";
        assertThat(cut(error, false, BALANCE_ONLY)).hasValue(error);
    }

    @Test
    void whatCannotBeReadForCertain_isRefused() {
        for (String body : new String[] {
            "{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{\"tools\":[",
            "{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{\"tools\":[]},\"result\":{\"tools\":[{\"name\":\"x\"}]}}",
            LIST + " {}",
            "{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{}}",
            "{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{\"tools\":[{\"title\":\"no name\"}]}}",
            "{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{\"tools\":[{\"name\":7}]}}",
            "[" + LIST + "]",
            "",
        }) {
            assertThat(cut(body, false, BALANCE_ONLY)).as(body).isEmpty();
            assertThat(cut("data: " + body + "\n\n", true, BALANCE_ONLY))
                    .as(body)
                    .isEmpty();
        }
        assertThat(McpToolList.filter(new byte[] {'d', 'a', 't', 'a', ':', (byte) 0xff, '\n', '\n'}, true, Set.of()))
                .isEmpty();
    }

    @Test
    void allowedHeader_isAJsonArrayOfNames_elseNothing() {
        assertThat(McpToolList.allowed("[\"get_balance\",\"r\\u00e9sum\\u00e9\"]"))
                .hasValue(Set.of("get_balance", "résumé"));
        assertThat(McpToolList.allowed("[]")).hasValue(Set.of());
        assertThat(McpToolList.allowed("get_balance")).isEmpty();
        assertThat(McpToolList.allowed("[1]")).isEmpty();
        assertThat(McpToolList.allowed("{}")).isEmpty();
    }
}
