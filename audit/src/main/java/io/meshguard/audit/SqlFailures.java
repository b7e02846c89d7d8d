package io.meshguard.audit;

import java.sql.SQLException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientException;

/** Tells "the database is away, try again later" apart from "this data can never be written". */
final class SqlFailures {
    private SqlFailures() {}

    /** SQLSTATE 23514 is also a CHECK violation; the message tells a missing partition apart. */
    static boolean isMissingPartition(SQLException e) {
        for (SQLException s = e; s != null; s = s.getNextException()) {
            if ("23514".equals(s.getSQLState())
                    && String.valueOf(s.getMessage()).contains("no partition")) {
                return true;
            }
        }
        return false;
    }

    /**
     * False only for data errors (SQLSTATE class 22: bad value; 23: constraint violation) that a given row would
     * hit on every retry. Everything else (connection loss, shutdown, timeouts, disk full, a missing table or
     * privilege while an operator fixes the schema) is the database being unable right now: the events wait in
     * the spool instead of being set aside.
     */
    static boolean isTransient(SQLException e) {
        if (e instanceof SQLTransientException || e instanceof SQLRecoverableException) {
            return true;
        }
        String state = e.getSQLState();
        if (state == null || state.length() < 2) {
            return true; // driver-level I/O failures come without a state
        }
        String clazz = state.substring(0, 2);
        return !clazz.equals("22") && !clazz.equals("23");
    }
}
