package io.meshguard.cli.xds;

import com.fasterxml.jackson.databind.JsonNode;
import io.meshguard.xds.model.ConfigJson;
import java.net.http.HttpResponse;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code meshguard xds approvals list|show|report|approve|reject}: four eyes on protected gateway groups from the command
 * line, as thin as {@code xds publish}: each verb is one admin API call as the signed-in caller, so the server decides
 * who may approve (not the requester, not an author of the change) and records it in the admin trail.
 */
@Command(
        name = "approvals",
        mixinStandardHelpOptions = true,
        description = "Publish requests of protected gateway groups: list, show, report, approve, reject (four eyes).",
        subcommands = {
            XdsApprovalsCommand.ListCommand.class,
            XdsApprovalsCommand.ShowCommand.class,
            XdsApprovalsCommand.ReportCommand.class,
            XdsApprovalsCommand.ApproveCommand.class,
            XdsApprovalsCommand.RejectCommand.class
        })
public final class XdsApprovalsCommand extends VerbGroup {

    /**
     * {@code GET /publish-requests}, or {@code GET /groups/{G}/publish-requests} with {@code --group} (which the
     * group's own gateway owners may call): one line per request, newest first.
     */
    @Command(
            name = "list",
            mixinStandardHelpOptions = true,
            description = "Publish requests, newest first (GET /publish-requests): id, group, state, who asked, why.")
    public static final class ListCommand implements Callable<Integer> {
        @Mixin
        AdminOptions admin;

        @Option(names = "--group", description = "Only this gateway group's requests.")
        String group;

        @Option(names = "--json", description = "Print the admin API's JSON instead of one line per request.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            String path = group == null
                    ? "/publish-requests"
                    : "/groups/" + AdminOptions.segment(group) + "/publish-requests";
            HttpResponse<String> r = admin.client().send("GET", path, null);
            if (json) {
                return AdminAnswer.print("approvals list", r);
            }
            return AdminAnswer.table(
                    "approvals list",
                    r,
                    "no publish requests" + (group == null ? "" : " for group " + group),
                    "%-6s %-20s %-10s %-20s %-25s %s%n",
                    new Object[] {"ID", "GROUP", "STATE", "REQUESTED BY", "REQUESTED AT", "REASON"},
                    (people, q) -> new Object[] {
                        q.path("id").asText(),
                        q.path("group").asText(),
                        q.path("state").asText(),
                        people.name(q.path("requested_by").asText()),
                        q.path("requested_at").asText(),
                        q.path("reason").asText()
                    });
        }
    }

    /**
     * {@code GET /publish-requests/{group}/{id}}: the request with its replay report (what the requested revision would
     * have done to the group's recorded decisions), its authors and the diff.
     */
    @Command(
            name = "show",
            mixinStandardHelpOptions = true,
            description = "One publish request: its replay report, who changed it and the diff that an approval would"
                    + " publish.")
    public static final class ShowCommand implements Callable<Integer> {
        @Mixin
        PublishRequest request;

        @Mixin
        AdminOptions admin;

        @Option(names = "--json", description = "Print the admin API's JSON instead of the text.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            HttpResponse<String> r = admin.client().send("GET", request.path(""), null);
            return json ? AdminAnswer.print("approvals show", r) : printRequest("approvals show", r);
        }
    }

    /** {@code POST /publish-requests/{group}/{id}/report}: the replay report computed again on the requested content. */
    @Command(
            name = "report",
            mixinStandardHelpOptions = true,
            description =
                    "Compute a pending request's replay report again on exactly the requested content (the last 30"
                            + " days of recorded decisions); an approval needs one computed since the request.")
    public static final class ReportCommand implements Callable<Integer> {
        @Mixin
        PublishRequest request;

        @Mixin
        AdminOptions admin;

        @Override
        public Integer call() throws Exception {
            return printRequest("approvals report", admin.client().send("POST", request.path("/report"), "{}"));
        }
    }

    /** A publish request as people read it: who asked, its replay report, its authors, the diff (JSON). */
    static String render(JsonNode q) {
        StringBuilder sb = new StringBuilder();
        sb.append("publish request ")
                .append(q.path("id").asText())
                .append(" (group ")
                .append(q.path("group").asText())
                .append("): ")
                .append(q.path("state").asText())
                .append('\n');
        RequestText.requested(sb, q);
        java.util.List<String> authors = new java.util.ArrayList<>();
        q.path("authors").forEach(a -> authors.add(a.asText()));
        sb.append("authors: ").append(String.join(", ", authors)).append('\n');
        RequestText.decided(sb, q);
        RequestText.report(
                sb,
                q,
                "meshguard xds approvals report " + q.path("group").asText() + " "
                        + q.path("id").asText());
        sb.append("diff against what the group serves:\n");
        try {
            sb.append(ConfigJson.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(q.path("diff")))
                    .append('\n');
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            sb.append(q.path("diff").toString()).append('\n');
        }
        return sb.toString();
    }

    /** {@code POST /publish-requests/{group}/{id}/approve}: publishes exactly what was requested. */
    @Command(
            name = "approve",
            mixinStandardHelpOptions = true,
            description = "Approve a publish request: publishes exactly the requested change (a second person only).")
    public static final class ApproveCommand implements Callable<Integer> {
        @Mixin
        PublishRequest request;

        @Mixin
        AdminOptions admin;

        @Option(
                names = "--reason",
                required = true,
                description = "Why (kept with the revision and in the admin trail).")
        String reason;

        @Override
        public Integer call() throws Exception {
            return AdminAnswer.print(
                    "approve", admin.client().send("POST", request.path("/approve"), AdminOptions.reason(reason)));
        }
    }

    /** {@code POST /publish-requests/{group}/{id}/reject}. */
    @Command(
            name = "reject",
            mixinStandardHelpOptions = true,
            description = "Reject a publish request; nothing is published.")
    public static final class RejectCommand implements Callable<Integer> {
        @Mixin
        PublishRequest request;

        @Mixin
        AdminOptions admin;

        @Option(
                names = "--reason",
                required = true,
                description = "Why (kept with the request and in the admin trail).")
        String reason;

        @Override
        public Integer call() throws Exception {
            return AdminAnswer.print(
                    "reject", admin.client().send("POST", request.path("/reject"), AdminOptions.reason(reason)));
        }
    }

    /** The GROUP and ID arguments naming one publish request (a picocli mixin). */
    static final class PublishRequest {
        @Parameters(index = "0", paramLabel = "GROUP", description = "The gateway group.")
        String group;

        @Parameters(index = "1", paramLabel = "ID", description = "The request's id (see `xds approvals list`).")
        long id;

        /** The request's admin API path, then {@code verb} ({@code ""} or {@code /approve} …). */
        String path(String verb) {
            return "/publish-requests/" + AdminOptions.segment(group) + "/" + id + verb;
        }
    }

    /** The request as people read it; the exit code is 0 for a 2xx answer, else 1. */
    static int printRequest(String what, HttpResponse<String> r) throws java.io.IOException {
        if (r.statusCode() / 100 != 2) {
            return AdminAnswer.print(what, r);
        }
        System.out.print(render(ConfigJson.mapper().readTree(r.body())));
        return 0;
    }
}
