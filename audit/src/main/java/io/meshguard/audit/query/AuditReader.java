package io.meshguard.audit.query;

import io.meshguard.audit.AuditEvent;
import io.meshguard.audit.AuditKind;
import io.meshguard.db.TenantScope;
import io.meshguard.db.TenantScopedTransactions;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import javax.sql.DataSource;

/** Reads audit events back from PostgreSQL. */
public final class AuditReader {
    private static final String SELECT = "select event_id, occurred_at, kind, request_id, trace_id, tenant, subject, "
            + "client_id, source, caller_type, method, authority, path, route, status, decision, reason, latency_us, "
            + "request_bytes, response_bytes, is_stream, details::text from audit_event";

    /** Receives exported events one at a time. */
    @FunctionalInterface
    public interface EventConsumer {
        void accept(AuditEvent event) throws java.io.IOException;
    }

    private final DataSource dataSource;

    public AuditReader(DataSource dataSource) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    }

    /** Events matching {@code query}, newest first. */
    public List<AuditEvent> query(AuditQuery query) throws SQLException {
        return query(query, TenantScope.ALL);
    }

    /**
     * Events matching {@code query} that {@code scope} may see, newest first. A tenant-scoped read runs in a
     * transaction PostgreSQL confines to the scope's tenants (row-level security on {@code audit_event}, migration V39)
     * and filters on them as well, so rows without a tenant (the admin plane's own) are never in it.
     */
    public List<AuditEvent> query(AuditQuery query, TenantScope scope) throws SQLException {
        StringBuilder sql = new StringBuilder(SELECT).append(" where occurred_at >= ?");
        List<Object> args = new ArrayList<>();
        args.add(Timestamp.from(query.since()));
        query.until().ifPresent(u -> {
            sql.append(" and occurred_at < ?");
            args.add(Timestamp.from(u));
        });
        query.tenant().ifPresent(t -> {
            sql.append(" and tenant = ?");
            args.add(t);
        });
        query.kind().ifPresent(k -> {
            sql.append(" and kind = ?");
            args.add(k.dbName());
        });
        query.subject().ifPresent(s -> {
            sql.append(" and subject = ?");
            args.add(s);
        });
        query.requestId().ifPresent(r -> {
            sql.append(" and request_id = ?");
            args.add(r);
        });
        query.traceId().ifPresent(t -> {
            sql.append(" and trace_id = ?");
            args.add(t);
        });
        query.routeContains().ifPresent(r -> {
            sql.append(" and strpos(coalesce(route, path, ''), ?) > 0");
            args.add(r);
        });
        // a canary's request: its access-log row is marked, and its other rows share the marked row's request id
        String canaryRequest = "(details->'canary' is not null or (request_id <> '' and exists (select 1 from"
                + " audit_event m where m.request_id = audit_event.request_id and m.kind = 'api_call'"
                + " and m.details->'canary' is not null)))";
        switch (query.canary()) {
            case INCLUDE -> {}
            case EXCLUDE ->
                sql.append(" and not coalesce(").append(canaryRequest).append(", false)");
            case ONLY -> sql.append(" and ").append(canaryRequest);
        }
        query.before().ifPresent(b -> {
            // a row comparison in the sort's order: the next page starts right after the last row shown
            sql.append(" and (occurred_at, event_id) < (?, ?)");
            args.add(Timestamp.from(b.occurredAt()));
            args.add(b.eventId());
        });
        boolean scoped = !scope.all();
        if (scoped) {
            sql.append(" and tenant = any (?)");
        }
        sql.append(" order by occurred_at desc, event_id desc limit ?");
        return new TenantScopedTransactions(dataSource).inScope(scope, c -> {
            try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
                int i = 1;
                for (Object arg : args) {
                    ps.setObject(i++, arg);
                }
                if (scoped) {
                    ps.setArray(i++, c.createArrayOf("varchar", scope.tenants().toArray()));
                }
                ps.setInt(i, query.limit());
                List<AuditEvent> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(read(rs));
                    }
                }
                return out;
            }
        });
    }

    /**
     * Streams every event of a UTC month, oldest first, without holding the month in memory.
     *
     * @return the number of events exported
     */
    public long exportMonth(YearMonth month, EventConsumer consumer) throws SQLException, java.io.IOException {
        return export(
                month.atDay(1).atStartOfDay().toInstant(ZoneOffset.UTC),
                month.plusMonths(1).atDay(1).atStartOfDay().toInstant(ZoneOffset.UTC),
                TenantScope.ALL,
                consumer);
    }

    /**
     * Streams the events in {@code [from, to)} that {@code scope} may see, oldest first (confined as
     * {@link #query(AuditQuery, TenantScope)} is).
     *
     * @return the number of events exported
     */
    public long export(Instant from, Instant to, TenantScope scope, EventConsumer consumer)
            throws SQLException, java.io.IOException {
        boolean scoped = !scope.all();
        String sql = SELECT + " where occurred_at >= ? and occurred_at < ?" + (scoped ? " and tenant = any (?)" : "")
                + " order by occurred_at, event_id";
        try {
            // inside a transaction, so pgjdbc streams with a cursor
            return new TenantScopedTransactions(dataSource).inScope(scope, c -> {
                try (PreparedStatement ps = c.prepareStatement(sql)) {
                    ps.setFetchSize(1000);
                    ps.setTimestamp(1, Timestamp.from(from));
                    ps.setTimestamp(2, Timestamp.from(to));
                    if (scoped) {
                        ps.setArray(
                                3, c.createArrayOf("varchar", scope.tenants().toArray()));
                    }
                    long n = 0;
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            try {
                                consumer.accept(read(rs));
                            } catch (java.io.IOException e) {
                                throw new java.io.UncheckedIOException(e);
                            }
                            n++;
                        }
                    }
                    return n;
                }
            });
        } catch (java.io.UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /** Receives one authorization decision's request id, time and the detail values asked for (null where absent). */
    @FunctionalInterface
    public interface DecisionConsumer {
        void accept(String requestId, Instant occurredAt, List<String> details);
    }

    /**
     * Streams the authorization decisions in {@code [from, to)}, oldest first, each with the values of the named
     * {@code details} keys only (no whole rows): read in one transaction through a cursor, {@code batch} rows at a
     * time, so a month of decisions never sits in memory.
     *
     * @return the number of decisions read
     */
    public long decisionDetails(Instant from, Instant to, List<String> keys, int batch, DecisionConsumer consumer)
            throws SQLException {
        return decisionRows(
                from, to, keys, batch, (requestId, at, columns, details) -> consumer.accept(requestId, at, details));
    }

    /**
     * The columns of a decision row that also appear in its details (what a reader can hold the details against):
     * text as stored (masked, cut to the column), {@code status} -1 when the row has none.
     */
    public record DecisionColumns(
            String method,
            String authority,
            int status,
            String decision,
            String reason,
            java.util.Optional<String> route,
            java.util.Optional<String> tenant,
            java.util.Optional<String> subject) {}

    /** Receives one authorization decision's request id, time, columns and the detail values asked for. */
    @FunctionalInterface
    public interface DecisionRowConsumer {
        void accept(String requestId, Instant occurredAt, DecisionColumns columns, List<String> details);
    }

    /**
     * As {@link #decisionDetails}, for the DLP findings ({@code dlp_finding} rows) in {@code [from, to)}: request id,
     * time and the named details (profile, direction, detector, confidence, action), streamed through a cursor.
     */
    public long findingDetails(Instant from, Instant to, List<String> keys, int batch, DecisionConsumer consumer)
            throws SQLException {
        return rows(
                AuditKind.DLP_FINDING,
                from,
                to,
                keys,
                batch,
                Optional.empty(),
                Optional.empty(),
                (requestId, at, columns, details) -> consumer.accept(requestId, at, details));
    }

    /** As {@link #decisionDetails}, with the row's own columns beside the details. */
    public long decisionRows(Instant from, Instant to, List<String> keys, int batch, DecisionRowConsumer consumer)
            throws SQLException {
        return rows(AuditKind.AUTHZ_DECISION, from, to, keys, batch, Optional.empty(), Optional.empty(), consumer);
    }

    /**
     * As {@link #decisionRows}, only the decisions made on one of {@code subscriptions} ({@code details.subscription},
     * V68's index): the rows are chosen by PostgreSQL, not read and dropped here, so a report on one plan reads that
     * plan's rows whatever else the window holds. Each statement of the read (every {@code FETCH}) is cut by PostgreSQL
     * after {@code statementTimeout}, which ends the read with an {@link SQLException} and frees its connection.
     */
    public long decisionRowsOf(
            java.util.Set<String> subscriptions,
            Instant from,
            Instant to,
            List<String> keys,
            int batch,
            java.time.Duration statementTimeout,
            DecisionRowConsumer consumer)
            throws SQLException {
        if (subscriptions.isEmpty()) {
            return 0;
        }
        return rows(
                AuditKind.AUTHZ_DECISION,
                from,
                to,
                keys,
                batch,
                Optional.of(subscriptions),
                Optional.of(statementTimeout),
                consumer);
    }

    private long rows(
            AuditKind kind,
            Instant from,
            Instant to,
            List<String> keys,
            int batch,
            Optional<java.util.Set<String>> subscriptions,
            Optional<java.time.Duration> statementTimeout,
            DecisionRowConsumer consumer)
            throws SQLException {
        if (batch < 1) {
            throw new IllegalArgumentException("batch must be at least 1, got " + batch);
        }
        StringBuilder sql = new StringBuilder(
                "select request_id, occurred_at, method, authority, status, decision, reason, route, tenant, subject");
        for (int i = 0; i < keys.size(); i++) {
            sql.append(", details ->> ?");
        }
        sql.append(" from audit_event where kind = ? and occurred_at >= ? and occurred_at < ?");
        if (subscriptions.isPresent()) {
            // V68's partial index is on authz decisions: the literal lets the planner use it for any parameters
            sql.append(" and kind = 'authz_decision' and details ->> 'subscription' = any(?)");
        }
        sql.append(" order by occurred_at, event_id");
        return new TenantScopedTransactions(dataSource).inScope(TenantScope.ALL, c -> {
            if (statementTimeout.isPresent()) {
                try (Statement limit = c.createStatement()) {
                    limit.execute("set local statement_timeout = "
                            + Math.max(1, statementTimeout.get().toMillis()));
                }
            }
            // A declared cursor, not the driver's fetch size: PostgreSQL then plans for the first rows
            // (cursor_tuple_fraction) and walks the primary key in order, where a portal's plan sorts the whole window
            // before its first row (parallel scan, sort spilled to disk). Each FETCH's rows are held in work_mem
            // before they are sent: a batch larger than work_mem goes through a temporary file.
            try (PreparedStatement declare = c.prepareStatement("declare meshguard_rows no scroll cursor for " + sql)) {
                int i = 1;
                for (String k : keys) {
                    declare.setString(i++, k);
                }
                declare.setString(i++, kind.dbName());
                declare.setTimestamp(i++, Timestamp.from(from));
                declare.setTimestamp(i++, Timestamp.from(to));
                if (subscriptions.isPresent()) {
                    declare.setArray(
                            i, c.createArrayOf("text", subscriptions.get().toArray()));
                }
                declare.execute();
            }
            long n = 0;
            try (PreparedStatement fetch = c.prepareStatement("fetch forward " + batch + " from meshguard_rows")) {
                int got;
                do {
                    got = 0;
                    try (ResultSet rs = fetch.executeQuery()) {
                        while (rs.next()) {
                            consumer.accept(
                                    rs.getString(1), rs.getTimestamp(2).toInstant(), columns(rs), values(rs, keys));
                            got++;
                        }
                    }
                    n += got;
                } while (got == batch);
            }
            try (Statement close = c.createStatement()) {
                close.execute("close meshguard_rows");
            }
            return n;
        });
    }

    private static List<String> values(ResultSet rs, List<String> keys) throws SQLException {
        List<String> values = new ArrayList<>(keys.size());
        for (int k = 0; k < keys.size(); k++) {
            values.add(rs.getString(11 + k));
        }
        return values;
    }

    private static DecisionColumns columns(ResultSet rs) throws SQLException {
        int status = rs.getInt(5);
        if (rs.wasNull()) {
            status = -1;
        }
        return new DecisionColumns(
                Objects.requireNonNullElse(rs.getString(3), ""),
                Objects.requireNonNullElse(rs.getString(4), ""),
                status,
                Objects.requireNonNullElse(rs.getString(6), ""),
                Objects.requireNonNullElse(rs.getString(7), ""),
                java.util.Optional.ofNullable(rs.getString(8)),
                java.util.Optional.ofNullable(rs.getString(9)),
                java.util.Optional.ofNullable(rs.getString(10)));
    }

    private static AuditEvent read(ResultSet rs) throws SQLException {
        String kindName = rs.getString(3);
        AuditKind kind = AuditKind.parse(kindName)
                .orElseThrow(() -> new SQLException("unknown audit kind in the database: " + kindName));
        AuditEvent.Builder b = AuditEvent.builder(kind)
                .eventId(rs.getObject(1, UUID.class))
                .occurredAt(rs.getTimestamp(2).toInstant())
                .requestId(rs.getString(4))
                .traceId(rs.getString(5))
                .tenant(rs.getString(6))
                .subject(rs.getString(7))
                .clientId(rs.getString(8))
                .source(rs.getString(9))
                .callerType(rs.getString(10))
                .method(rs.getString(11))
                .authority(rs.getString(12))
                .path(rs.getString(13))
                .route(rs.getString(14));
        int status = rs.getInt(15);
        if (!rs.wasNull()) {
            b.status(status);
        }
        b.decision(rs.getString(16)).reason(rs.getString(17));
        long v = rs.getLong(18);
        if (!rs.wasNull()) {
            b.latencyUs(v);
        }
        v = rs.getLong(19);
        if (!rs.wasNull()) {
            b.requestBytes(v);
        }
        v = rs.getLong(20);
        if (!rs.wasNull()) {
            b.responseBytes(v);
        }
        b.stream(rs.getBoolean(21));
        b.detailsJson(rs.getString(22));
        return b.build();
    }
}
