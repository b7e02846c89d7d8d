package io.meshguard.audit.query;

import io.meshguard.audit.AuditEvent;
import io.meshguard.audit.AuditKind;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
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
        sql.append(" order by occurred_at desc, event_id desc limit ?");
        args.add(query.limit());
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(sql.toString())) {
            for (int i = 0; i < args.size(); i++) {
                ps.setObject(i + 1, args.get(i));
            }
            List<AuditEvent> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(read(rs));
                }
            }
            return out;
        }
    }

    /**
     * Streams every event of a UTC month, oldest first, without holding the month in memory.
     *
     * @return the number of events exported
     */
    public long exportMonth(YearMonth month, EventConsumer consumer) throws SQLException, java.io.IOException {
        Instant from = month.atDay(1).atStartOfDay().toInstant(ZoneOffset.UTC);
        Instant to = month.plusMonths(1).atDay(1).atStartOfDay().toInstant(ZoneOffset.UTC);
        try (Connection c = dataSource.getConnection()) {
            boolean autoCommit = c.getAutoCommit();
            c.setAutoCommit(false); // pgjdbc streams with a cursor only inside a transaction
            try (PreparedStatement ps = c.prepareStatement(
                    SELECT + " where occurred_at >= ? and occurred_at < ? order by occurred_at, event_id")) {
                ps.setFetchSize(1000);
                ps.setTimestamp(1, Timestamp.from(from));
                ps.setTimestamp(2, Timestamp.from(to));
                long n = 0;
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        consumer.accept(read(rs));
                        n++;
                    }
                }
                c.commit();
                return n;
            } finally {
                c.setAutoCommit(autoCommit);
            }
        }
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
