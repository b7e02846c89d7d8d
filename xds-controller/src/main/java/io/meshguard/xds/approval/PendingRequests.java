package io.meshguard.xds.approval;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;
import java.util.function.LongFunction;
import javax.sql.DataSource;

/**
 * How both four-eyes flows (gateway publishes, policy files) decide a request: under the request row's lock, only while
 * it is still pending, so two approvers racing decide it once.
 */
final class PendingRequests {
    /** Decides a pending request inside the lock's transaction. */
    @FunctionalInterface
    interface Decision<R, T> {
        T decide(Connection c, R pending) throws SQLException;
    }

    private PendingRequests() {}

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
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                try (PreparedStatement ps = c.prepareStatement(
                        "select id from " + table + " where id = ? and state = 'pending' for update")) {
                    ps.setLong(1, id);
                    try (ResultSet rs = ps.executeQuery()) {
                        if (!rs.next()) {
                            c.rollback();
                            return Optional.empty();
                        }
                    }
                }
                T out = decision.decide(c, read.apply(id).orElseThrow());
                c.commit();
                return Optional.of(out);
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot decide " + what + " " + id + ": " + e.getMessage(), e);
        }
    }
}
