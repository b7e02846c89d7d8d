package io.meshguard.cli.xds;

import com.fasterxml.jackson.databind.JsonNode;
import io.meshguard.xds.approval.ReplayReport;

/** What a publish request and a policy request share as people read them: who asked, who decided, the report. */
final class RequestText {
    private RequestText() {}

    static void requested(StringBuilder sb, JsonNode q) {
        sb.append("requested by ")
                .append(people(q).name(q.path("requested_by").asText()))
                .append(" at ")
                .append(q.path("requested_at").asText())
                .append(": ")
                .append(q.path("reason").asText())
                .append('\n');
    }

    static void decided(StringBuilder sb, JsonNode q) {
        if (q.hasNonNull("decided_by")) {
            sb.append("decided by ")
                    .append(people(q).name(q.path("decided_by").asText()))
                    .append(" at ")
                    .append(q.path("decided_at").asText())
                    .append(": ")
                    .append(q.path("decision_reason").asText())
                    .append('\n');
        }
    }

    private static People people(JsonNode q) {
        return People.in(java.util.List.of(q), "requested_by", "decided_by");
    }

    /** The replay report's sentences, or the command that computes one ({@code compute}). */
    static void report(StringBuilder sb, JsonNode q, String compute) {
        if (q.hasNonNull("report")) {
            sb.append(ReplayReport.fromJson(q.get("report")).render());
            if (!q.path("report_current").asBoolean(true)) {
                sb.append("(the report is older than the request: compute it again before approving)\n");
            }
        } else {
            sb.append("no replay report yet: `").append(compute).append("`\n");
        }
    }
}
