package io.meshguard.audit.query;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.meshguard.audit.AuditEvent;
import java.io.IOException;
import java.io.Writer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/** Renders audit events for people (table) and tools (JSON, JSON Lines, CSV). */
public final class AuditFormats {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Column order of CSV and of JSON objects: the table's columns. */
    public static final List<String> COLUMNS = List.of(
            "event_id",
            "occurred_at",
            "kind",
            "request_id",
            "trace_id",
            "tenant",
            "subject",
            "client_id",
            "source",
            "caller_type",
            "method",
            "authority",
            "path",
            "route",
            "status",
            "decision",
            "reason",
            "latency_us",
            "request_bytes",
            "response_bytes",
            "is_stream",
            "details");

    private AuditFormats() {}

    /** One event as a JSON object with the table's column names; absent values are {@code null}. */
    public static ObjectNode toJson(AuditEvent e) {
        ObjectNode o = JSON.createObjectNode();
        o.put("event_id", e.eventId().toString());
        o.put("occurred_at", e.occurredAt().toString());
        o.put("kind", e.kind().dbName());
        o.put("request_id", e.requestId().orElse(null));
        o.put("trace_id", e.traceId().orElse(null));
        o.put("tenant", e.tenant().orElse(null));
        o.put("subject", e.subject().orElse(null));
        o.put("client_id", e.clientId().orElse(null));
        o.put("source", e.source().orElse(null));
        o.put("caller_type", e.callerType().orElse(null));
        o.put("method", e.method().orElse(null));
        o.put("authority", e.authority().orElse(null));
        o.put("path", e.path().orElse(null));
        o.put("route", e.route().orElse(null));
        if (e.status().isPresent()) {
            o.put("status", e.status().getAsInt());
        } else {
            o.putNull("status");
        }
        o.put("decision", e.decision().orElse(null));
        o.put("reason", e.reason().orElse(null));
        putLong(o, "latency_us", e.latencyUs());
        putLong(o, "request_bytes", e.requestBytes());
        putLong(o, "response_bytes", e.responseBytes());
        o.put("is_stream", e.isStream());
        try {
            o.set("details", JSON.readTree(e.detailsJson()));
        } catch (JsonProcessingException ex) {
            throw new IllegalStateException(ex);
        }
        return o;
    }

    /** An event back from {@link #toJson} (what the admin API's {@code GET /audit/events} answers). */
    public static AuditEvent fromJson(JsonNode o) {
        String kindName = o.path("kind").asText();
        AuditEvent.Builder b = AuditEvent.builder(io.meshguard.audit.AuditKind.parse(kindName)
                        .orElseThrow(() -> new IllegalArgumentException("unknown audit kind '" + kindName + "'")))
                .eventId(java.util.UUID.fromString(o.path("event_id").asText()))
                .occurredAt(java.time.Instant.parse(o.path("occurred_at").asText()))
                .requestId(text(o, "request_id"))
                .traceId(text(o, "trace_id"))
                .tenant(text(o, "tenant"))
                .subject(text(o, "subject"))
                .clientId(text(o, "client_id"))
                .source(text(o, "source"))
                .callerType(text(o, "caller_type"))
                .method(text(o, "method"))
                .authority(text(o, "authority"))
                .path(text(o, "path"))
                .route(text(o, "route"))
                .decision(text(o, "decision"))
                .reason(text(o, "reason"));
        if (o.path("status").isNumber()) {
            b.status(o.path("status").asInt());
        }
        if (o.path("latency_us").isNumber()) {
            b.latencyUs(o.path("latency_us").asLong());
        }
        if (o.path("request_bytes").isNumber()) {
            b.requestBytes(o.path("request_bytes").asLong());
        }
        if (o.path("response_bytes").isNumber()) {
            b.responseBytes(o.path("response_bytes").asLong());
        }
        b.stream(o.path("is_stream").asBoolean(false));
        b.detailsJson(o.path("details").isObject() ? o.path("details").toString() : "{}");
        return b.build();
    }

    private static String text(JsonNode o, String field) {
        JsonNode v = o.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    private static void putLong(ObjectNode o, String name, java.util.OptionalLong v) {
        if (v.isPresent()) {
            o.put(name, v.getAsLong());
        } else {
            o.putNull(name);
        }
    }

    /** One JSON object per line. */
    public static void writeJsonLine(AuditEvent e, Writer out) throws IOException {
        out.write(JSON.writeValueAsString(toJson(e)));
        out.write('\n');
    }

    /** A JSON array, one event per line. */
    public static void writeJsonArray(List<AuditEvent> events, Writer out) throws IOException {
        out.write("[");
        for (int i = 0; i < events.size(); i++) {
            out.write(i == 0 ? "\n  " : ",\n  ");
            out.write(JSON.writeValueAsString(toJson(events.get(i))));
        }
        out.write(events.isEmpty() ? "]\n" : "\n]\n");
    }

    public static void writeCsvHeader(Writer out) throws IOException {
        out.write(String.join(",", COLUMNS));
        out.write("\r\n");
    }

    /**
     * One RFC 4180 row. Numbers and booleans are written bare; every text cell is quoted (so no value can add a cell
     * or a row, whatever separator the reading tool assumes) and its formulas are neutralised: a {@code '} goes before
     * a formula trigger ({@code = + - @}, TAB, CR) that starts the cell or follows — after optional spaces — any
     * character a spreadsheet may split cells on ({@code ,} {@code ;} TAB {@code |} CR LF). Excel in many locales
     * splits on {@code ;}, LibreOffice asks, and tools that split naively ignore quotes: a path like
     * {@code /a;=HYPERLINK(...)} must stay text in each of them (OWASP "CSV Injection").
     */
    public static void writeCsvRow(AuditEvent e, Writer out) throws IOException {
        ObjectNode o = toJson(e);
        List<String> cells = new ArrayList<>(COLUMNS.size());
        for (String column : COLUMNS) {
            JsonNode v = o.get(column);
            if (v == null || v.isNull()) {
                cells.add("");
            } else if (v.isNumber() || v.isBoolean()) {
                cells.add(v.asText());
            } else {
                cells.add(csvText(v.isContainerNode() ? JSON.writeValueAsString(v) : v.asText()));
            }
        }
        out.write(String.join(",", cells));
        out.write("\r\n");
    }

    private static final String TRIGGERS = "=+-@\t\r";
    private static final String SEPARATORS = ",;\t|\r\n";

    /** A quoted, formula-neutralised text cell. */
    static String csvText(String text) {
        StringBuilder b = new StringBuilder(text.length() + 8).append('"');
        boolean cellStart = true; // at the start of the cell, or after a separator and spaces
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (cellStart && TRIGGERS.indexOf(c) >= 0) {
                b.append('\'');
            }
            if (c == '"') {
                b.append("\"\"");
            } else {
                b.append(c);
            }
            if (SEPARATORS.indexOf(c) >= 0) {
                cellStart = true;
            } else if (c != ' ') {
                cellStart = false;
            }
        }
        return b.append('"').toString();
    }

    /** A fixed-width table of the columns an operator scans first. */
    public static void writeTable(List<AuditEvent> events, Writer out) throws IOException {
        List<String> headers = List.of(
                "OCCURRED_AT",
                "KIND",
                "TENANT",
                "SUBJECT",
                "METHOD",
                "PATH",
                "STATUS",
                "DECISION",
                "REASON",
                "REQUEST_ID");
        List<Function<AuditEvent, String>> cells = List.of(
                e -> e.occurredAt().toString(),
                e -> e.kind().dbName(),
                e -> e.tenant().orElse("-"),
                e -> e.subject().orElse("-"),
                e -> e.method().orElse("-"),
                e -> e.path().orElse("-"),
                e -> e.status().isPresent() ? Integer.toString(e.status().getAsInt()) : "-",
                e -> e.decision().orElse("-"),
                e -> e.reason().orElse("-"),
                e -> e.requestId().orElse("-"));
        int[] widths = new int[headers.size()];
        List<List<String>> rows = new ArrayList<>();
        for (int i = 0; i < headers.size(); i++) {
            widths[i] = headers.get(i).length();
        }
        for (AuditEvent e : events) {
            List<String> row = new ArrayList<>();
            for (int i = 0; i < cells.size(); i++) {
                String cell = printable(cells.get(i).apply(e));
                widths[i] = Math.max(widths[i], cell.length());
                row.add(cell);
            }
            rows.add(row);
        }
        writeRow(out, headers, widths);
        for (List<String> row : rows) {
            writeRow(out, row, widths);
        }
        out.write("(" + events.size() + " event" + (events.size() == 1 ? "" : "s") + ")\n");
    }

    /** Cells are cut to 48 characters and stripped of control characters (a logged path cannot move the cursor). */
    private static String printable(String s) {
        StringBuilder b = new StringBuilder(Math.min(s.length(), 48));
        for (int i = 0; i < s.length() && b.length() < 48; i++) {
            char c = s.charAt(i);
            b.append(Character.isISOControl(c) ? '?' : c);
        }
        if (s.length() > 48) {
            b.setCharAt(47, '…');
        }
        return b.toString();
    }

    private static void writeRow(Writer out, List<String> cells, int[] widths) throws IOException {
        StringBuilder line = new StringBuilder();
        for (int i = 0; i < cells.size(); i++) {
            if (i > 0) {
                line.append("  ");
            }
            String c = cells.get(i);
            line.append(c);
            if (i < cells.size() - 1) {
                line.append(" ".repeat(widths[i] - c.length()));
            }
        }
        out.write(line.toString().stripTrailing());
        out.write('\n');
    }
}
