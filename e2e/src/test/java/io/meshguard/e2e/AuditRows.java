package io.meshguard.e2e;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/** The audit rows of one request id, as an operator queries them ({@code audit_event}). */
record AuditRows(List<Row> rows) {
    record Row(String kind, String decision, String reason, Integer status, String route, String details) {}

    static AuditRows of(DataSource db, String requestId) throws Exception {
        List<Row> rows = new ArrayList<>();
        try (Connection c = db.getConnection();
                PreparedStatement q = c.prepareStatement("select kind, decision, reason, status, route, details::text "
                        + "from audit_event where request_id = ? order by occurred_at, kind")) {
            q.setString(1, requestId);
            try (ResultSet r = q.executeQuery()) {
                while (r.next()) {
                    rows.add(new Row(r.getString(1), r.getString(2), r.getString(3), (Integer) r.getObject(4),
                            r.getString(5), r.getString(6)));
                }
            }
        }
        return new AuditRows(rows);
    }

    List<String> kinds() {
        return rows.stream().map(Row::kind).toList();
    }

    List<Row> ofKind(String kind) {
        return rows.stream().filter(r -> r.kind().equals(kind)).toList();
    }
}
