package io.meshguard.cli.xds;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.meshguard.xds.approval.PolicyBundle;
import io.meshguard.xds.approval.PolicyChanges;
import io.meshguard.xds.model.ConfigJson;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code meshguard policy requests open|list|show|approve|reject|report}: four eyes on the policy files (extauthz's
 * authz files, the DLP server's dlp.yaml), each verb one admin API call as the signed-in caller ({@code /policy-requests}), so the server decides who may
 * approve and records every step in the admin trail. {@code show} prints the request's replay report and diff.
 */
@Command(
        name = "requests",
        mixinStandardHelpOptions = true,
        description = "Policy change requests (four eyes on the authz files and dlp.yaml): open, list, show,"
                + " approve, reject, report.",
        subcommands = {
            PolicyRequestsCommand.Open.class,
            PolicyRequestsCommand.ListRequests.class,
            PolicyRequestsCommand.Show.class,
            PolicyRequestsCommand.Approve.class,
            PolicyRequestsCommand.Reject.class,
            PolicyRequestsCommand.Report.class
        })
public final class PolicyRequestsCommand extends VerbGroup {
    /** The file the DLP server reads (the name is part of the digest an approval names). */
    static final String DLP_FILE = "dlp.yaml";

    /**
     * {@code POST /policy-requests}: the files at PATH, read as their server reads them, with their replay report. The
     * policy is {@code --policy}, else {@code dlp} for a file named dlp.yaml, else {@code authz}.
     */
    @Command(
            name = "open",
            mixinStandardHelpOptions = true,
            description = "Request a policy's files at PATH (authz: the file or directory extauthz reads; dlp: the"
                    + " dlp.yaml the DLP server reads, or the directory holding it): prints the request with its diff"
                    + " and the replay report of the last 30 days' decisions (dlp: findings and tool calls).")
    public static final class Open implements Callable<Integer> {
        @Parameters(
                index = "0",
                paramLabel = "PATH",
                description = "authz.yaml or the directory extauthz reads; dlp.yaml or the directory holding it.")
        Path path;

        @Option(
                names = "--policy",
                paramLabel = "POLICY",
                description = "authz or dlp (default: dlp for a file named dlp.yaml, else authz).")
        String policy;

        @Option(names = "--reason", required = true, description = "Why (kept with the request and in the trail).")
        String reason;

        @Mixin
        AdminOptions admin;

        @Override
        public Integer call() throws Exception {
            String which = policy(policy, path);
            ObjectNode body = ConfigJson.mapper().createObjectNode();
            body.put("policy", which);
            body.set("files", PolicyBundle.read(files(which, path)).toJson());
            body.put("reason", reason);
            return printRequest("policy request", admin.client().send("POST", "/policy-requests", body.toString()));
        }

        /** {@code --policy}, else what PATH names: dlp.yaml is the DLP server's file, the rest extauthz's. */
        static String policy(String option, Path path) {
            if (option != null) {
                return option;
            }
            return path.getFileName() != null && path.getFileName().toString().equals(DLP_FILE)
                    ? PolicyChanges.DLP
                    : PolicyChanges.AUTHZ;
        }

        /** The DLP server reads one file: a directory stands for the dlp.yaml in it. */
        static Path files(String policy, Path path) {
            return policy.equals(PolicyChanges.DLP) && Files.isDirectory(path) ? path.resolve(DLP_FILE) : path;
        }
    }

    /** {@code GET /policy-requests}: one line per request, newest first. */
    @Command(name = "list", mixinStandardHelpOptions = true, description = "Policy requests, newest first.")
    public static final class ListRequests implements Callable<Integer> {
        @Mixin
        AdminOptions admin;

        @Override
        public Integer call() throws Exception {
            return AdminAnswer.table(
                    "policy requests list",
                    admin.client().send("GET", "/policy-requests", null),
                    "no policy requests",
                    "%-6s %-7s %-10s %-20s %-14s %-10s %s%n",
                    new Object[] {"ID", "POLICY", "STATE", "REQUESTED BY", "DIGEST", "FLIPPED", "REASON"},
                    (people, q) -> new Object[] {
                        q.path("id").asText(),
                        q.path("policy").asText(),
                        q.path("state").asText(),
                        people.name(q.path("requested_by").asText()),
                        q.path("digest")
                                .asText()
                                .substring(
                                        0,
                                        Math.min(12, q.path("digest").asText().length())),
                        q.path("report").isMissingNode()
                                ? "-"
                                : q.path("report").path("flipped").asText(),
                        q.path("reason").asText()
                    });
        }
    }

    /** {@code GET /policy-requests/{id}}: the request, its replay report and its diff. */
    @Command(
            name = "show",
            mixinStandardHelpOptions = true,
            description = "One policy request: who asked and why, the replay report (flips by tenant, route, caller and"
                    + " rule, with sample request ids), and the diff.")
    public static final class Show implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "ID", description = "The request's id (see `policy requests list`).")
        long id;

        @Option(names = "--json", description = "Print the admin API's JSON.")
        boolean json;

        @Mixin
        AdminOptions admin;

        @Override
        public Integer call() throws Exception {
            HttpResponse<String> r = admin.client().send("GET", "/policy-requests/" + id, null);
            return json ? AdminAnswer.print("policy request", r) : printRequest("policy request", r);
        }
    }

    /** {@code POST /policy-requests/{id}/approve}. */
    @Command(
            name = "approve",
            mixinStandardHelpOptions = true,
            description = "Approve: the policy's server (extauthz, the DLP server) may enforce exactly the requested"
                    + " files (a second person only).")
    public static final class Approve extends Decision {
        public Approve() {
            super("/policy-requests", PolicyRequestsCommand::printRequest);
        }
    }

    /** {@code POST /policy-requests/{id}/reject}. */
    @Command(name = "reject", mixinStandardHelpOptions = true, description = "Reject a policy request.")
    public static final class Reject extends Decision {
        public Reject() {
            super("/policy-requests", PolicyRequestsCommand::printRequest);
        }
    }

    /** {@code POST /policy-requests/{id}/report}: the replay report computed again on the stored files. */
    @Command(
            name = "report",
            mixinStandardHelpOptions = true,
            description = "Compute the request's replay report again (the last 30 days).")
    public static final class Report implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "ID")
        long id;

        @Mixin
        AdminOptions admin;

        @Override
        public Integer call() throws Exception {
            return printRequest("report", admin.client().send("POST", "/policy-requests/" + id + "/report", "{}"));
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

    /** A request's header, replay report and diff as text. */
    static String render(JsonNode q) {
        StringBuilder sb = new StringBuilder();
        sb.append("policy request ")
                .append(q.path("id").asText())
                .append(" (")
                .append(q.path("policy").asText())
                .append("): ")
                .append(q.path("state").asText())
                .append('\n');
        RequestText.requested(sb, q);
        sb.append("digest ").append(q.path("digest").asText()).append('\n');
        RequestText.decided(sb, q);
        RequestText.report(
                sb, q, "meshguard policy requests report " + q.path("id").asText());
        sb.append(q.path("diff").asText());
        return sb.toString();
    }
}
