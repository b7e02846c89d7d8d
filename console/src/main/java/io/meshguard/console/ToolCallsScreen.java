package io.meshguard.console;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.meshguard.access.AdminGate;
import io.meshguard.access.Scope;
import io.meshguard.runtime.http.AdminJson;
import io.meshguard.xds.approval.ToolCallApprovals;
import io.meshguard.xds.model.ConfigJson;
import java.util.List;

/**
 * Held tool calls: the MCP tool calls the DLP server holds for two people, each with its binding (tool, MCP server,
 * the delegating caller, the agent and its owner), the masked arguments the DLP server recorded, its expiry and the
 * approvals so far. Approve and reject call {@link ToolCallApprovals}, the same code as {@code POST
 * /tool-approvals/{id}/approve}, so the four-eyes rules (neither the caller nor the agent's owner, not break-glass, one
 * vote per person, two to run) and the trail rows are the API's.
 */
public record ToolCallsScreen(ToolCallApprovals toolCalls, AdminGate gate) {

    /** The held calls, newest first: those waiting for approvers, then those decided, expired or run. */
    Views.ToolCalls page(Console.Request req, Views.Chrome chrome) {
        boolean mayDecide = gate.permits(req.caller(), "tool-call:approve", Scope.SYSTEM);
        List<Views.ToolCallRow> rows = toolCalls.list(req.requestId()).stream()
                .map(t -> row(t, mayDecide))
                .toList();
        return new Views.ToolCalls(
                chrome,
                rows.stream().filter(r -> r.state().equals("pending")).toList(),
                rows.stream().filter(r -> !r.state().equals("pending")).toList());
    }

    private static Views.ToolCallRow row(ToolCallApprovals.ToolCall t, boolean mayDecide) {
        return new Views.ToolCallRow(
                t.id(),
                t.state(),
                t.tool(),
                t.server(),
                t.caller(),
                t.agent(),
                t.agentOwner(),
                arguments(t),
                RevisionsScreen.time(t.requestedAt()),
                RevisionsScreen.time(t.expiresAt()),
                t.approvedBy().stream().map(Views.Person::of).toList(),
                t.approvedBy().size() + " of " + ToolCallApprovals.APPROVERS,
                t.decisionReason().orElse(""),
                t.state().equals("pending") && mayDecide,
                "/console/audit?route=tool-approvals%2F" + t.id() + "&since=90d");
    }

    /** The masked arguments as the DLP server recorded them (never the values it masked), indented to be read. */
    private static String arguments(ToolCallApprovals.ToolCall t) {
        try {
            return ConfigJson.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(t.maskedArguments());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot show the arguments of tool call " + t.id(), e);
        }
    }

    /** approve or reject, with the reason typed beside the buttons; a refusal is the next page's message. */
    Console.Outcome decide(Console.Request req, boolean approve) {
        long id = Console.number(req.segment(2), "tool call approval");
        try {
            ToolCallApprovals.ToolCall t = approve
                    ? toolCalls.approve(id, req.caller().person(), req.param("reason"), req.requestId())
                    : toolCalls.reject(id, req.caller().person(), req.param("reason"), req.requestId());
            String done =
                    switch (t.state()) {
                        case "approved" ->
                            "Tool call " + id + " approved by "
                                    + String.join(
                                            " and ",
                                            t.approvedBy().stream()
                                                    .map(a -> Views.Person.of(a).name())
                                                    .toList())
                                    + ": the client's retry runs it once.";
                        case "rejected" -> "Tool call " + id + " rejected: it never runs.";
                        default ->
                            "Tool call " + id + ": your approval is recorded ("
                                    + t.approvedBy().size() + " of " + ToolCallApprovals.APPROVERS
                                    + "); it needs another person.";
                    };
            return new Console.Outcome(true, done);
        } catch (AdminJson.Refusal e) {
            return new Console.Outcome(false, e.getMessage());
        }
    }
}
