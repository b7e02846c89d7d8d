package io.meshguard.authz.replay;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Holds a decision row's replay facts against the same row's own columns. Decision rows are plain PostgreSQL rows,
 * outside the admin trail's hash chain and signed checkpoints: whoever can write {@code audit_event} can change them,
 * and a report read from them with them. This check only catches an edit of the facts that leaves the columns as
 * they were (or the other way round); an edit of both passes. {@link #COVERAGE} says so in every report.
 */
public final class RecordedRowCheck {
    /** What a replay report can and cannot vouch for, printed with it. */
    public static final String COVERAGE = "integrity: decision rows are not in the admin trail's hash chain nor its "
            + "signed checkpoints; whoever can write audit_event can change them and this report. Checked: each "
            + "row's replay facts against the same row's columns (method, authority, status, decision, reason, "
            + "route, tenant, subject). For tamper evidence compare with the decision log shipped to write-once "
            + "storage.";

    /** The row's own columns, as stored (masked, cut to the column's width). */
    public record Columns(
            String method,
            String authority,
            int status,
            String decision,
            String reason,
            Optional<String> route,
            Optional<String> tenant,
            Optional<String> subject) {}

    private RecordedRowCheck() {}

    /** The columns whose value the facts contradict, in the order above; empty when they agree. */
    public static List<String> disagreements(RecordedDecision facts, Columns row) {
        List<String> out = new ArrayList<>();
        if (!facts.method().equals(row.method())) {
            out.add("method");
        }
        if (!sameOrCut(facts.host(), row.authority())) {
            out.add("authority");
        }
        if (facts.status() != row.status()) {
            out.add("status");
        }
        if (!(facts.allowed() ? "allow" : "deny").equals(row.decision())) {
            out.add("decision");
        }
        if (!facts.reason().equals(row.reason())) {
            out.add("reason");
        }
        if (!facts.route().equals(row.route())) {
            out.add("route");
        }
        if (!same(facts.identity().flatMap(i -> i.tenant()), row.tenant())) {
            out.add("tenant");
        }
        if (!same(facts.identity().map(i -> i.subject()), row.subject())) {
            out.add("subject");
        }
        return out;
    }

    private static boolean same(Optional<String> fact, Optional<String> column) {
        if (fact.isEmpty() || column.isEmpty()) {
            return fact.isEmpty() == column.isEmpty();
        }
        return sameOrCut(fact.get(), column.get());
    }

    /** A column longer than its width was cut when written; the facts keep the whole value. */
    private static boolean sameOrCut(String fact, String column) {
        return fact.equals(column) || (!column.isEmpty() && fact.length() > column.length() && fact.startsWith(column));
    }
}
