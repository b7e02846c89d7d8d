package io.meshguard.xds.admin;

import com.fasterxml.jackson.databind.JsonNode;
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
import io.meshguard.access.http.AdminEndpoint;
import io.meshguard.access.http.AdminRequest;
import io.meshguard.audit.AuditEvent;
import io.meshguard.audit.AuditKind;
import io.meshguard.audit.query.AuditExport;
import io.meshguard.audit.query.AuditFormats;
import io.meshguard.audit.query.AuditQuery;
import io.meshguard.audit.query.AuditReader;
import io.meshguard.audit.query.CoverageReport;
import io.meshguard.audit.query.TimeArguments;
import io.meshguard.audit.trail.AdminTrail;
import io.meshguard.audit.trail.AdminTrailVerifier;
import io.meshguard.db.TenantScope;
import io.meshguard.runtime.http.AdminJson;
import io.meshguard.runtime.http.ErrorKind;
import java.io.IOException;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;

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
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The most events one query returns. */
    static final int MAX_LIMIT = 10_000;

    public static final String PREFIX = "/audit";

    /** The operations with their permissions, summaries and handlers: admission and dispatch read this table. */
    private static final AdminOperations<AdminEndpoint.Handler<AuditAdminApi>> OPERATIONS = AdminOperations.of(
            AdminOperation.of(
                    AdminRoute.tenant("GET", "/audit/events", "audit:read"),
                    "Audit events newest first, as JSON; a tenant-scoped caller reads only its tenants' "
                            + "events (the query filters, and row-level security on audit_event confines the "
                            + "transaction)",
                    (a, r) -> a.events(r.query(), r.scope())),
            AdminOperation.of(
                    AdminRoute.tenant("GET", "/audit/export", "audit:export"),
                    "Audit events of a month or a range, streamed oldest first as JSON lines or CSV "
                            + "(formulas neutralised); every export is first a row of the admin trail (who, range, "
                            + "tenants, format): no trail row, no export",
                    (a, r) -> a.export(r)),
            AdminOperation.of(
                    AdminRoute.system("GET", "/audit/trail/verify", "audit:verify"),
                    "Walks the hash-chained admin trail (across monthly partitions and through retention "
                            + "anchors) and names the first row altered, removed, inserted or truncated; system "
                            + "scope only",
                    (a, r) -> a.verify(r.query())),
            AdminOperation.of(
                    AdminRoute.system("GET", "/audit/coverage", "coverage:read"),
                    "Proof of coverage: access-log rows joined with Checks by the nonce of each allow (request id "
                            + "where it minted none) and with DLP sessions by request id, per service, with sample "
                            + "request ids of requests that reached a workload without their "
                            + "Check or DLP profile (since= default 1h, until=, service=, samples= 0-100 default 5); "
                            + "the join reads every tenant's rows, so system scope only",
                    (a, r) -> a.coverage(r.query())));

    /** The declared operations (route, summary, status, body): what the port's OpenAPI document lists. */
    public static List<? extends AdminOperation<?>> operations() {
        return OPERATIONS.all();
    }

    /** The operations' routes with their permissions. */
    public static final List<AdminRoute> ROUTES = OPERATIONS.routes();

    private final AuditReader reader;
    private final CoverageReport coverage;
    private final AuditExport exports;
    private final AdminTrailVerifier verifier;
    private final AdminEndpoint<AuditAdminApi> endpoint;
    private final Clock clock;

    public AuditAdminApi(DataSource dataSource, AdminGate gate, Clock clock) {
        this(dataSource, io.meshguard.xds.store.RevisionSeal.trailVerifier(dataSource), gate, clock);
    }

    /** With the trail verifier the admin plane runs (checking the controller's own signed checkpoints). */
    public AuditAdminApi(DataSource dataSource, AdminTrailVerifier verifier, AdminGate gate, Clock clock) {
        this.reader = new AuditReader(dataSource);
        this.coverage = new CoverageReport(dataSource);
        this.exports = new AuditExport(dataSource, clock);
        this.verifier = verifier;
        this.clock = clock;
        this.endpoint = AdminEndpoint.of(this, OPERATIONS, gate, "controller", 0)
                .refusing(
                        SQLException.class,
                        e -> new AdminJson.Refusal(ErrorKind.UNAVAILABLE, "the audit database is unavailable"));
    }

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        endpoint.handle(exchange);
    }

    private ObjectNode coverage(Map<String, String> q) throws SQLException {
        Instant since = time(q.getOrDefault("since", "1h"));
        Instant until = q.containsKey("until") ? time(q.get("until")) : clock.instant();
        int samples =
                Optional.ofNullable(q.get("samples")).map(AuditAdminApi::number).orElse(5);
        return coverage.report(since, until, Optional.ofNullable(q.get("service")), samples)
                .toJson();
    }

    private ArrayNode events(Map<String, String> q, TenantScope scope) throws SQLException {
        String since = Optional.ofNullable(q.get("since"))
                .orElseThrow(() -> new AdminJson.Refusal(
                        ErrorKind.INVALID, "since is required (15m, 1h, 2d, an ISO time or a date)"));
        AuditQuery query = AuditQuery.since(time(since));
        int limit =
                Optional.ofNullable(q.get("limit")).map(AuditAdminApi::number).orElse(AuditQuery.DEFAULT_LIMIT);
        if (limit < 1 || limit > MAX_LIMIT) {
            throw new AdminJson.Refusal(ErrorKind.INVALID, "limit must be between 1 and " + MAX_LIMIT);
        }
        query = query.withLimit(limit);
        if (q.containsKey("until")) {
            query = query.withUntil(time(q.get("until")));
        }
        if (q.containsKey("tenant")) {
            query = query.withTenant(q.get("tenant"));
        }
        if (q.containsKey("kind")) {
            String kind = q.get("kind");
            query = query.withKind(AuditKind.parse(kind)
                    .orElseThrow(() -> new AdminJson.Refusal(
                            ErrorKind.INVALID,
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
            query = query.withCanary(malformedIfRefused(() -> AuditQuery.CanaryRows.parse(q.get("canary"))));
        }
        ArrayNode out = JSON.createArrayNode();
        for (AuditEvent e : reader.query(query, scope)) {
            out.add(AuditFormats.toJson(e));
        }
        return out;
    }

    /** The export's range: a UTC month, or since/until. */
    private AuditExport.Range range(Map<String, String> q) {
        if (q.containsKey("month")) {
            return AuditExport.Range.month(malformedIfRefused(() -> TimeArguments.month(q.get("month"))));
        }
        if (!q.containsKey("since") || !q.containsKey("until")) {
            throw new AdminJson.Refusal(
                    ErrorKind.INVALID, "say what to export: month=YYYY-MM, or since=TIME and until=TIME");
        }
        Instant from = time(q.get("since"));
        Instant to = time(q.get("until"));
        if (!to.isAfter(from)) {
            throw new AdminJson.Refusal(ErrorKind.INVALID, "until must be after since");
        }
        return AuditExport.Range.between(from, to);
    }

    private JsonNode export(AdminRequest r) throws SQLException, IOException {
        Map<String, String> q = r.query();
        AuditExport.Range range = range(q);
        AuditExport.Format format =
                malformedIfRefused(() -> AuditExport.Format.parse(q.getOrDefault("format", "jsonl")));
        AdminCaller caller = r.caller();
        try {
            exports.export(
                    new AuditExport.Exporter(
                            caller.actor(),
                            caller.method().label(),
                            Optional.of(r.admission().decision().roleUsed()),
                            caller.source(),
                            r.requestId()),
                    range,
                    format,
                    r.scope(),
                    (type, disposition) -> {
                        r.exchange().getResponseHeaders().set("Content-Disposition", disposition);
                        return r.stream(200, type);
                    });
        } catch (AdminTrail.UnavailableException e) {
            throw new AdminJson.Refusal(
                    ErrorKind.UNAVAILABLE,
                    "the export could not be recorded in the admin trail, so it is refused: " + e.getMessage());
        }
        return JSON.nullNode();
    }

    private ObjectNode verify(Map<String, String> q) throws SQLException {
        Optional<AdminTrailVerifier.Head> expect = Optional.ofNullable(q.get("expect"))
                .map(t -> malformedIfRefused(() -> AdminTrailVerifier.Head.parse(t)));
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
            throw new AdminJson.Refusal(ErrorKind.MALFORMED, "limit must be a number, got '" + text + "'");
        }
    }

    /** A point in time as the query gives it; text that is no time is malformed. */
    private Instant time(String text) {
        return malformedIfRefused(() -> TimeArguments.pointInTime(text, clock));
    }

    /** A query value's parse: what it refuses is malformed input (400), not a refused value. */
    private static <T> T malformedIfRefused(java.util.function.Supplier<T> parse) {
        try {
            return parse.get();
        } catch (IllegalArgumentException e) {
            throw new AdminJson.Refusal(ErrorKind.MALFORMED, e.getMessage());
        }
    }
}
