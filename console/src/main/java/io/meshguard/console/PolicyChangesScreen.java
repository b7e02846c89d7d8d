package io.meshguard.console;

import io.meshguard.access.AdminGate;
import io.meshguard.access.Scope;
import io.meshguard.audit.AuditEvent;
import io.meshguard.audit.query.AuditQuery;
import io.meshguard.audit.query.AuditReader;
import io.meshguard.db.TenantScope;
import io.meshguard.runtime.http.AdminJson;
import io.meshguard.xds.approval.PolicyChanges;
import io.meshguard.xds.approval.PolicyRequest;
import io.meshguard.xds.approval.ReplayReport;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Policy changes: the requests of the authz policy files and of dlp.yaml, each with its replay report beside its diff; a flip
 * group drills down to its sample request ids' audit rows (read with {@code audit:read}, as the Audit screen reads
 * them). Approve and reject call {@link PolicyChanges}, the same code as {@code POST /policy-requests/{id}/approve},
 * so the rules (not the requester, a report computed since the request) and the trail rows are one.
 */
public final class PolicyChangesScreen {
    private final PolicyChanges changes;
    private final AuditReader audit;
    private final AdminGate gate;

    public PolicyChangesScreen(PolicyChanges changes, AuditReader audit, AdminGate gate) {
        this.changes = changes;
        this.audit = audit;
        this.gate = gate;
    }

    /** The audit rows' reader (the Plan changes screen drills down through the same one). */
    AuditReader audit() {
        return audit;
    }

    Views.PolicyRequests list(Views.Chrome chrome) {
        List<Views.PolicyRequestRow> rows = changes.store().list().stream()
                .map(r -> new Views.PolicyRequestRow(
                        r.id(),
                        r.policy(),
                        lower(r.state()),
                        Views.Person.of(r.requestedBy()),
                        r.requestedAt().toString(),
                        r.reason(),
                        r.digest().substring(0, 12),
                        r.report()
                                .map(rep -> rep.flipped() + " of " + rep.decisions())
                                .orElse("no report")))
                .toList();
        return new Views.PolicyRequests(chrome, rows);
    }

    /** One request; {@code ?group=N} drills down to the audit rows of group N's sample request ids. */
    Views.PolicyRequestPage page(Console.Request req, Views.Chrome chrome) {
        long id = number(req.segment(2));
        PolicyRequest r =
                changes.store().get(id).orElseThrow(() -> new AdminJson.Refusal(404, "no policy request " + id));
        List<ReplayReport.FlipGroup> groups =
                r.report().map(ReplayReport::groups).orElse(List.of());
        int drilled = req.param("group").isEmpty() ? -1 : (int) number(req.param("group"));
        List<Views.AuditRow> samples = new ArrayList<>();
        String samplesNote = "";
        if (drilled >= 0 && drilled < groups.size()) {
            if (!gate.permits(req.caller(), "audit:read", Scope.SYSTEM)) {
                samplesNote = "Reading the sample rows needs audit:read.";
            } else {
                try {
                    for (String requestId : groups.get(drilled).samples()) {
                        for (AuditEvent e : audit.query(
                                AuditQuery.since(r.report().orElseThrow().from())
                                        .withRequestId(requestId)
                                        .withLimit(10),
                                TenantScope.ALL)) {
                            samples.add(AuditScreen.row(e));
                        }
                    }
                } catch (SQLException e) {
                    samplesNote = "the audit database is unavailable: " + e.getMessage();
                }
            }
        }
        boolean pending = r.state() == PolicyRequest.State.PENDING;
        return new Views.PolicyRequestPage(
                chrome,
                r.id(),
                lower(r.state()),
                Views.Person.of(r.requestedBy()),
                r.requestedAt().toString(),
                r.reason(),
                r.digest(),
                r.decidedBy().map(Views.Person::of),
                r.decisionReason().orElse(""),
                r.report()
                        .map(rep -> rep.from() + " .. " + rep.to() + " (computed " + rep.computedAt() + ")")
                        .orElse(""),
                r.report().map(ReplayReport::decisions).orElse(0L),
                r.report().map(ReplayReport::unchanged).orElse(0L),
                r.report().map(ReplayReport::flipped).orElse(0L),
                r.report().map(ReplayReport::notReplayable).orElse(0L),
                groups.stream().map(ReplayReport.FlipGroup::sentence).toList(),
                groups.stream().map(ReplayReport.FlipGroup::samples).toList(),
                r.report()
                        .map(rep -> rep.notReplayableByReason().entrySet().stream()
                                .map(e -> e.getValue() + "  " + e.getKey())
                                .sorted()
                                .toList())
                        .orElse(List.of()),
                r.report().isPresent(),
                r.reportCurrent(),
                List.of(r.diff().split("\n", -1)),
                drilled,
                samples,
                samplesNote,
                pending && gate.permits(req.caller(), "policy:approve", Scope.SYSTEM));
    }

    /** Who enforces the request's files. */
    private static String server(PolicyRequest r) {
        return r.policy().equals(PolicyChanges.DLP) ? "the DLP server" : "extauthz";
    }

    /** approve or reject, with the reason typed beside the buttons. */
    Console.Outcome decide(Console.Request req, boolean approve) {
        long id = number(req.segment(2));
        try {
            PolicyRequest r = approve
                    ? changes.approve(id, req.caller().person(), req.requestId(), req.param("reason"))
                    : changes.reject(id, req.caller().person(), req.requestId(), req.param("reason"));
            return new Console.Outcome(
                    true,
                    approve
                            ? "Policy request " + id + " approved: " + server(r) + " may enforce files " + r.digest()
                                    + "."
                            : "Policy request " + id + " rejected.");
        } catch (AdminJson.Refusal e) {
            return new Console.Outcome(false, e.getMessage());
        }
    }

    private static long number(String text) {
        return Console.number(text, "policy request");
    }

    private static String lower(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }

    /** The drill-down link of group {@code index}. */
    static String groupHref(long id, int index) {
        return "/console/policy-requests/" + id + "?group=" + index + "#samples";
    }
}
