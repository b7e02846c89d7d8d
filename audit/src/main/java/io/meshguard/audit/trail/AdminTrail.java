package io.meshguard.audit.trail;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import javax.sql.DataSource;

/**
 * Appends to the hash-chained admin trail (migration V37). An append is synchronous and durable: it returns once its
 * row is committed, and throws when PostgreSQL is away, so the admin plane can refuse a change it could not record
 * rather than make it unrecorded. Appenders of every replica serialise on the chain's head row, so the chain never
 * forks and sequence numbers have no gaps.
 */
public final class AdminTrail {
    /** The trail could not be written; nothing was appended. */
    public static final class UnavailableException extends Exception {
        private static final long serialVersionUID = 1L;

        UnavailableException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** A row as appended. */
    public record Appended(long seq, String rowHash) {}

    private static final ObjectMapper JSON = new ObjectMapper();
    private final DataSource dataSource;

    public AdminTrail(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    public Appended append(AdminTrailEntry e) throws UnavailableException {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                Appended a = appendWithin(c, e);
                c.commit();
                return a;
            } catch (SQLException ex) {
                c.rollback();
                throw ex;
            }
        } catch (SQLException ex) {
            throw new UnavailableException("the admin trail could not be written: " + ex.getMessage(), ex);
        }
    }

    /**
     * Appends {@code e} inside the caller's open transaction on {@code c}: the row commits with the change it records,
     * or neither does. The head row stays locked until that transaction ends, so keep it short.
     */
    public static Appended appendWithin(Connection c, AdminTrailEntry e) throws SQLException {
        long prevSeq;
        String prevHash;
        try (PreparedStatement ps =
                        c.prepareStatement("select seq, row_hash from admin_trail_head where id = 1 for update");
                ResultSet rs = ps.executeQuery()) {
            rs.next();
            prevSeq = rs.getLong(1);
            prevHash = rs.getString(2);
        }
        long seq = prevSeq + 1;
        String hash = TrailHash.of(seq, e, prevHash);
        String details;
        try {
            details = JSON.writeValueAsString(e.details());
        } catch (com.fasterxml.jackson.core.JsonProcessingException ex) {
            throw new SQLException("the entry's details cannot be written as JSON", ex);
        }
        try (PreparedStatement ps = c.prepareStatement("""
                insert into admin_trail (seq, occurred_at, actor, auth_method, tenant, role_used, source_address,
                    request_id, action, target, outcome, before_digest, after_digest, details, prev_hash, row_hash)
                values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?)""")) {
            int i = 1;
            ps.setLong(i++, seq);
            ps.setTimestamp(i++, Timestamp.from(e.occurredAt()));
            ps.setString(i++, e.actor());
            ps.setString(i++, e.authMethod());
            ps.setString(i++, e.tenant().orElse(null));
            ps.setString(i++, e.roleUsed().orElse(null));
            ps.setString(i++, e.sourceAddress().orElse(null));
            ps.setString(i++, e.requestId().orElse(null));
            ps.setString(i++, e.action());
            ps.setString(i++, e.target());
            ps.setString(i++, e.outcome());
            ps.setString(i++, e.beforeDigest().orElse(null));
            ps.setString(i++, e.afterDigest().orElse(null));
            ps.setString(i++, details);
            ps.setString(i++, prevHash);
            ps.setString(i, hash);
            ps.executeUpdate();
        }
        try (PreparedStatement ps =
                c.prepareStatement("update admin_trail_head set seq = ?, row_hash = ? where id = 1")) {
            ps.setLong(1, seq);
            ps.setString(2, hash);
            ps.executeUpdate();
        }
        return new Appended(seq, hash);
    }

    /** The action of the trail row that vouches for an anchor (details {@code anchor_seq}, {@code anchor_hash}). */
    public static final String RETENTION_ACTION = "trail_retention";

    /** A month dropped: the rows it held and the anchor the chain now starts from. */
    public record Dropped(long rows, long anchorSeq, String anchorHash) {}

    /**
     * Retention by month (migrations V40, V66): drops the UTC month's partition through {@code admin_trail_drop_month},
     * which records an anchor (the seq and hash of its highest row) and refuses the current month and every month
     * within {@code retentionMonths} (at least 13) by the database's clock; then appends, in the same transaction, the
     * trail row that vouches for the anchor. {@code meshguard audit verify} accepts an anchor only with that row, so
     * an anchor written by hand does not verify.
     */
    public Dropped dropMonth(java.time.YearMonth month, int retentionMonths, java.time.Instant at)
            throws UnavailableException {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                Dropped d = dropMonthWithin(c, month, retentionMonths, at);
                c.commit();
                return d;
            } catch (SQLException | RuntimeException ex) {
                c.rollback();
                throw ex;
            }
        } catch (SQLException ex) {
            throw new UnavailableException(
                    "the admin trail's month " + month + " could not be dropped: " + ex.getMessage(), ex);
        }
    }

    /** {@link #dropMonth} inside the caller's open transaction on {@code c}: the drop, anchor and row commit together. */
    public static Dropped dropMonthWithin(
            Connection c, java.time.YearMonth month, int retentionMonths, java.time.Instant at) throws SQLException {
        long rows;
        try (PreparedStatement ps = c.prepareStatement("select admin_trail_drop_month(?, ?, ?)")) {
            ps.setObject(1, month.atDay(1));
            ps.setInt(2, retentionMonths);
            ps.setString(3, "retention: " + retentionMonths + " months");
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                rows = rs.getLong(1);
            }
        }
        long anchorSeq = 0;
        String anchorHash = TrailHash.GENESIS;
        try (PreparedStatement ps = c.prepareStatement(
                        "select up_to_seq, row_hash from admin_trail_anchor order by up_to_seq desc limit 1");
                ResultSet rs = ps.executeQuery()) {
            if (rs.next()) {
                anchorSeq = rs.getLong(1);
                anchorHash = rs.getString(2);
            }
        }
        appendWithin(
                c,
                new AdminTrailEntry(
                        at,
                        "audit-maintenance",
                        "system",
                        java.util.Optional.empty(),
                        java.util.Optional.empty(),
                        java.util.Optional.empty(),
                        java.util.Optional.empty(),
                        RETENTION_ACTION,
                        "admin_trail/" + month,
                        "dropped " + rows + " rows, anchored at row " + anchorSeq,
                        java.util.Optional.empty(),
                        java.util.Optional.empty(),
                        java.util.Map.of(
                                "retention_months",
                                Integer.toString(retentionMonths),
                                "anchor_seq",
                                Long.toString(anchorSeq),
                                "anchor_hash",
                                anchorHash)));
        return new Dropped(rows, anchorSeq, anchorHash);
    }

    /** Creates the monthly partitions from {@code month} on, {@code monthsAhead} after it (idempotent). */
    public int ensurePartitions(java.time.YearMonth month, int monthsAhead) throws UnavailableException {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement("select admin_trail_ensure_partitions(?, ?)")) {
            ps.setObject(1, month.atDay(1));
            ps.setInt(2, monthsAhead);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        } catch (SQLException ex) {
            throw new UnavailableException("the admin trail's partitions could not be created: " + ex.getMessage(), ex);
        }
    }
}
