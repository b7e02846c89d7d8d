package io.meshguard.e2e;

import io.meshguard.devstack.demo.AuditTrail;
import io.meshguard.emulator.Exchange;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * What a test that waited in vain for a request's audit rows prints, most telling first (a CI log may keep only part
 * of it): the writer's counters and state; the pooled connection the test reads through (its role, tenant setting,
 * and whether it sits in an old transaction); then each request's rows as that pool and as a fresh connection see
 * them, the tenant's rows under request ids the test did not send, and the emulator's steps of the incomplete ones.
 * That tells a row never written from a row the reading connection cannot see.
 */
final class AuditRowsReport {
    private AuditRowsReport() {}

    static String of(E2eStack stack, String tenant, List<Exchange> exchanges) throws SQLException {
        StringBuilder report = new StringBuilder("audit rows missing\n");
        stack.scrapeMetrics()
                .lines()
                .filter(l -> l.startsWith("meshguard_audit_") && !l.startsWith("meshguard_audit_batch_write"))
                .filter(l -> Stream.of("events", "spool", "database", "replay").anyMatch(l::contains))
                .forEach(l -> report.append(l).append('\n'));
        report.append(stack.auditStatus().describe()).append('\n');
        try (Connection pooled = stack.database().getConnection();
                PreparedStatement q = pooled.prepareStatement("select current_user,"
                        + " current_setting('meshguard.tenants', true), current_setting('transaction_isolation'),"
                        + " pg_backend_pid(), clock_timestamp() - now()");
                ResultSet r = q.executeQuery()) {
            r.next();
            report.append("pooled connection: user ")
                    .append(r.getString(1))
                    .append(", meshguard.tenants ")
                    .append(r.getString(2))
                    .append(", isolation ")
                    .append(r.getString(3))
                    .append(", backend ")
                    .append(r.getInt(4))
                    .append(", autocommit ")
                    .append(pooled.getAutoCommit())
                    .append(", transaction age ")
                    .append(r.getString(5))
                    .append('\n');
        }
        List<String> ids = exchanges.stream().map(Exchange::requestId).toList();
        StringBuilder steps = new StringBuilder();
        AuditTrail.Database unpooled = () -> DriverManager.getConnection(stack.jdbcUrlWithCredentials());
        for (Exchange e : exchanges) {
            List<String> seen = AuditTrail.of(stack.database()::getConnection, e.requestId())
                    .kinds();
            List<String> direct = AuditTrail.of(unpooled, e.requestId()).kinds();
            report.append(e.requestId())
                    .append(": status ")
                    .append(e.status())
                    .append(", rows ")
                    .append(seen);
            if (!direct.equals(seen)) {
                report.append(", on a fresh connection ").append(direct);
            }
            report.append('\n');
            if (!seen.containsAll(List.of("authz_decision", "api_call"))) {
                steps.append(e.describe()).append('\n');
            }
        }
        List<String> others = new ArrayList<>();
        try (Connection fresh = unpooled.connect();
                PreparedStatement q = fresh.prepareStatement("select request_id, kind, occurred_at from audit_event"
                        + " where tenant = ? order by occurred_at")) {
            q.setString(1, tenant);
            try (ResultSet r = q.executeQuery()) {
                while (r.next()) {
                    if (!ids.contains(r.getString(1))) {
                        others.add(r.getString(1) + " " + r.getString(2) + " "
                                + r.getTimestamp(3).toInstant());
                    }
                }
            }
        }
        report.append("rows of tenant ")
                .append(tenant)
                .append(" under other request ids: ")
                .append(others)
                .append('\n');
        return report.append(steps).toString();
    }
}
