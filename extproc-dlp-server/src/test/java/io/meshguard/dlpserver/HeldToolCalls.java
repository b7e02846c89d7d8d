package io.meshguard.dlpserver;

import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.grpc.ManagedChannel;
import io.meshguard.dlpserver.approval.McpToolApprovals;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/**
 * MCP tool calls a route holds for approval, as the DLP server's tests and the controller's approval journey both set
 * them up: one policy shape, one approval key, one tools/call as Envoy hands it over after extauthz allowed it.
 */
public final class HeldToolCalls {
    private HeldToolCalls() {}

    /** The key approvals are bound with: outside the database, as in production. */
    public static final byte[] APPROVAL_KEY =
            "approval-hmac-key-kept-outside-the-db-0001".getBytes(StandardCharsets.UTF_8);

    /** A dlp.yaml whose MCP route on {@code mcp.local/mcp} masks cards and holds tools as {@code approval} says. */
    public static String policy(String approval) {
        return mcpRoute("mcp_approval: " + approval + "\n");
    }

    /** A dlp.yaml whose MCP route on {@code mcp.local/mcp} masks cards, with {@code keys} (YAML) added to its profile. */
    public static String mcpRoute(String keys) {
        return """
                version: 1
                profiles:
                  - name: mcp
                    match: {hosts: [mcp.local], paths: ["/mcp"]}
                    mcp: true
                    request: {detectors: {card: mask}}
                """ + keys.indent(4);
    }

    /** The approvals the DLP server looks held calls up in. */
    public static McpToolApprovals approvals(DataSource db, Clock clock) {
        return new McpToolApprovals(db, APPROVAL_KEY, clock);
    }

    /** The request headers of a tools/call of {@code tool}, then {@code more} (name, value, …). */
    public static String[] headers(String tool, String... more) {
        List<String> kv = new ArrayList<>(List.of(
                ":method", "POST",
                ":path", "/mcp",
                ":authority", "mcp.local",
                "content-type", "application/json",
                "mcp-protocol-version", "2026-07-28",
                "mcp-method", "tools/call",
                "mcp-name", tool));
        kv.addAll(List.of(more));
        return kv.toArray(String[]::new);
    }

    /** The JSON-RPC body of a tools/call of {@code tool} with {@code arguments} (a JSON object). */
    public static String body(String tool, String arguments) {
        return "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":\"" + tool
                + "\",\"arguments\":" + arguments
                + ",\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\"}}}";
    }

    /**
     * Envoy's side of one tools/call of {@code tool} on the MCP route, the body whole, over real gRPC: the server's
     * answer to the body (or to the headers, when it answered there), or the {@link Throwable} that ended the stream (a
     * server with no policy in force refuses it).
     */
    public static Object callTool(ManagedChannel channel, String tool, String arguments) throws InterruptedException {
        try (EnvoyStream s = new EnvoyStream(channel, BodySendMode.BUFFERED, BodySendMode.NONE)) {
            s.requestHeaders(false, headers(tool));
            Object first = s.nextEvent(Duration.ofSeconds(30));
            if (!(first instanceof ProcessingResponse headers) || headers.hasImmediateResponse()) {
                return first;
            }
            s.requestBody(body(tool, arguments).getBytes(StandardCharsets.UTF_8), true);
            return s.nextEvent(Duration.ofSeconds(30));
        }
    }
}
