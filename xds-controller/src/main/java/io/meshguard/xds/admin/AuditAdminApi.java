package io.meshguard.xds.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.meshguard.access.AdminCaller;
import io.meshguard.access.AdminGate;
import io.meshguard.access.AdminOperation;
import io.meshguard.access.AdminOperations;
import io.meshguard.access.AdminRoute;
import io.meshguard.access.AdminRouter;
import io.meshguard.audit.AuditEvent;
import io.meshguard.audit.AuditKind;
import io.meshguard.audit.query.AuditFormats;
import io.meshguard.audit.query.AuditQuery;
import io.meshguard.audit.query.AuditReader;
import io.meshguard.audit.query.CoverageReport;
import io.meshguard.audit.query.TimeArguments;
import io.meshguard.audit.trail.AdminTrail;
import io.meshguard.audit.trail.AdminTrailEntry;
import io.meshguard.audit.trail.AdminTrailVerifier;
import io.meshguard.db.TenantScope;
import io.meshguard.runtime.http.AdminJson;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The audit log and the admin trail through the admin plane, behind the same {@link AdminGate} as every other admin
 * operation, so {@code meshguard audit query|export|verify} act as the signed-in caller instead of with the
 * database's credentials:
 * <ul>
 *   <li>{@code GET /audit/events?since=1h[&until=&tenant=&kind=&subject=&request_id=&trace_id=&limit=&canary=]} ({@code audit:read}) —
 *       events newest first, as JSON;</li>
 *   <li>{@code GET /audit/export?month=YYYY-MM|since=&until=[&format=jsonl|csv]} ({@code audit:export}) — streamed
 *       oldest first; CSV with its formulas neutralised ({@link AuditFormats#writeCsvRow}); every export is first a
 *       row of the admin trail (who, which range, which tenants, which format): no trail row, no export;</li>
 *   <li>{@code GET /audit/coverage?since=1h[&until=&service=&samples=]} ({@code coverage:read}, system scope) — the
 *       proof-of-coverage join of {@link CoverageReport}, as {@code meshguard coverage --format json} prints it;</li>
 *   <li>{@code GET /audit/trail/verify[?expect=SEQ:HASH]} ({@code audit:verify}, system scope) — the chain walk of
 *       {@link AdminTrailVerifier}.</li>
 * </ul>
 * Tenants: a caller whose grants carrying the permission are tenant grants reads only its tenants' events (the query
 * filters, and PostgreSQL's row-level security on {@code audit_event}, migration V39, confines the transaction);
 * events without a tenant, and the admin trail, are system scope only. Text is masked when an event is built
 * ({@code SensitiveText}, in {@link AuditEvent}), so what leaves here is masked whatever the row holds.
 */
public final class AuditAdminApi implements HttpHandler {
    private static final Logger LOG = LoggerFactory.getLogger(AuditAdminApi.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The most events one query returns. */
    static final int MAX_LIMIT = 10_000;

    public static final String PREFIX = "/audit";

    /** An admitted audit call; the export streams its own answer, the others answer JSON with the row's status. */
    @FunctionalInterface
    private interface Handler {
        void handle(
                AuditAdminApi api,
                HttpExchange exchange,
                int status,
                Map<String, String> query,
                TenantScope scope,
                AdminRouter.Admitted call,
                String requestId)
                throws IOException, SQLException;
    }

    /** The operations with their permissions, summaries and handlers: admission and dispatch read this table. */
    private static final AdminOperations<Handler> OPERATIONS = AdminOperations.of(
            AdminOperation.of(
                    AdminRoute.tenant("GET", "/audit/events", "audit:read"),
                    "Audit events newest first, as JSON; a tenant-scoped caller reads only its tenants' "
                            + "events (the query filters, and row-level security on audit_event confines the "
                            + "transaction)",
                    (a, ex, status, q, scope, call, id) -> sendJson(ex, status, a.events(q, scope))),
            AdminOperation.of(
                    AdminRoute.tenant("GET", "/audit/export", "audit:export"),
                    "Audit events of a month or a range, streamed oldest first as JSON lines or CSV "
                            + "(formulas neutralised); every export is first a row of the admin trail (who, range, "
                            + "tenants, format): no trail row, no export",
                    (a, ex, status, q, scope, call, id) -> a.export(ex, q, scope, call.admission(), id)),
            AdminOperation.of(
                    AdminRoute.system("GET", "/audit/trail/verify", "audit:verify"),
                    "Walks the hash-chained admin trail (across monthly partitions and through retention "
                            + "anchors) and names the first row altered, removed, inserted or truncated; system "
                            + "scope only",
                    (a, ex, status, q, scope, call, id) -> sendJson(ex, status, a.verify(q))),
            AdminOperation.of(
                    AdminRoute.system("GET", "/audit/coverage", "coverage:read"),
                    "Proof of coverage: access-log rows joined with Checks and DLP sessions by request id, per "
                            + "service, with sample request ids of requests that reached a workload without their "
                            + "Check or DLP profile (since= default 1h, until=, service=, samples= 0-100 default 5); "
                            + "the join reads every tenant's rows, so system scope only",
                    (a, ex, status, q, scope, call, id) -> sendJson(ex, status, a.coverage(q))));

    /** The declared operations (route, summary, status, body): what the port's OpenAPI document lists. */
    public static List<? extends AdminOperation<?>> operations() {
        return OPERATIONS.all();
    }

    /** The operations' routes with their permissions. */
    public static final List<AdminRoute> ROUTES = OPERATIONS.routes();

    private final AuditReader reader;
    private final CoverageReport coverage;
    private final AdminTrail trail;
    private final AdminTrailVerifier verifier;
    private final AdminRouter router;
    private final Clock clock;

    public AuditAdminApi(DataSource dataSource, AdminGate gate, Clock clock) {
        this(dataSource, io.meshguard.xds.store.RevisionSeal.trailVerifier(dataSource), gate, clock);
    }

    /** With the trail verifier the admin plane runs (checking the controller's own signed checkpoints). */
    public AuditAdminApi(DataSource dataSource, AdminTrailVerifier verifier, AdminGate gate, Clock clock) {
        this.reader = new AuditReader(dataSource);
        this.coverage = new CoverageReport(dataSource);
        this.trail = new AdminTrail(dataSource);
        this.verifier = verifier;
        this.router = new AdminRouter(ROUTES, gate);
        this.clock = clock;
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
                            "no audit operation " + exchange.getRequestMethod() + " "
                                    + exchange.getRequestURI().getRawPath()));
            TenantScope scope = router.tenantsOf(call);
            Map<String, String> query = query(exchange.getRequestURI().getRawQuery());
            AdminOperation<Handler> operation = OPERATIONS.operation(call.route());
            operation.handler().handle(this, exchange, operation.status(), query, scope, call, requestId);
        } catch (AdminJson.Refusal e) {
            sendJson(exchange, e.status(), AdminJson.error(e.getMessage()));
        } catch (IllegalArgumentException e) {
            sendJson(exchange, 400, AdminJson.error(e.getMessage()));
        } catch (SQLException e) {
            LOG.warn("audit admin request {} failed: {}", requestId, e.getMessage());
            sendJson(exchange, 503, AdminJson.error("the audit database is unavailable"));
        } catch (RuntimeException e) {
            LOG.error("audit admin request {} failed", requestId, e);
            sendJson(exchange, 500, AdminJson.error("internal error, see the controller log for request " + requestId));
        } finally {
            exchange.close();
        }
    }

    /**
     * The export ({@code month=} or {@code since=&until=}, {@code format=jsonl|csv}) for another surface of the admin
     * port that admitted the caller for {@code audit:export} itself (the console): the same trail row first, the same
     * streaming; a refusal is answered as JSON with its status.
     */
    public void exportAdmitted(
            HttpExchange exchange,
            Map<String, String> query,
            TenantScope scope,
            AdminGate.Admitted admitted,
            String requestId)
            throws IOException {
        try {
            export(exchange, query, scope, admitted, requestId);
        } catch (AdminJson.Refusal e) {
            sendJson(exchange, e.status(), AdminJson.error(e.getMessage()));
        } catch (IllegalArgumentException e) {
            sendJson(exchange, 400, AdminJson.error(e.getMessage()));
        } catch (SQLException e) {
            LOG.warn("audit export {} failed: {}", requestId, e.getMessage());
            sendJson(exchange, 503, AdminJson.error("the audit database is unavailable"));
        }
    }

    private ObjectNode coverage(Map<String, String> q) throws SQLException {
        Instant since = TimeArguments.pointInTime(q.getOrDefault("since", "1h"), clock);
        Instant until = q.containsKey("until") ? TimeArguments.pointInTime(q.get("until"), clock) : clock.instant();
        int samples =
                Optional.ofNullable(q.get("samples")).map(AuditAdminApi::number).orElse(5);
        return coverage.report(since, until, Optional.ofNullable(q.get("service")), samples)
                .toJson();
    }

    private ArrayNode events(Map<String, String> q, TenantScope scope) throws SQLException {
        String since = Optional.ofNullable(q.get("since"))
                .orElseThrow(
                        () -> new AdminJson.Refusal(400, "since is required (15m, 1h, 2d, an ISO time or a date)"));
        AuditQuery query = AuditQuery.since(TimeArguments.pointInTime(since, clock));
        int limit =
                Optional.ofNullable(q.get("limit")).map(AuditAdminApi::number).orElse(AuditQuery.DEFAULT_LIMIT);
        if (limit < 1 || limit > MAX_LIMIT) {
            throw new AdminJson.Refusal(400, "limit must be between 1 and " + MAX_LIMIT);
        }
        query = query.withLimit(limit);
        if (q.containsKey("until")) {
            query = query.withUntil(TimeArguments.pointInTime(q.get("until"), clock));
        }
        if (q.containsKey("tenant")) {
            query = query.withTenant(q.get("tenant"));
        }
        if (q.containsKey("kind")) {
            String kind = q.get("kind");
            query = query.withKind(AuditKind.parse(kind)
                    .orElseThrow(() -> new AdminJson.Refusal(
                            400,
                            "unknown kind '" + kind + "': authz_decision, dlp_finding, api_call or config_change")));
        }
        if (q.containsKey("subject")) {
            query = query.withSubject(q.get("subject"));
        }
        if (q.containsKey("request_id")) {
            query = query.withRequestId(q.get("request_id"));
        }
        if (q.containsKey("trace_id")) {
            query = query.withTraceId(q.get("trace_id"));
        }
        if (q.containsKey("canary")) {
            try {
                query = query.withCanary(AuditQuery.CanaryRows.parse(q.get("canary")));
            } catch (IllegalArgumentException e) {
                throw new AdminJson.Refusal(400, e.getMessage());
            }
        }
        ArrayNode out = JSON.createArrayNode();
        for (AuditEvent e : reader.query(query, scope)) {
            out.add(AuditFormats.toJson(e));
        }
        return out;
    }

    /** The export's range: a UTC month, or since/until. */
    private record Range(Instant from, Instant to, String label) {}

    private Range range(Map<String, String> q) {
        if (q.containsKey("month")) {
            YearMonth m = TimeArguments.month(q.get("month"));
            return new Range(
                    m.atDay(1).atStartOfDay().toInstant(ZoneOffset.UTC),
                    m.plusMonths(1).atDay(1).atStartOfDay().toInstant(ZoneOffset.UTC),
                    m.toString());
        }
        if (!q.containsKey("since") || !q.containsKey("until")) {
            throw new AdminJson.Refusal(400, "say what to export: month=YYYY-MM, or since=TIME and until=TIME");
        }
        Instant from = TimeArguments.pointInTime(q.get("since"), clock);
        Instant to = TimeArguments.pointInTime(q.get("until"), clock);
        if (!to.isAfter(from)) {
            throw new AdminJson.Refusal(400, "until must be after since");
        }
        return new Range(from, to, from + "/" + to);
    }

    private void export(
            HttpExchange exchange,
            Map<String, String> q,
            TenantScope scope,
            AdminGate.Admitted admitted,
            String requestId)
            throws SQLException, IOException {
        Range range = range(q);
        String format = q.getOrDefault("format", "jsonl");
        if (!format.equals("jsonl") && !format.equals("csv")) {
            throw new AdminJson.Refusal(400, "format is jsonl or csv, got '" + format + "'");
        }
        AdminCaller caller = admitted.caller();
        String tenants = scope.all() ? "*" : String.join(",", scope.tenants());
        Map<String, String> details = new LinkedHashMap<>();
        details.put("from", range.from().toString());
        details.put("to", range.to().toString());
        details.put("format", format);
        details.put("tenants", tenants);
        // recorded before a byte leaves: an export the trail cannot take does not happen
        try {
            trail.append(new AdminTrailEntry(
                    clock.instant(),
                    caller.actor(),
                    caller.method().label(),
                    scope.all() ? Optional.empty() : Optional.of(tenants),
                    Optional.of(admitted.decision().roleUsed()).filter(s -> !s.isEmpty()),
                    Optional.of(caller.source()),
                    Optional.of(requestId),
                    "audit-export",
                    "audit_event " + range.label(),
                    "exported",
                    Optional.empty(),
                    Optional.empty(),
                    details));
        } catch (AdminTrail.UnavailableException e) {
            throw new AdminJson.Refusal(
                    503, "the export could not be recorded in the admin trail, so it is refused: " + e.getMessage());
        }
        exchange.getResponseHeaders()
                .set("Content-Type", format.equals("csv") ? "text/csv; charset=utf-8" : "application/x-ndjson");
        exchange.getResponseHeaders()
                .set(
                        "Content-Disposition",
                        "attachment; filename=\"audit-" + range.label().replaceAll("[^0-9A-Za-z-]", "_") + "." + format
                                + "\"");
        exchange.sendResponseHeaders(200, 0);
        try (OutputStream body = exchange.getResponseBody();
                Writer out = new BufferedWriter(new OutputStreamWriter(body, StandardCharsets.UTF_8))) {
            if (format.equals("csv")) {
                AuditFormats.writeCsvHeader(out);
                reader.export(range.from(), range.to(), scope, e -> AuditFormats.writeCsvRow(e, out));
            } else {
                reader.export(range.from(), range.to(), scope, e -> AuditFormats.writeJsonLine(e, out));
            }
        }
    }

    private ObjectNode verify(Map<String, String> q) throws SQLException {
        Optional<AdminTrailVerifier.Head> expect =
                Optional.ofNullable(q.get("expect")).map(AdminTrailVerifier.Head::parse);
        AdminTrailVerifier.Report r = verifier.verify(expect);
        ObjectNode out = JSON.createObjectNode()
                .put("intact", r.intact())
                .put("rows_checked", r.rowsChecked())
                .put("head_seq", r.headSeq())
                .put("head_hash", r.headHash())
                .put("checkpoints_checked", verifier.checksOwnCheckpoints());
        r.firstBad().ifPresent(f -> out.putObject("first_bad")
                .put("seq", f.seq())
                .put("problem", f.problem().name().toLowerCase(java.util.Locale.ROOT))
                .put("explanation", f.explanation()));
        return out;
    }

    private static int number(String text) {
        try {
            return Integer.parseInt(text);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("limit must be a number, got '" + text + "'");
        }
    }

    private static Map<String, String> query(String raw) {
        Map<String, String> out = new LinkedHashMap<>();
        if (raw == null) {
            return out;
        }
        for (String part : raw.split("&")) {
            int eq = part.indexOf('=');
            if (eq > 0) {
                out.putIfAbsent(
                        URLDecoder.decode(part.substring(0, eq), StandardCharsets.UTF_8),
                        URLDecoder.decode(part.substring(eq + 1), StandardCharsets.UTF_8));
            }
        }
        return out;
    }

    private static void sendJson(HttpExchange exchange, int status, Object body) throws IOException {
        byte[] bytes = JSON.writeValueAsBytes(body);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }
}
