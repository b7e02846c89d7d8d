package io.meshguard.cli.canary;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshguard.cli.xds.AdminClient;
import java.io.IOException;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * A canary's audit rows through the admin plane's {@code GET /audit/events?trace_id=} as a caller with
 * {@code audit:read} (system scope: an expired token's Check row has no tenant), the same gate and row-level security
 * as {@code meshguard audit query}.
 */
public final class AuditApiEvidence implements CanaryEvidence {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final AdminClient admin;

    public AuditApiEvidence(AdminClient admin) {
        this.admin = admin;
    }

    @Override
    public List<Row> rows(String traceId, Instant since) throws IOException, InterruptedException {
        HttpResponse<String> r = admin.send(
                "GET",
                "/audit/events?since=" + URLEncoder.encode(since.toString(), StandardCharsets.UTF_8) + "&trace_id="
                        + URLEncoder.encode(traceId, StandardCharsets.UTF_8) + "&limit=100",
                null);
        if (r.statusCode() != 200) {
            throw new IOException("the audit API answered " + r.statusCode() + ": "
                    + cut(r.body().strip()));
        }
        JsonNode events = JSON.readTree(r.body());
        if (!events.isArray()) {
            throw new IOException("the audit API answered no list of events: " + cut(r.body()));
        }
        List<Row> rows = new ArrayList<>();
        for (JsonNode e : events) {
            rows.add(new Row(
                    e.path("kind").asText(""),
                    e.path("decision").asText(""),
                    e.path("reason").asText(""),
                    e.path("authority").asText(""),
                    e.path("source").asText("")));
        }
        return rows;
    }

    private static String cut(String text) {
        return text.length() > 200 ? text.substring(0, 200) + "…" : text;
    }
}
