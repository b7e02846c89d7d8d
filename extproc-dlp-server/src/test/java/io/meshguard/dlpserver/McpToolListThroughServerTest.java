package io.meshguard.dlpserver;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.meshguard.contract.OwnedHeaderNames;
import io.meshguard.testing.IntegrationTest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

/**
 * A {@code tools/list} answer through a real DLP server over gRPC, with the tools extauthz's allow says the caller may
 * call (of get_balance and transfer_funds, only get_balance): the answer reaches the client listing get_balance alone,
 * as JSON in chunks and as an event stream after a progress notification; an answer that cannot be cut down is
 * refused, and a request without the header (a route without tool rules) gets every tool.
 */
@IntegrationTest
class McpToolListThroughServerTest {
    @AutoClose
    private static final ServerFixture fx = ServerFixture.started();

    static final String LIST_REQUEST = "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/list\","
            + "\"params\":{\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\"}}}";

    static final String ANSWER = "{\"jsonrpc\":\"2.0\",\"id\":4,\"result\":{\"tools\":["
            + "{\"name\":\"get_balance\",\"description\":\"the account's balance\",\"inputSchema\":{\"type\":\"object\"}},"
            + "{\"name\":\"transfer_funds\",\"description\":\"moves money out\",\"inputSchema\":{\"type\":\"object\"}}"
            + "]}}";

    static final String BALANCE_ONLY = "[\"get_balance\"]";

    /** Envoy's side: the tools/list request (with the allowed-tools header when given), then the answer in chunks. */
    static List<ProcessingResponse> exchange(
            BodySendMode responseMode, String contentType, String answer, int chunk, String... toolsHeader)
            throws Exception {
        List<ProcessingResponse> answers = new ArrayList<>();
        try (EnvoyStream s = new EnvoyStream(fx.channel, BodySendMode.BUFFERED, responseMode)) {
            List<String> kv = new ArrayList<>(List.of(
                    ":method",
                    "POST",
                    ":path",
                    "/mcp",
                    ":authority",
                    "mcp.local",
                    "content-type",
                    "application/json",
                    "mcp-protocol-version",
                    "2026-07-28",
                    "mcp-method",
                    "tools/list"));
            if (toolsHeader.length > 0) {
                kv.addAll(List.of(OwnedHeaderNames.MCP_TOOLS, toolsHeader[0]));
            }
            s.requestHeaders(false, kv.toArray(String[]::new));
            assertThat(s.next().hasRequestHeaders()).isTrue();
            s.requestBody(LIST_REQUEST.getBytes(StandardCharsets.UTF_8), true);
            ProcessingResponse forwarded = s.next();
            assertThat(forwarded.hasRequestBody()).as(forwarded.toString()).isTrue();
            byte[] b = answer.getBytes(StandardCharsets.UTF_8);
            s.responseHeaders(
                    false, ":status", "200", "content-type", contentType, "content-length", Integer.toString(b.length));
            answers.add(s.next());
            // BUFFERED: the whole answer in one message; else in chunks, each answered but in FULL_DUPLEX
            int size = responseMode == BodySendMode.BUFFERED ? b.length : chunk;
            for (int at = 0; at < b.length; at += size) {
                int end = Math.min(b.length, at + size);
                s.responseBody(Arrays.copyOfRange(b, at, end), end == b.length);
                if (responseMode != BodySendMode.FULL_DUPLEX_STREAMED) {
                    answers.add(s.next());
                }
            }
            if (responseMode == BodySendMode.FULL_DUPLEX_STREAMED) {
                answers.addAll(s.untilResponseEnd());
            }
            return answers;
        }
    }

    /** What the client receives of the body: STREAMED and BUFFERED replacements, FULL_DUPLEX pieces, in order. */
    static String received(List<ProcessingResponse> answers) {
        StringBuilder out = new StringBuilder();
        for (ProcessingResponse r : answers) {
            if (r.hasResponseBody()) {
                var mutation = r.getResponseBody().getResponse().getBodyMutation();
                out.append(
                        mutation.hasStreamedResponse()
                                ? mutation.getStreamedResponse().getBody().toStringUtf8()
                                : mutation.getBody().toStringUtf8());
            }
        }
        return out.toString();
    }

    @Test
    void jsonAnswer_inChunks_listsOnlyTheToolsTheCallerMayCall() throws Exception {
        List<ProcessingResponse> answers =
                exchange(BodySendMode.STREAMED, "application/json", ANSWER, 16, BALANCE_ONLY);
        assertThat(answers.get(0)
                        .getResponseHeaders()
                        .getResponse()
                        .getHeaderMutation()
                        .getRemoveHeadersList())
                .as("the answer gets shorter: its content-length goes")
                .contains("content-length");
        String out = received(answers);
        assertThat(out).contains("\"name\":\"get_balance\"").contains("\"id\":4");
        assertThat(out).doesNotContain("transfer_funds").doesNotContain("moves money out");
    }

    @Test
    void eventStreamAnswer_afterAProgressNotification_listsOnlyTheToolsTheCallerMayCall() throws Exception {
        String stream = "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\","
                + "\"params\":{\"progressToken\":1,\"progress\":1}}\n\n"
                + "event: message\ndata: " + ANSWER + "\n\n";
        List<ProcessingResponse> answers =
                exchange(BodySendMode.FULL_DUPLEX_STREAMED, "text/event-stream", stream, 20, BALANCE_ONLY);
        String out = received(answers);
        assertThat(out).startsWith("event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"");
        assertThat(out).contains("get_balance").doesNotContain("transfer_funds").endsWith("\n\n");
    }

    @Test
    void answerThatCannotBeCutDown_isRefused_noToolReachesTheClient() throws Exception {
        String garbled = ANSWER.substring(0, ANSWER.length() - 3);
        List<ProcessingResponse> answers =
                exchange(BodySendMode.BUFFERED, "application/json", garbled, 0, BALANCE_ONLY);
        ProcessingResponse last = answers.get(answers.size() - 1);
        assertThat(last.hasImmediateResponse()).as(last.toString()).isTrue();
        assertThat(last.getImmediateResponse().getBody().toStringUtf8())
                .contains("mcp_tools_list")
                .doesNotContain("get_balance");
        // an allowed list that is not one is no licence to list everything
        List<ProcessingResponse> unreadable =
                exchange(BodySendMode.BUFFERED, "application/json", ANSWER, 0, "get_balance");
        assertThat(unreadable.get(unreadable.size() - 1).hasImmediateResponse()).isTrue();
    }

    @Test
    void withoutTheHeader_everyToolIsListed() throws Exception {
        List<ProcessingResponse> answers = exchange(BodySendMode.BUFFERED, "application/json", ANSWER, 0);
        ProcessingResponse last = answers.get(answers.size() - 1);
        assertThat(last.hasImmediateResponse()).isFalse();
        assertThat(received(answers)).isIn("", ANSWER);
    }
}
