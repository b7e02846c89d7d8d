package io.meshguard.cli.xds;

import com.fasterxml.jackson.databind.JsonNode;
import io.meshguard.xds.model.ConfigJson;
import java.net.http.HttpResponse;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/**
 * {@code meshguard xds tool-approvals list|show|approve|reject}: MCP tool calls held for two approvers, each verb one
 * admin API call as the signed-in caller ({@code /tool-approvals}), so the server decides who may approve (not the
 * caller, not the agent's owner, not break-glass, one person once) and records every step in the admin trail.
 */
@Command(
        name = "tool-approvals",
        mixinStandardHelpOptions = true,
        description = "MCP tool calls held for two approvers (dlp.yaml mcp_approval): list, show, approve, reject.",
        subcommands = {
            ToolApprovalsCommand.ListCalls.class,
            ToolApprovalsCommand.Show.class,
            ToolApprovalsCommand.Approve.class,
            ToolApprovalsCommand.Reject.class
        })
public final class ToolApprovalsCommand extends VerbGroup {

    /** {@code GET /tool-approvals}: one line per held call, newest first. */
    @Command(name = "list", mixinStandardHelpOptions = true, description = "Held tool calls, newest first.")
    public static final class ListCalls implements Callable<Integer> {
        @Mixin
        AdminOptions admin;

        @Override
        public Integer call() throws Exception {
            return AdminAnswer.table(
                    "tool approvals list",
                    admin.client().send("GET", "/tool-approvals", null),
                    "no held tool calls",
                    "%-6s %-9s %-20s %-16s %-16s %-9s %s%n",
                    new Object[] {"ID", "STATE", "TOOL", "CALLER", "AGENT", "APPROVED", "EXPIRES"},
                    (people, c) -> new Object[] {
                        c.path("id").asText(),
                        c.path("state").asText(),
                        c.path("tool").asText(),
                        c.path("caller").asText(),
                        c.path("agent").asText(),
                        c.path("approved_by").size() + "/2",
                        c.path("expires_at").asText()
                    });
        }
    }

    /** {@code GET /tool-approvals/{id}}: the binding and the masked arguments. */
    @Command(
            name = "show",
            mixinStandardHelpOptions = true,
            description = "One held call: caller, agent, server, tool, masked arguments, approvers, expiry.")
    public static final class Show implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "ID", description = "The call's id (see `xds tool-approvals list`).")
        long id;

        @Mixin
        AdminOptions admin;

        @Override
        public Integer call() throws Exception {
            return print("tool approval", admin.client().send("GET", "/tool-approvals/" + id, null));
        }
    }

    /** {@code POST /tool-approvals/{id}/approve}. */
    @Command(
            name = "approve",
            mixinStandardHelpOptions = true,
            description = "Approve a held call; the second person's approval lets the client's retry run it once.")
    public static final class Approve extends Decision {
        public Approve() {
            super("/tool-approvals", ToolApprovalsCommand::print);
        }
    }

    /** {@code POST /tool-approvals/{id}/reject}. */
    @Command(name = "reject", mixinStandardHelpOptions = true, description = "Reject a held call: it never runs.")
    public static final class Reject extends Decision {
        public Reject() {
            super("/tool-approvals", ToolApprovalsCommand::print);
        }
    }

    /** The call as people read it; the exit code is 0 for a 2xx answer, else 1. */
    static int print(String what, HttpResponse<String> r) throws java.io.IOException {
        if (r.statusCode() / 100 != 2) {
            return AdminAnswer.print(what, r);
        }
        JsonNode c = ConfigJson.mapper().readTree(r.body());
        StringBuilder sb = new StringBuilder();
        sb.append("tool call ")
                .append(c.path("id").asText())
                .append(": ")
                .append(c.path("state").asText())
                .append('\n');
        sb.append("tool      ")
                .append(c.path("tool").asText())
                .append(" on ")
                .append(c.path("server").asText());
        sb.append('\n');
        sb.append("caller    ")
                .append(c.path("caller").asText())
                .append(" (")
                .append(c.path("caller_issuer").asText())
                .append(")\n");
        sb.append("agent     ").append(c.path("agent").asText());
        if (!c.path("agent_owner").asText().isEmpty()) {
            sb.append(" (owner ").append(c.path("agent_owner").asText()).append(')');
        }
        sb.append('\n');
        sb.append("arguments ").append(c.path("masked_arguments")).append(" (masked by the route's DLP profile)\n");
        sb.append("approved  ");
        People people = People.in(java.util.List.of(c), "approved_by");
        c.path("approved_by").forEach(a -> sb.append(people.name(a.asText())).append(' '));
        sb.append('(').append(c.path("approved_by").size()).append("/2)\n");
        sb.append("expires   ").append(c.path("expires_at").asText()).append('\n');
        if (c.hasNonNull("decision_reason")
                && !c.path("decision_reason").asText().isEmpty()) {
            sb.append("decision  ").append(c.path("decision_reason").asText()).append('\n');
        }
        System.out.print(sb);
        return 0;
    }
}
