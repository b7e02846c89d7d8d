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
        try (PreparedStatement ps = c.prepareStatement(
                "select seq, row_hash from admin_trail_head where id = 1 for update");
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
        try (PreparedStatement ps = c.prepareStatement("update admin_trail_head set seq = ?, row_hash = ? where id = 1")) {
            ps.setLong(1, seq);
            ps.setString(2, hash);
            ps.executeUpdate();
        }
        return new Appended(seq, hash);
    }

    /**
     * Retention by month (migration V40): drops the UTC month's partition after recording, in the same transaction,
     * an anchor with the seq and hash of its highest row, so the kept chain still verifies. Refused (an exception)
     * when a kept row of another month has a lower seq than that row.
     *
     * @return the rows dropped
     */
    public long dropMonth(java.time.YearMonth month, String reason) throws UnavailableException {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement("select admin_trail_drop_month(?, ?)")) {
            ps.setObject(1, month.atDay(1));
            ps.setString(2, reason);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        } catch (SQLException ex) {
            throw new UnavailableException("the admin trail's month " + month + " could not be dropped: "
                    + ex.getMessage(), ex);
        }
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

    /**
     * Removes the rows up to {@code seq} (retention), recording first, in the same transaction, an anchor with the
     * hash of the last removed row: the kept chain then still verifies, and a removal without an anchor does not.
     */
    public int pruneThrough(long seq, String reason) throws UnavailableException {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                String hash;
                try (PreparedStatement ps = c.prepareStatement("select row_hash from admin_trail where seq = ?")) {
                    ps.setLong(1, seq);
                    try (ResultSet rs = ps.executeQuery()) {
                        if (!rs.next()) {
                            c.rollback();
                            return 0;
                        }
                        hash = rs.getString(1);
                    }
                }
                try (PreparedStatement ps = c.prepareStatement(
                        "insert into admin_trail_anchor (up_to_seq, row_hash, reason) values (?, ?, ?)")) {
                    ps.setLong(1, seq);
                    ps.setString(2, hash);
                    ps.setString(3, reason);
                    ps.executeUpdate();
                }
                int removed;
                try (PreparedStatement ps = c.prepareStatement("delete from admin_trail where seq <= ?")) {
                    ps.setLong(1, seq);
                    removed = ps.executeUpdate();
                }
                c.commit();
                return removed;
            } catch (SQLException ex) {
                c.rollback();
                throw ex;
            }
        } catch (SQLException ex) {
            throw new UnavailableException("the admin trail could not be pruned: " + ex.getMessage(), ex);
        }
    }
}
