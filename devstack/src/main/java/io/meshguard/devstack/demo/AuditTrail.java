package io.meshguard.devstack.demo;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/** The audit rows of one request id, as an operator queries them ({@code audit_event}, oldest first). */
public record AuditTrail(List<Row> rows) {
    public record Row(String kind, String decision, String reason, Integer status, String route, String details) {
        /** One line for people: kind, decision or status, reason, route. */
        public String summary() {
            StringBuilder b = new StringBuilder(kind);
            if (decision != null) {
                b.append(' ').append(decision);
            }
            if (status != null) {
                b.append(' ').append(status);
            }
            if (reason != null) {
                b.append(" (").append(reason).append(')');
            }
            if (route != null) {
                b.append(" route ").append(route);
            }
            return b.toString();
        }
    }

    /** Opens a connection to the audit database. */
    public interface Database {
        Connection connect() throws SQLException;
    }

    public static AuditTrail of(Database db, String requestId) throws SQLException {
        List<Row> rows = new ArrayList<>();
        try (Connection c = db.connect();
                PreparedStatement q = c.prepareStatement("select kind, decision, reason, status, route, details::text "
                        + "from audit_event where request_id = ? order by occurred_at, kind")) {
            q.setString(1, requestId);
            try (ResultSet r = q.executeQuery()) {
                while (r.next()) {
                    rows.add(new Row(
                            r.getString(1),
                            r.getString(2),
                            r.getString(3),
                            (Integer) r.getObject(4),
                            r.getString(5),
                            r.getString(6)));
                }
            }
        }
        return new AuditTrail(rows);
    }

    public List<String> kinds() {
        return rows.stream().map(Row::kind).toList();
    }

    public List<Row> ofKind(String kind) {
        return rows.stream().filter(r -> r.kind().equals(kind)).toList();
    }
}
