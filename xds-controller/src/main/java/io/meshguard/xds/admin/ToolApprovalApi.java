package io.meshguard.xds.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.meshguard.access.AdminGate;
import io.meshguard.access.AdminOperation;
import io.meshguard.access.AdminOperations;
import io.meshguard.access.AdminRoute;
import io.meshguard.access.AdminRouter;
import io.meshguard.access.Person;
import io.meshguard.runtime.http.AdminJson;
import io.meshguard.xds.approval.ToolCallApprovals;
import io.meshguard.xds.model.ConfigJson;
import java.io.IOException;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * MCP tool calls held for two approvers, through the admin plane (docs/agents.md "Two people for high-risk tools"):
 * {@code tool-call:read} lists and shows them with their masked arguments, {@code tool-call:approve} approves or
 * rejects. Every decision is a row of the admin trail.
 */
public final class ToolApprovalApi implements HttpHandler {
    private static final Logger LOG = LoggerFactory.getLogger(ToolApprovalApi.class);

    public static final String PREFIX = "/tool-approvals";

    @FunctionalInterface
    private interface Handler {
        JsonNode handle(ToolApprovalApi api, HttpExchange exchange, List<String> segments, Person caller, String id)
                throws IOException;
    }

    private static final AdminOperations<Handler> OPERATIONS = AdminOperations.of(
            AdminOperation.of(
                    AdminRoute.system("GET", "/tool-approvals", "tool-call:read"),
                    "MCP tool calls held for approval, newest first (at most 100): binding, masked arguments,"
                            + " approvers so far; closes those past their expiry first",
                    (a, ex, s, p, id) -> a.list(id)),
            AdminOperation.of(
                    AdminRoute.system("GET", "/tool-approvals/{id}", "tool-call:read"),
                    "One held tool call",
                    (a, ex, s, p, id) -> tree(a.approvals
                            .get(number(s.get(1)))
                            .orElseThrow(() -> new AdminJson.Refusal(404, "no tool call approval " + s.get(1))))),
            AdminOperation.of(
                    AdminRoute.system("POST", "/tool-approvals/{id}/approve", "tool-call:approve"),
                    "Approve a held call ({\"reason\"}); the second distinct person's approval lets the client's"
                            + " retry run it once (not the caller, not the agent's owner, not break-glass)",
                    (a, ex, s, p, id) -> tree(a.approvals.approve(number(s.get(1)), p, reason(ex), id))),
            AdminOperation.of(
                    AdminRoute.system("POST", "/tool-approvals/{id}/reject", "tool-call:approve"),
                    "Reject a held call ({\"reason\"}): it never runs",
                    (a, ex, s, p, id) -> tree(a.approvals.reject(number(s.get(1)), p, reason(ex), id))));

    /** The declared operations: what the port's OpenAPI document lists. */
    public static List<? extends AdminOperation<?>> operations() {
        return OPERATIONS.all();
    }

    public static final List<AdminRoute> ROUTES = OPERATIONS.routes();

    private final ToolCallApprovals approvals;
    private final AdminRouter router;

    public ToolApprovalApi(ToolCallApprovals approvals, AdminGate gate) {
        this.approvals = approvals;
        this.router = new AdminRouter(ROUTES, gate);
    }

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        String requestId = AdminRouter.requestId(exchange);
        try {
            List<String> segments =
                    AdminRouter.segments(exchange.getRequestURI().getRawPath());
            AdminRouter.Admitted call = router.admitOrRefuse(
                    exchange,
                    requestId,
                    segments,
                    () -> new AdminJson.Refusal(
                            404,
                            "no tool approval operation " + exchange.getRequestMethod() + " "
                                    + exchange.getRequestURI().getRawPath()));
            AdminOperation<Handler> operation = OPERATIONS.operation(call.route());
            JsonNode body = operation
                    .handler()
                    .handle(this, exchange, segments, call.caller().person(), requestId);
            AdminJson.send(exchange, operation.status(), body);
        } catch (AdminJson.Refusal e) {
            AdminJson.send(exchange, e.status(), AdminJson.error(e.getMessage()));
        } catch (IllegalArgumentException e) {
            AdminJson.send(exchange, 400, AdminJson.error(e.getMessage()));
        } catch (RuntimeException e) {
            LOG.error("tool approval call {} failed", requestId, e);
            AdminJson.send(
                    exchange, 500, AdminJson.error("internal error, see the controller log for request " + requestId));
        } finally {
            exchange.close();
        }
    }

    private JsonNode list(String requestId) {
        ArrayNode out = ConfigJson.mapper().createArrayNode();
        approvals.list(requestId).forEach(t -> out.add(tree(t)));
        return out;
    }

    private static JsonNode tree(ToolCallApprovals.ToolCall t) {
        return ConfigJson.mapper().valueToTree(t);
    }

    private static String reason(HttpExchange exchange) throws IOException {
        return AdminJson.readObject(exchange, 64 * 1024).path("reason").asText("");
    }

    private static long number(String text) {
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new AdminJson.Refusal(404, "no tool call approval " + text);
        }
    }
}
