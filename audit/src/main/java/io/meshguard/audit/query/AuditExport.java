package io.meshguard.audit.query;

import io.meshguard.audit.trail.AdminTrail;
import io.meshguard.audit.trail.AdminTrailEntry;
import io.meshguard.db.TenantScope;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * An export of the audit log, for every surface that offers one (the admin API's {@code GET /audit/export}, the
 * console's Audit screen): first a row of the admin trail (who, which range, which tenants, which format), then the
 * events oldest first as JSON lines or CSV with its formulas neutralised ({@link AuditFormats#writeCsvRow}). No trail
 * row, no export: a trail that cannot take the row refuses the export before a byte leaves.
 */
public final class AuditExport {
    /** The two formats, with the answer's content type. */
    public enum Format {
        JSONL("application/x-ndjson"),
        CSV("text/csv; charset=utf-8");

        private final String contentType;

        Format(String contentType) {
            this.contentType = contentType;
        }

        public String contentType() {
            return contentType;
        }

        /** {@code jsonl} or {@code csv}. */
        public static Format parse(String text) {
            return switch (text) {
                case "jsonl" -> JSONL;
                case "csv" -> CSV;
                default -> throw new IllegalArgumentException("format is jsonl or csv, got '" + text + "'");
            };
        }

        String extension() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** The events to export: from (inclusive) to (exclusive), and how the trail row and the file name say it. */
    public record Range(Instant from, Instant to, String label) {
        public Range {
            if (!to.isAfter(from)) {
                throw new IllegalArgumentException("until must be after since");
            }
        }

        /** A UTC month. */
        public static Range month(YearMonth m) {
            return new Range(
                    m.atDay(1).atStartOfDay().toInstant(ZoneOffset.UTC),
                    m.plusMonths(1).atDay(1).atStartOfDay().toInstant(ZoneOffset.UTC),
                    m.toString());
        }

        public static Range between(Instant from, Instant to) {
            return new Range(from, to, from + "/" + to);
        }
    }

    /** Who exports, as the admin trail records it. */
    public record Exporter(
            String actor, String authMethod, Optional<String> roleUsed, String source, String requestId) {}

    /** Where the export's bytes go: an answer of {@code contentType}, saved as {@code disposition} says. */
    @FunctionalInterface
    public interface Answer {
        OutputStream start(String contentType, String disposition) throws IOException;
    }

    private final AuditReader reader;
    private final AdminTrail trail;
    private final Clock clock;

    public AuditExport(DataSource dataSource, Clock clock) {
        this.reader = new AuditReader(dataSource);
        this.trail = new AdminTrail(dataSource);
        this.clock = clock;
    }

    /** The trail row, then the stream; the events are those of {@code scope}'s tenants. */
    public void export(Exporter who, Range range, Format format, TenantScope scope, Answer answer)
            throws SQLException, IOException, AdminTrail.UnavailableException {
        String tenants = scope.all() ? "*" : String.join(",", scope.tenants());
        Map<String, String> details = new LinkedHashMap<>();
        details.put("from", range.from().toString());
        details.put("to", range.to().toString());
        details.put("format", format.extension());
        details.put("tenants", tenants);
        // recorded before a byte leaves: an export the trail cannot take does not happen
        trail.append(new AdminTrailEntry(
                clock.instant(),
                who.actor(),
                who.authMethod(),
                scope.all() ? Optional.empty() : Optional.of(tenants),
                who.roleUsed().filter(s -> !s.isEmpty()),
                Optional.of(who.source()),
                Optional.of(who.requestId()),
                "audit-export",
                "audit_event " + range.label(),
                "exported",
                Optional.empty(),
                Optional.empty(),
                details));
        String file = "audit-" + range.label().replaceAll("[^0-9A-Za-z-]", "_") + "." + format.extension();
        try (OutputStream body = answer.start(format.contentType(), "attachment; filename=\"" + file + "\"");
                Writer out = new BufferedWriter(new OutputStreamWriter(body, StandardCharsets.UTF_8))) {
            if (format == Format.CSV) {
                AuditFormats.writeCsvHeader(out);
                reader.export(range.from(), range.to(), scope, e -> AuditFormats.writeCsvRow(e, out));
            } else {
                reader.export(range.from(), range.to(), scope, e -> AuditFormats.writeJsonLine(e, out));
            }
        }
    }
}
