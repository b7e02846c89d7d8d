package io.meshguard.db;

import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientConnectionException;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Optional;
import java.util.Set;

/**
 * A failure that is the database being away rather than the request's fault: the connection was lost or refused, the
 * server is shutting down or starting up, it has no connection slot left, or the pool had no connection in time. A
 * caller answers it with "retry later" (503), never as a conflict or a bad request, and names it by its SQLSTATE only,
 * never by the statement's text. Constraint violations (class 23), serialization failures (40001) and every other
 * state are not outages: they keep whatever answer their caller gives them.
 *
 * @param sqlState PostgreSQL's SQLSTATE, or empty when a driver or pool failure carries none
 * @param failure the simple name of the exception that said so, for the log
 */
public record DatabaseOutage(Optional<String> sqlState, String failure) {

    /** The problem code the admin plane answers an outage with ({@code docs/problem-codes.md}). */
    public static final String PROBLEM_CODE = "MG-STORE-001";

    // PostgreSQL's errcodes.txt: 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now (starting up or
    // in recovery), 53300 too_many_connections; class 08 is every connection exception.
    private static final Set<String> AWAY = Set.of("57P01", "57P02", "57P03", "53300");

    /** The outage {@code failure} is, looking through its causes and each SQL exception's next exceptions. */
    public static Optional<DatabaseOutage> in(Throwable failure) {
        Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Throwable t = failure; t != null && seen.add(t); t = t.getCause()) {
            if (t instanceof SQLException sql) {
                for (SQLException e = sql; e != null; e = e.getNextException()) {
                    Optional<DatabaseOutage> found = of(e);
                    if (found.isPresent()) {
                        return found;
                    }
                    if (e.getNextException() != null && !seen.add(e.getNextException())) {
                        break;
                    }
                }
            }
        }
        return Optional.empty();
    }

    private static Optional<DatabaseOutage> of(SQLException e) {
        Optional<String> state = Optional.ofNullable(e.getSQLState()).filter(s -> !s.isBlank());
        boolean away = state.map(s -> s.startsWith("08") || AWAY.contains(s)).orElse(false)
                // HikariCP's pool timeout and the JDBC types for a broken connection, with or without a state
                || e instanceof SQLTransientConnectionException
                || e instanceof SQLNonTransientConnectionException
                || e instanceof SQLRecoverableException;
        return away ? Optional.of(new DatabaseOutage(state, e.getClass().getSimpleName())) : Optional.empty();
    }

    /** {@code SQLSTATE 08006}, or the exception's type when it carries no state: what the log names. */
    public String describe() {
        return sqlState.map(s -> "SQLSTATE " + s).orElse(failure + " without SQLSTATE");
    }
}
