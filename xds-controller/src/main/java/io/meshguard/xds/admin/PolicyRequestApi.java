package io.meshguard.xds.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.meshguard.access.AdminGate;
import io.meshguard.access.AdminOperation;
import io.meshguard.access.AdminOperations;
import io.meshguard.access.AdminRoute;
import io.meshguard.access.http.AdminEndpoint;
import io.meshguard.access.http.AdminRequest;
import io.meshguard.runtime.http.AdminJson;
import io.meshguard.runtime.http.ErrorKind;
import io.meshguard.xds.approval.PolicyBundle;
import io.meshguard.xds.approval.PolicyChanges;
import io.meshguard.xds.approval.PolicyRequest;
import io.meshguard.xds.approval.ToolCallApprovals;
import io.meshguard.xds.model.ConfigJson;
import java.io.IOException;
import java.util.List;

/**
 * Four eyes on the policy files through the admin plane, behind the same {@link AdminGate} as every other
 * admin operation; the console calls the same {@link PolicyChanges}. Permissions are the platform's (system scope):
 * {@code policy:read} lists and shows requests with their diff and replay report, {@code policy:request} asks for files
 * (and recomputes a report), {@code policy:approve} decides. A report's sample request ids lead to their audit rows
 * ({@code GET /audit/events?request_id=}).
 *
 * <p>The same handler serves {@code /tool-approvals}: MCP tool calls held for two approvers ({@link ToolCallApprovals};
 * {@code tool-call:read} lists and shows them with their masked arguments, {@code tool-call:approve} decides).
 */
public final class PolicyRequestApi implements HttpHandler {
    public static final String PREFIX = "/policy-requests";
    /** The held MCP tool calls, served by this handler too. */
    public static final String TOOL_APPROVALS = "/tool-approvals";
    /** The largest request body: a bundle of policy files. */
    static final int MAX_BODY_BYTES = 4 * 1024 * 1024;

    private static final AdminOperations<AdminEndpoint.Handler<PolicyRequestApi>> OPERATIONS = AdminOperations.of(
            AdminOperation.of(
                    AdminRoute.system("GET", "/policy-requests", "policy:read"),
                    "Policy change requests, newest first (at most 100), each with its digest, state and report counts",
                    (a, r) -> a.list()),
            AdminOperation.created(
                    AdminRoute.system("POST", "/policy-requests", "policy:request"),
                    "Request a change of a policy's files ({\"policy\": \"authz\" (default) or \"dlp\", \"files\":"
                            + " [{\"file\", \"text\"}], \"reason\"}): validated, diffed against the policy's last"
                            + " approved files, and replayed over the recorded decisions (dlp: findings and tool calls)"
                            + " of the last 30 days; voids a pending request of the same policy it replaces",
                    (a, r) -> a.request(r)),
            AdminOperation.of(
                    AdminRoute.system("GET", "/policy-requests/{id}", "policy:read"),
                    "One policy request: digest, diff, replay report (counts, flip groups, sample request ids), decision",
                    (a, r) -> a.show(number(r.segment(1)))),
            AdminOperation.of(
                    AdminRoute.system("GET", "/policy-requests/{id}/files", "policy:read"),
                    "The requested files exactly as stored (what an approval lets the policy's server enforce)",
                    (a, r) -> a.files(number(r.segment(1)))),
            AdminOperation.of(
                    AdminRoute.system("POST", "/policy-requests/{id}/report", "policy:request"),
                    "Compute the request's replay report again on its stored files (the last 30 days)",
                    (a, r) -> tree(
                            a.changes.recompute(number(r.segment(1)), r.caller().person(), r.requestId()))),
            AdminOperation.of(
                    AdminRoute.system("POST", "/policy-requests/{id}/approve", "policy:approve"),
                    "Approve: the policy's server (extauthz, the DLP server) may enforce exactly these files (not by"
                            + " the requester; needs a report computed since the request)",
                    (a, r) -> tree(
                            a.changes.approve(number(r.segment(1)), r.caller().person(), r.requestId(), reason(r)))),
            AdminOperation.of(
                    AdminRoute.system("POST", "/policy-requests/{id}/reject", "policy:approve"),
                    "Reject a policy request",
                    (a, r) -> tree(
                            a.changes.reject(number(r.segment(1)), r.caller().person(), r.requestId(), reason(r)))),
            AdminOperation.of(
                    AdminRoute.system("GET", "/tool-approvals", "tool-call:read"),
                    "MCP tool calls held for approval, newest first (at most 100): binding, masked arguments,"
                            + " approvers so far; closes those past their expiry first",
                    (a, r) -> a.toolCalls(r.requestId())),
            AdminOperation.of(
                    AdminRoute.system("GET", "/tool-approvals/{id}", "tool-call:read"),
                    "One held tool call",
                    (a, r) -> toolCall(a.toolCalls
                            .get(number(r.segment(1)))
                            .orElseThrow(() -> new AdminJson.Refusal(
                                    ErrorKind.NOT_FOUND, "no tool call approval " + r.segment(1))))),
            AdminOperation.of(
                    AdminRoute.system("POST", "/tool-approvals/{id}/approve", "tool-call:approve"),
                    "Approve a held call ({\"reason\"}); the second distinct person's approval lets the client's"
                            + " retry run it once (not the caller, not the agent's owner, not break-glass)",
                    (a, r) -> toolCall(
                            a.toolCalls.approve(number(r.segment(1)), r.caller().person(), reason(r), r.requestId()))),
            AdminOperation.of(
                    AdminRoute.system("POST", "/tool-approvals/{id}/reject", "tool-call:approve"),
                    "Reject a held call ({\"reason\"}): it never runs",
                    (a, r) -> toolCall(
                            a.toolCalls.reject(number(r.segment(1)), r.caller().person(), reason(r), r.requestId()))));

    /** The declared operations: what the port's OpenAPI document lists. */
    public static List<? extends AdminOperation<?>> operations() {
        return OPERATIONS.all();
    }

    public static final List<AdminRoute> ROUTES = OPERATIONS.routes();

    private final PolicyChanges changes;
    private final ToolCallApprovals toolCalls;
    private final AdminEndpoint<PolicyRequestApi> endpoint;

    public PolicyRequestApi(PolicyChanges changes, ToolCallApprovals toolCalls, AdminGate gate) {
        this.changes = changes;
        this.toolCalls = toolCalls;
        this.endpoint = AdminEndpoint.of(this, OPERATIONS, gate, "controller", MAX_BODY_BYTES)
                .indented();
    }

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        endpoint.handle(exchange);
    }

    private JsonNode list() {
        ArrayNode out = ConfigJson.mapper().createArrayNode();
        for (PolicyRequest r : changes.store().list()) {
            ObjectNode n = summary(r);
            out.add(n);
        }
        return out;
    }

    private JsonNode toolCalls(String requestId) {
        ArrayNode out = ConfigJson.mapper().createArrayNode();
        toolCalls.list(requestId).forEach(t -> out.add(toolCall(t)));
        return out;
    }

    private static JsonNode toolCall(ToolCallApprovals.ToolCall t) {
        return ConfigJson.mapper().valueToTree(t);
    }

    private JsonNode show(long id) {
        return tree(changes.store().get(id).orElseThrow(() -> new AdminJson.Refusal(404, "no policy request " + id)));
    }

    private JsonNode files(long id) {
        if (changes.store().get(id).isEmpty()) {
            throw new AdminJson.Refusal(404, "no policy request " + id);
        }
        return changes.store().files(id).toJson();
    }

    private JsonNode request(AdminRequest r) {
        JsonNode body = r.body();
        PolicyBundle files = PolicyBundle.fromJson(body.get("files"));
        return tree(changes.request(
                body.path("policy").asText(PolicyChanges.AUTHZ),
                r.caller().person(),
                r.requestId(),
                files,
                body.path("reason").asText("")));
    }

    /** A request without its diff and report groups: one line of a list. */
    private static ObjectNode summary(PolicyRequest r) {
        ObjectNode n = (ObjectNode) tree(r);
        n.remove("diff");
        n.remove("report");
        r.report().ifPresent(rep -> n.putObject("report")
                .put("decisions", rep.decisions())
                .put("flipped", rep.flipped())
                .put("not_replayable", rep.notReplayable())
                .put("computed_at", rep.computedAt().toString()));
        return n;
    }

    /** The request as JSON, with whether its report allows a decision. */
    static JsonNode tree(PolicyRequest r) {
        ObjectNode n = ConfigJson.mapper().valueToTree(r);
        n.put("report_current", r.reportCurrent());
        return n;
    }

    private static String reason(AdminRequest r) {
        return r.body().path("reason").asText("");
    }

    private static long number(String text) {
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new AdminJson.Refusal(ErrorKind.NOT_FOUND, "no such request " + text);
        }
    }
}
