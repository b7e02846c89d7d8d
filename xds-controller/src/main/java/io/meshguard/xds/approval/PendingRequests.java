package io.meshguard.xds.approval;

import io.meshguard.db.TenantScope;
import io.meshguard.db.TenantScopedTransactions;
import io.meshguard.db.TenantScopedTransactions.SqlWork;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.Optional;
import java.util.function.LongFunction;
import javax.sql.DataSource;

/**
 * How both four-eyes flows (gateway publishes, policy files) keep their requests: one pending request per subject (a
 * newer one voids it), a replay report kept with it while it is pending, and a decision under the request row's lock,
 * only while it is still pending, so two approvers racing decide it once.
 */
final class PendingRequests {
    /** Decides a pending request inside the lock's transaction. */
    @FunctionalInterface
    interface Decision<R, T> {
        T decide(Connection c, R pending) throws SQLException;
    }

    private PendingRequests() {}

    /**
     * In one transaction: voids the pending request of {@code subject} (the newer one replaces it) and writes the new
     * one with {@code insert}, which returns the new request's id.
     *
     * @param table the requests' table (a constant of the calling store, never input)
     * @param subjectColumn the column naming what a request is about (a constant of the calling store, never input)
     * @param what the request kind as an error message names it
     */
    static long open(
            DataSource dataSource,
            String table,
            String subjectColumn,
            String what,
            String subject,
            String requester,
            Instant at,
            SqlWork<Long> insert) {
        return transaction(dataSource, "cannot store the " + what, c -> {
            try (PreparedStatement ps = c.prepareStatement("update " + table + " set state = 'voided',"
                    + " decided_by = ?, decided_at = ?, decision_reason = 'replaced by a newer request'"
                    + " where " + subjectColumn + " = ? and state = 'pending'")) {
                ps.setString(1, requester);
                ps.setTimestamp(2, Timestamp.from(at));
                ps.setString(3, subject);
                ps.executeUpdate();
            }
            return insert.run(c);
        });
    }

    /** Runs {@code work} in one transaction (rolled back when it throws); a database failure is {@code failure}. */
    private static <T> T transaction(DataSource dataSource, String failure, SqlWork<T> work) {
        try {
            return new TenantScopedTransactions(dataSource).inScope(TenantScope.ALL, work);
        } catch (SQLException e) {
            throw new IllegalStateException(failure + ": " + e.getMessage(), e);
        }
    }

    /** Runs an {@code insert … returning id} statement whose parameters are set; returns the id. */
    static long insertedId(PreparedStatement insert) throws SQLException {
        try (ResultSet rs = insert.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Keeps {@code report} with request {@code id} of {@code table} (replacing an older report) while it is pending. */
    static boolean attachReport(DataSource dataSource, String table, String what, long id, ReplayReport report) {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(
                        "update " + table + " set report = ?::jsonb,"
                                + " report_from = ?, report_to = ?, report_computed_at = ? where id = ? and state = 'pending'")) {
            ps.setString(1, report.toJson().toString());
            ps.setTimestamp(2, Timestamp.from(report.from()));
            ps.setTimestamp(3, Timestamp.from(report.to()));
            ps.setTimestamp(4, Timestamp.from(report.computedAt()));
            ps.setLong(5, id);
            return ps.executeUpdate() == 1;
        } catch (SQLException e) {
            throw new IllegalStateException(
                    "cannot keep the replay report of " + what + " " + id + ": " + e.getMessage(), e);
        }
    }

    /**
     * Runs {@code decision} in one transaction holding the row lock of request {@code id} of {@code table} while its
     * state is pending; empty when it is not (decided, voided, missing).
     *
     * @param table the requests' table (a constant of the calling store, never input)
     * @param what the request kind as an error message names it
     */
    static <R, T> Optional<T> whilePending(
            DataSource dataSource,
            String table,
            String what,
            long id,
            LongFunction<Optional<R>> read,
            Decision<R, T> decision) {
        return transaction(dataSource, "cannot decide " + what + " " + id, c -> {
            try (PreparedStatement ps =
                    c.prepareStatement("select id from " + table + " where id = ? and state = 'pending' for update")) {
                ps.setLong(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return Optional.empty();
                    }
                }
            }
            return Optional.of(decision.decide(c, read.apply(id).orElseThrow()));
        });
    }
}
