package io.meshguard.cli.audit;

import io.meshguard.audit.AuditEvent;
import io.meshguard.audit.AuditKind;
import io.meshguard.audit.query.AuditFormats;
import io.meshguard.audit.query.AuditQuery;
import io.meshguard.audit.query.AuditReader;
import io.meshguard.audit.query.TimeArguments;
import io.meshguard.cli.common.DatabaseOptions;
import java.io.PrintWriter;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code meshguard audit query}: filtered audit events, newest first. */
@Command(name = "query", mixinStandardHelpOptions = true, description = "Query audit events, newest first.")
public final class AuditQueryCommand implements Callable<Integer> {
    /** Output formats of {@code --format}. */
    public enum Format {
        table,
        json
    }

    @Mixin
    DatabaseOptions database = new DatabaseOptions();

    @Mixin
    AuditAdminPlane admin = new AuditAdminPlane();

    @Spec
    CommandSpec spec;

    @Option(
            names = "--since",
            required = true,
            paramLabel = "TIME",
            description = "Start: a duration ago (15m, 1h, 2d), an ISO time or a date.")
    String since;

    @Option(names = "--until", paramLabel = "TIME", description = "End (exclusive), same forms as --since.")
    String until;

    @Option(names = "--tenant", description = "Only this tenant.")
    String tenant;

    @Option(
            names = "--kind",
            completionCandidates = KindNames.class,
            description = "Only this kind: ${COMPLETION-CANDIDATES}.")
    String kind;

    @Option(names = "--subject", description = "Only this subject (user or service).")
    String subject;

    @Option(names = "--request-id", description = "Only this x-request-id.")
    String requestId;

    @Option(
            names = "--trace-id",
            paramLabel = "TRACE_ID",
            description = "Only this W3C trace id (32 hex digits, the traceparent's second field): every row one"
                    + " request left across the gateway, extauthz and DLP.")
    String traceId;

    @Option(
            names = "--limit",
            defaultValue = "1000",
            description = "At most this many events (default: ${DEFAULT-VALUE}).")
    int limit;

    @Option(names = "--format", defaultValue = "table", description = "table or json (default: ${DEFAULT-VALUE}).")
    Format format;

    @Option(
            names = "--canary",
            defaultValue = "include",
            paramLabel = "include|exclude|only",
            description = "The rows of `meshguard canary`'s synthetic requests (marked x-meshguard-canary, and the rows"
                    + " sharing their request id): include (default: ${DEFAULT-VALUE}), exclude (counts without the"
                    + " synthetic traffic; the header is one any client can send) or only.")
    String canary;

    private static final java.util.regex.Pattern TRACE_ID = java.util.regex.Pattern.compile("[0-9a-f]{32}");

    @Override
    public Integer call() throws Exception {
        if (traceId != null) {
            traceId = traceId.toLowerCase(java.util.Locale.ROOT);
            if (!TRACE_ID.matcher(traceId).matches() || traceId.chars().allMatch(c -> c == '0')) {
                throw new picocli.CommandLine.ParameterException(
                        spec.commandLine(),
                        "--trace-id: a W3C trace id is 32 hex digits, not all zero (the traceparent's second field)");
            }
        }
        if (!admin.direct(spec, database)) {
            return viaAdminApi();
        }
        Clock clock = Clock.systemUTC();
        AuditQuery q = AuditQuery.since(TimeArguments.pointInTime(since, clock))
                .withLimit(limit)
                .withCanary(canaryRows());
        if (until != null) {
            q = q.withUntil(TimeArguments.pointInTime(until, clock));
        }
        if (tenant != null) {
            q = q.withTenant(tenant);
        }
        if (kind != null) {
            q = q.withKind(AuditKind.parse(kind)
                    .orElseThrow(() -> new IllegalArgumentException(
                            "unknown --kind '" + kind + "': use one of " + String.join(", ", new KindNames()))));
        }
        if (subject != null) {
            q = q.withSubject(subject);
        }
        if (requestId != null) {
            q = q.withRequestId(requestId);
        }
        if (traceId != null) {
            q = q.withTraceId(traceId);
        }
        List<AuditEvent> events = new AuditReader(database.open("meshguard-audit-cli", System.getenv())).query(q);
        return print(events);
    }

    private int viaAdminApi() throws Exception {
        java.util.Map<String, String> query = new java.util.LinkedHashMap<>();
        query.put("since", since);
        query.put("limit", Integer.toString(limit));
        java.util.Optional.ofNullable(until).ifPresent(v -> query.put("until", v));
        java.util.Optional.ofNullable(tenant).ifPresent(v -> query.put("tenant", v));
        java.util.Optional.ofNullable(kind).ifPresent(v -> query.put("kind", v));
        java.util.Optional.ofNullable(subject).ifPresent(v -> query.put("subject", v));
        java.util.Optional.ofNullable(requestId).ifPresent(v -> query.put("request_id", v));
        java.util.Optional.ofNullable(traceId).ifPresent(v -> query.put("trace_id", v));
        AuditQuery.CanaryRows rows = canaryRows();
        if (rows != AuditQuery.CanaryRows.INCLUDE) {
            query.put("canary", rows.text());
        }
        java.net.http.HttpResponse<String> r = admin.get("/audit/events", query, database.dataDir());
        if (r.statusCode() != 200) {
            return AuditAdminPlane.refused(spec, r);
        }
        List<AuditEvent> events = new java.util.ArrayList<>();
        for (com.fasterxml.jackson.databind.JsonNode e :
                new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.body())) {
            events.add(AuditFormats.fromJson(e));
        }
        return print(events);
    }

    private AuditQuery.CanaryRows canaryRows() {
        try {
            return AuditQuery.CanaryRows.parse(canary);
        } catch (IllegalArgumentException e) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--" + e.getMessage());
        }
    }

    private int print(List<AuditEvent> events) throws java.io.IOException {
        PrintWriter out = spec.commandLine().getOut();
        switch (format) {
            case table -> AuditFormats.writeTable(events, out);
            case json -> AuditFormats.writeJsonArray(events, out);
        }
        out.flush();
        return 0;
    }

    /** Every kind's name, from {@link AuditKind} itself, so help and errors cannot fall behind a new kind. */
    static final class KindNames implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() {
            return java.util.Arrays.stream(AuditKind.values())
                    .map(AuditKind::dbName)
                    .iterator();
        }
    }
}
