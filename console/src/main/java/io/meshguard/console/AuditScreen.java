package io.meshguard.console;

import com.sun.net.httpserver.HttpExchange;
import io.meshguard.access.AdminGate;
import io.meshguard.access.Scope;
import io.meshguard.access.http.RequestLoop;
import io.meshguard.audit.AuditEvent;
import io.meshguard.audit.AuditKind;
import io.meshguard.audit.query.AuditExport;
import io.meshguard.audit.query.AuditQuery;
import io.meshguard.audit.query.AuditReader;
import io.meshguard.audit.query.TimeArguments;
import io.meshguard.audit.trail.AdminTrailVerifier;
import io.meshguard.runtime.http.AdminJson;
import io.meshguard.runtime.http.ErrorKind;
import java.sql.SQLException;
import java.time.Clock;
import java.util.List;
import java.util.Optional;

/**
 * Audit: the audit log searched by actor or subject, tenant, route, kind and time, through the reader the admin API's
 * {@code /audit/events} uses (tenant callers read only their tenants' events, row-level security included), and the
 * admin trail's chain status for callers who may verify it.
 */
public final class AuditScreen {
    /** Rows one page shows; older ones are a link away ({@code before=}, keyset paging). */
    static final int PAGE = 50;

    private final AuditExport exports;
    private final AuditReader reader;
    private final AdminTrailVerifier verifier;
    private final AdminGate gate;
    private final Clock clock;

    public AuditScreen(
            AuditReader reader, AdminTrailVerifier verifier, AuditExport exports, AdminGate gate, Clock clock) {
        this.exports = exports;
        this.reader = reader;
        this.verifier = verifier;
        this.gate = gate;
        this.clock = clock;
    }

    Views.Audit page(Console.Request req, Views.Chrome chrome) {
        Views.AuditFilter f = new Views.AuditFilter(
                req.param("subject"),
                req.param("tenant"),
                req.param("route"),
                req.param("kind"),
                req.param("since").isEmpty() ? "1h" : req.param("since"),
                req.param("until"));
        String error = "";
        List<Views.AuditRow> rows = List.of();
        String older = "";
        try {
            List<AuditEvent> found = search(f, req.param("before"), req);
            rows = found.stream().limit(PAGE).map(AuditScreen::row).toList();
            if (found.size() > PAGE) {
                AuditEvent last = found.get(PAGE - 1);
                older = href(f, new AuditQuery.Cursor(last.occurredAt(), last.eventId()).text());
            }
        } catch (IllegalArgumentException e) {
            error = e.getMessage();
        } catch (SQLException e) {
            error = "the audit database is unavailable: " + e.getMessage();
        }
        String newest = req.param("before").isEmpty() ? "" : href(f, "");
        boolean mayVerify = gate.permits(req.caller(), "audit:verify", Scope.SYSTEM);
        String chain = "";
        boolean intact = false;
        if (mayVerify) {
            try {
                AdminTrailVerifier.Report r = verifier.verify(Optional.empty());
                intact = r.intact();
                chain = r.intact()
                        ? "chain intact: " + r.rowsChecked() + " rows checked, head #" + r.headSeq()
                        : "chain BROKEN at row "
                                + r.firstBad()
                                        .map(b -> b.seq() + ": " + b.explanation())
                                        .orElse("?");
            } catch (SQLException e) {
                chain = "cannot be verified now: " + e.getMessage();
            }
        }
        boolean mayExport = gate.permits(req.caller(), "audit:export", Scope.ANY_TENANT);
        return new Views.Audit(chrome, f, rows, error, chain, intact, mayVerify, mayExport, older, newest);
    }

    /**
     * CSV or JSON Lines of the searched time range, by the admin API's export service (its trail row first); a refusal
     * is answered as the API answers it, JSON with its status.
     */
    void export(Console.Request req) throws java.io.IOException {
        HttpExchange ex = req.exchange();
        AdminJson.Refusal refused;
        try {
            AuditExport.Range range = AuditExport.Range.between(
                    TimeArguments.pointInTime(req.param("since").isEmpty() ? "1h" : req.param("since"), clock),
                    TimeArguments.pointInTime(req.param("until").isEmpty() ? "0s" : req.param("until"), clock));
            var caller = req.caller();
            exports.export(
                    new AuditExport.Exporter(
                            caller.actor(),
                            caller.method().label(),
                            Optional.of(req.admitted().decision().roleUsed()),
                            caller.source(),
                            req.requestId()),
                    range,
                    req.param("format").equals("csv") ? AuditExport.Format.CSV : AuditExport.Format.JSONL,
                    req.tenants(),
                    (type, disposition) -> {
                        ex.getResponseHeaders().set("Content-Type", type);
                        ex.getResponseHeaders().set("Content-Disposition", disposition);
                        ex.sendResponseHeaders(200, 0);
                        return ex.getResponseBody();
                    });
            return;
        } catch (IllegalArgumentException e) {
            refused = new AdminJson.Refusal(ErrorKind.MALFORMED, e.getMessage());
        } catch (SQLException e) {
            refused = new AdminJson.Refusal(ErrorKind.UNAVAILABLE, "the audit database is unavailable");
        } catch (io.meshguard.audit.trail.AdminTrail.UnavailableException e) {
            refused = new AdminJson.Refusal(
                    ErrorKind.UNAVAILABLE,
                    "the export could not be recorded in the admin trail, so it is refused: " + e.getMessage());
        }
        RequestLoop.retryAfter(ex, refused);
        RequestLoop.sendJson(
                ex, refused.status(), refused.body().toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    /** One page and one row more (whether an older page exists), newest first, older than {@code before} if set. */
    private List<AuditEvent> search(Views.AuditFilter f, String before, Console.Request req) throws SQLException {
        AuditQuery q =
                AuditQuery.since(TimeArguments.pointInTime(f.since(), clock)).withLimit(PAGE + 1);
        if (!f.until().isEmpty()) {
            q = q.withUntil(TimeArguments.pointInTime(f.until(), clock));
        }
        if (!f.tenant().isEmpty()) {
            q = q.withTenant(f.tenant());
        }
        if (!f.kind().isEmpty()) {
            q = q.withKind(AuditKind.parse(f.kind())
                    .orElseThrow(() -> new IllegalArgumentException("unknown kind '" + f.kind() + "'")));
        }
        if (!f.subject().isEmpty()) {
            q = q.withSubject(f.subject());
        }
        if (!f.route().isEmpty()) {
            q = q.withRouteContaining(f.route());
        }
        if (!before.isEmpty()) {
            q = q.withBefore(AuditQuery.Cursor.parse(before));
        }
        return reader.query(q, req.tenants());
    }

    /** The screen's address for this search (every filter in the URL), from {@code before} on when set. */
    static String href(Views.AuditFilter f, String before) {
        java.util.Map<String, String> q = new java.util.LinkedHashMap<>();
        q.put("subject", f.subject());
        q.put("tenant", f.tenant());
        q.put("route", f.route());
        q.put("kind", f.kind());
        q.put("since", f.since());
        q.put("until", f.until());
        q.put("before", before);
        StringBuilder out = new StringBuilder("/console/audit?");
        q.forEach((k, v) -> {
            if (!v.isEmpty()) {
                out.append(out.charAt(out.length() - 1) == '?' ? "" : "&")
                        .append(k)
                        .append('=')
                        .append(ApprovalsScreen.encode(v));
            }
        });
        return out.toString();
    }

    static Views.AuditRow row(AuditEvent e) {
        Object detail = e.details().get("detail");
        return new Views.AuditRow(
                RevisionsScreen.time(e.occurredAt()),
                e.kind().dbName(),
                e.tenant().orElse(""),
                e.subject().orElse(""),
                e.route().or(e::path).orElse(""),
                e.status().isPresent() ? String.valueOf(e.status().getAsInt()) : "",
                e.decision().orElse(""),
                e.requestId().orElse(""),
                detail == null ? e.reason().orElse("") : String.valueOf(detail));
    }
}
