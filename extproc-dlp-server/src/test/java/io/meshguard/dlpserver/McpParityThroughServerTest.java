package io.meshguard.dlpserver;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.grpc.Metadata;
import io.meshguard.testing.IntegrationTest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

/**
 * MCP requests through a real DLP server over gRPC: the body is held until it is held to its MCP headers; a
 * disagreement is a 400 with JSON-RPC error -32020 and no byte of the body goes on; an agreeing call's arguments are
 * scanned with the route's profile.
 */
@IntegrationTest
class McpParityThroughServerTest {
    @AutoClose
    private static final ServerFixture fx = ServerFixture.started();

    static String call(String tool, String args) {
        return "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":\"" + tool
                + "\",\"arguments\":" + args
                + ",\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\"}}}";
    }

    /** Sends the body in chunks of {@code chunk} bytes; returns every answer up to the last chunk's or a local reply. */
    static List<ProcessingResponse> send(BodySendMode mode, String path, String body, int chunk, String... headers)
            throws Exception {
        List<ProcessingResponse> answers = new ArrayList<>();
        try (EnvoyStream s = new EnvoyStream(fx.channel, mode, BodySendMode.NONE, new Metadata())) {
            List<String> kv = new ArrayList<>(List.of(
                    ":method", "POST", ":path", path, ":authority", "mcp.local", "content-type", "application/json"));
            kv.addAll(List.of(headers));
            s.requestHeaders(false, kv.toArray(String[]::new));
            answers.add(s.next());
            byte[] b = body.getBytes(StandardCharsets.UTF_8);
            if (mode == BodySendMode.BUFFERED) {
                s.requestBody(b, true);
                answers.add(s.next());
                return answers;
            }
            for (int at = 0; at < b.length; at += chunk) {
                int n = Math.min(chunk, b.length - at);
                s.requestBody(java.util.Arrays.copyOfRange(b, at, at + n), at + n == b.length);
                ProcessingResponse r = s.next();
                answers.add(r);
                if (r.hasImmediateResponse()) {
                    return answers;
                }
            }
            return answers;
        }
    }

    /** What the upstream would receive: each body answer's replacement, in order (STREAMED and BUFFERED). */
    static String forwarded(List<ProcessingResponse> answers) {
        StringBuilder out = new StringBuilder();
        for (ProcessingResponse r : answers) {
            if (r.hasRequestBody()) {
                assertThat(r.getRequestBody().getResponse().hasBodyMutation())
                        .as("every chunk of an MCP body is replaced, never passed as sent")
                        .isTrue();
                out.append(r.getRequestBody()
                        .getResponse()
                        .getBodyMutation()
                        .getBody()
                        .toStringUtf8());
            }
        }
        return out.toString();
    }

    static final String[] TOOL_HEADERS = {"mcp-protocol-version", "2026-07-28", "mcp-method", "tools/call"};

    @Test
    void nameMismatch_refused400WithJsonRpcError_noByteForwarded() throws Exception {
        List<ProcessingResponse> answers = send(
                BodySendMode.STREAMED,
                "/mcp",
                call("delete_account", "{\"id\":\"1\"}"),
                16,
                "mcp-protocol-version",
                "2026-07-28",
                "mcp-method",
                "tools/call",
                "mcp-name",
                "get_balance");
        ProcessingResponse last = answers.get(answers.size() - 1);
        assertThat(last.hasImmediateResponse()).isTrue();
        assertThat(last.getImmediateResponse().getStatus().getCodeValue()).isEqualTo(400);
        String body = last.getImmediateResponse().getBody().toStringUtf8();
        assertThat(body).contains("\"code\":-32020").contains("\"id\":7").contains("Mcp-Name");
        assertThat(forwarded(answers)).isEmpty();
    }

    /** The Tasks extension's polls name their task in Mcp-Name, held to params.taskId. */
    @Test
    void tasksGet_namedByItsTaskId_forwardedWhole_anotherTask_refused400_noByteForwarded() throws Exception {
        String poll = "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tasks/get\",\"params\":{\"taskId\":\"task_9f3c\","
                + "\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\"}}}";
        String[] headers = {"mcp-protocol-version", "2026-07-28", "mcp-method", "tasks/get", "mcp-name", "task_9f3c"};
        assertThat(forwarded(send(BodySendMode.STREAMED, "/mcp", poll, 16, headers)))
                .isEqualTo(poll);

        List<ProcessingResponse> other =
                send(BodySendMode.STREAMED, "/mcp", poll.replace("task_9f3c", "task_0000"), 16, headers);
        ProcessingResponse last = other.get(other.size() - 1);
        assertThat(last.getImmediateResponse().getStatus().getCodeValue()).isEqualTo(400);
        assertThat(last.getImmediateResponse().getBody().toStringUtf8())
                .contains("\"id\":3", "\"code\":-32020", "params.taskId");
        assertThat(forwarded(other)).isEmpty();
    }

    @Test
    void matchingCall_forwardedWhole_argumentsScannedWithTheRouteProfile() throws Exception {
        for (BodySendMode mode : List.of(BodySendMode.STREAMED, BodySendMode.BUFFERED)) {
            List<ProcessingResponse> answers = send(
                    mode,
                    "/mcp",
                    call("pay", "{\"card\":\"5500 0000 0000 0004\",\"region\":\"eu\"}"),
                    10,
                    "mcp-protocol-version",
                    "2026-07-28",
                    "mcp-method",
                    "tools/call",
                    "mcp-name",
                    "pay",
                    "Mcp-Param-Region",
                    "eu");
            String out = forwarded(answers);
            assertThat(out).as(mode.name()).contains("\"name\":\"pay\"").contains("\"region\":\"eu\"");
            assertThat(out)
                    .as(mode.name())
                    .doesNotContain("5500 0000 0000 0004")
                    .contains("0004");
        }
    }

    @Test
    void blockedArgument_refusedByTheProfile() throws Exception {
        List<ProcessingResponse> answers = send(
                BodySendMode.STREAMED,
                "/mcp",
                call("lookup", "{\"rrn\":\"900101-1234568\"}"),
                1 << 20,
                "mcp-protocol-version",
                "2026-07-28",
                "mcp-method",
                "tools/call",
                "mcp-name",
                "lookup");
        assertThat(answers.get(answers.size() - 1).hasImmediateResponse()).isTrue();
        assertThat(forwarded(answers)).isEmpty();
    }

    @Test
    void mcpHeadersOnAnyRoute_heldToTheBody() throws Exception {
        // the capped profile does not say mcp: the headers alone make the request one to hold to its body
        List<ProcessingResponse> answers = send(
                BodySendMode.STREAMED,
                "/capped",
                call("b", "{}"),
                1 << 20,
                "mcp-protocol-version",
                "2026-07-28",
                "mcp-method",
                "tools/call",
                "mcp-name",
                "a");
        assertThat(answers.get(answers.size() - 1).hasImmediateResponse()).isTrue();
    }

    @Test
    void paramMismatch_andRepeatedHeader_refused() throws Exception {
        List<ProcessingResponse> param = send(
                BodySendMode.BUFFERED,
                "/mcp",
                call("pay", "{\"region\":\"eu\"}"),
                0,
                "mcp-protocol-version",
                "2026-07-28",
                "mcp-method",
                "tools/call",
                "mcp-name",
                "pay",
                "mcp-param-region",
                "us");
        assertThat(param.get(1).hasImmediateResponse()).isTrue();
        List<ProcessingResponse> twice = send(
                BodySendMode.BUFFERED,
                "/mcp",
                call("pay", "{}"),
                0,
                "mcp-protocol-version",
                "2026-07-28",
                "mcp-method",
                "tools/call",
                "mcp-name",
                "pay",
                "Mcp-Name",
                "pay");
        assertThat(twice.get(1).hasImmediateResponse()).isTrue();
    }
}
