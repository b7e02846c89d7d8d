package io.meshguard.dlpserver;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.meshguard.dlp.policy.McpApproval;
import io.meshguard.dlpserver.approval.McpToolApprovals;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether an MCP tool call of a profile with {@code mcp_approval:} runs now (docs/agents.md "Two people for high-risk
 * tools"). A call of a held tool without a reference is held: a pending approval bound to the caller, agent, server,
 * tool, argument digest and policy version is opened, and the client is answered 403 with its reference. A retry runs
 * only when {@link McpToolApprovals#redeem} says so. Without an approvals database a held tool never runs (503).
 *
 * <p>The caller and agent are read from the identity headers extauthz sets on its allow (and strips from what a client
 * sends): the DLP server must sit behind extauthz on every route whose profile holds tools.
 */
final class ToolApprovalGate {
    private static final Logger LOG = LoggerFactory.getLogger(ToolApprovalGate.class);

    /** The request header a retry carries the approval reference in. */
    static final String REFERENCE_HEADER = "x-mcp-approval";

    /** JSON-RPC error of a held call (implementation-defined server error range). */
    static final int APPROVAL_REQUIRED = -32090;

    /** JSON-RPC error of a retry whose approval does not hold. */
    static final int APPROVAL_REFUSED = -32091;

    private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build());

    /** Who calls, as extauthz's identity headers say (defaults of {@code settings.identity_headers}). */
    record Identity(String caller, String issuer, String agent) {
        static final Identity NONE = new Identity("", "", "");

        static Identity of(Map<String, String> headers) {
            return new Identity(
                    headers.getOrDefault("x-user-id", ""),
                    headers.getOrDefault("x-auth-issuer", ""),
                    headers.getOrDefault("x-client-id", ""));
        }
    }

    /** A call that does not run now: the HTTP status, the problem code and the JSON-RPC error body. */
    record Answer(int status, String code, String body) {}

    private final Optional<McpToolApprovals> approvals;
    private final MeterRegistry registry;

    ToolApprovalGate(Optional<McpToolApprovals> approvals, MeterRegistry registry) {
        this.approvals = approvals;
        this.registry = registry;
    }

    /**
     * @param whole the request body as the client sent it (the digest is over its arguments)
     * @param scanned the body after the profile's scan (approvers see its arguments: masked, redacted, hashed)
     * @return empty when the call goes on
     */
    Optional<Answer> decide(
            McpApproval rule,
            String policyVersion,
            String server,
            Identity who,
            String reference,
            byte[] whole,
            byte[] scanned) {
        JsonNode root = read(whole);
        String id = jsonRpcId(root);
        if (!"tools/call".equals(text(root.path("method")))) {
            return Optional.empty();
        }
        String tool = text(root.path("params").path("name"));
        if (!rule.holds(tool)) {
            return Optional.empty();
        }
        if (approvals.isEmpty()) {
            count(tool, "unavailable");
            return Optional.of(refused(
                    503, "mcp_approval_unavailable", id, "tool " + tool + " needs approval; no approvals database"));
        }
        if (who.caller().isEmpty() && who.agent().isEmpty()) {
            count(tool, "anonymous");
            return Optional.of(refused(
                    403,
                    "mcp_approval_anonymous",
                    id,
                    "tool " + tool + " needs approval of a known caller; the request carries no identity"));
        }
        McpToolApprovals store = approvals.get();
        McpToolApprovals.Call call = new McpToolApprovals.Call(
                who.caller(),
                who.issuer(),
                who.agent(),
                rule.agentOwners().getOrDefault(who.agent(), ""),
                server,
                tool,
                store.digest(Optional.ofNullable(root.path("params").get("arguments"))),
                policyVersion);
        try {
            if (reference.isEmpty()) {
                JsonNode masked = read(scanned).path("params").path("arguments");
                McpToolApprovals.Held held =
                        store.hold(call, masked.isMissingNode() ? JSON.createObjectNode() : masked, rule.expires());
                count(tool, "held");
                LOG.atInfo()
                        .addKeyValue("event", "mcp_tool_call_held")
                        .addKeyValue("approval_id", held.id())
                        .addKeyValue("tool", tool)
                        .addKeyValue("server", server)
                        .log("MCP tool call {} held for two approvers: approval {}", tool, held.id());
                ObjectNode data = JSON.createObjectNode()
                        .put("approval", held.reference())
                        .put("approval_id", held.id())
                        .put("expires_at", held.expiresAt().toString())
                        .put("approvers_needed", 2)
                        .put("retry_header", REFERENCE_HEADER);
                return Optional.of(new Answer(
                        403,
                        "mcp_approval_required",
                        errorBody(
                                id,
                                APPROVAL_REQUIRED,
                                "Tool " + tool + " runs after two people approve this call; retry it unchanged with"
                                        + " header " + REFERENCE_HEADER + " once approved",
                                Optional.of(data))));
            }
            McpToolApprovals.Redemption r = store.redeem(reference, call);
            if (r instanceof McpToolApprovals.Refused no) {
                count(tool, no.code());
                return Optional.of(refused(403, no.code(), id, no.message()));
            }
            count(tool, "runs");
            return Optional.empty();
        } catch (IllegalStateException e) {
            // the database is away: a held tool never runs unapproved
            LOG.warn("MCP tool approval of {} not decidable: {}", tool, e.getMessage());
            count(tool, "unavailable");
            return Optional.of(
                    refused(503, "mcp_approval_unavailable", id, "tool approvals cannot be read now; retry later"));
        }
    }

    private void count(String tool, String result) {
        Counter.builder("meshguard.dlp.mcp.approval")
                .description("MCP tool calls of tools held for approval, by what happened to them")
                .tag("tool", tool)
                .tag("result", result)
                .register(registry)
                .increment();
    }

    private static Answer refused(int status, String code, String id, String message) {
        return new Answer(
                status,
                code,
                errorBody(
                        id,
                        APPROVAL_REFUSED,
                        message,
                        Optional.of(JSON.createObjectNode().put("problem", code))));
    }

    private static String errorBody(String id, int code, String message, Optional<ObjectNode> data) {
        ObjectNode error = JSON.createObjectNode().put("code", code).put("message", message);
        data.ifPresent(d -> error.set("data", d));
        return "{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"error\":" + error + "}";
    }

    /** The body parity already read as one JSON object; a body it could not read is never held here. */
    private static JsonNode read(byte[] body) {
        try {
            JsonNode n = JSON.readTree(body);
            return n == null ? JSON.createObjectNode() : n;
        } catch (IOException e) {
            return JSON.createObjectNode();
        }
    }

    private static String jsonRpcId(JsonNode root) {
        JsonNode id = root.get("id");
        return id != null && (id.isTextual() || id.isIntegralNumber()) ? id.toString() : "null";
    }

    private static String text(JsonNode n) {
        return n.isTextual() ? n.asText() : "";
    }
}
