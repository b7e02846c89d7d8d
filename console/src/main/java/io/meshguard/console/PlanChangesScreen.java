package io.meshguard.console;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.meshguard.access.AdminGate;
import io.meshguard.access.Scope;
import io.meshguard.audit.AuditEvent;
import io.meshguard.audit.query.AuditQuery;
import io.meshguard.audit.query.AuditReader;
import io.meshguard.catalog.PlanChangeReport;
import io.meshguard.catalog.PlanChangeRequest;
import io.meshguard.catalog.PlanLimitsJson;
import io.meshguard.catalog.api.PlanChanges;
import io.meshguard.catalog.service.OperationRefused;
import io.meshguard.catalogmodel.PlanLimits;
import io.meshguard.db.TenantScope;
import io.meshguard.xds.approval.ReplayReport;
import io.meshguard.xds.model.ConfigJson;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Plan changes: a guarded plan's limit-change requests, each with its replay report (whom the requested
 * limits would start or stop refusing with 429) beside the limits in force and requested; a flip group drills down to
 * its sample request ids' audit rows (read with {@code audit:read} for the caller's tenants, as the Audit screen
 * reads them). Reads, approve and reject call {@link PlanChanges}, the same code as
 * {@code POST /v1/provider/plan-change-requests/{id}/approve}, so the rules (not the requester, a report computed
 * since the request) and the admin-trail rows are the API's.
 */
public final class PlanChangesScreen {
    private final PlanChanges changes;
    private final AuditReader audit;
    private final AdminGate gate;

    public PlanChangesScreen(PlanChanges changes, AuditReader audit, AdminGate gate) {
        this.changes = changes;
        this.audit = audit;
        this.gate = gate;
    }

    CatalogViews.PlanChangeRequests list(Console.Request req, Views.Chrome chrome) {
        List<CatalogViews.PlanChangeRow> rows = changes.list(PortalScreen.who(req)).stream()
                .map(r -> new CatalogViews.PlanChangeRow(
                        r.id(),
                        r.planId(),
                        r.tenant(),
                        lower(r.state()),
                        Views.Person.of(r.requestedBy()),
                        r.requestedAt().toString(),
                        r.reason(),
                        limitsText(r.limitsBefore(), r.operationLimitsBefore()),
                        limitsText(r.limits(), r.operationLimits()),
                        r.report()
                                .map(rep -> rep.flipped() + " of " + rep.decisions())
                                .orElse("no report")))
                .toList();
        return new CatalogViews.PlanChangeRequests(chrome, rows);
    }

    /** One request; {@code ?group=N} drills down to the audit rows of group N's sample request ids. */
    CatalogViews.PlanChangePage page(Console.Request req, Views.Chrome chrome) {
        long id = number(req.segment(2));
        PlanChangeRequest r = changes.show(PortalScreen.who(req), id);
        Optional<ReplayReport> replay = r.report().flatMap(PlanChangesScreen::groups);
        List<ReplayReport.FlipGroup> groups = replay.map(ReplayReport::groups).orElse(List.of());
        int drilled = req.param("group").isEmpty() ? -1 : (int) number(req.param("group"));
        List<Views.AuditRow> samples = new ArrayList<>();
        String samplesNote = "";
        if (drilled >= 0 && drilled < groups.size()) {
            if (!gate.permits(req.caller(), "audit:read", Scope.ANY_TENANT)) {
                samplesNote = "Reading the sample rows needs audit:read.";
            } else {
                TenantScope readable = gate.tenantsOf(req.caller(), "audit:read");
                try {
                    for (String requestId : groups.get(drilled).samples()) {
                        for (AuditEvent e : audit.query(
                                AuditQuery.since(replay.orElseThrow().from())
                                        .withRequestId(requestId)
                                        .withLimit(10),
                                readable)) {
                            samples.add(AuditScreen.row(e));
                        }
                    }
                } catch (SQLException e) {
                    samplesNote = "the audit database is unavailable: " + e.getMessage();
                }
            }
        }
        boolean pending = r.state() == PlanChangeRequest.State.PENDING;
        return new CatalogViews.PlanChangePage(
                chrome,
                r.id(),
                r.planId(),
                r.tenant(),
                lower(r.state()),
                Views.Person.of(r.requestedBy()),
                r.requestedAt().toString(),
                r.reason(),
                r.decidedBy().map(Views.Person::of),
                r.decisionReason().orElse(""),
                r.report().map(PlanChangeReport::decisions).orElse(0L),
                r.report().map(PlanChangeReport::flipped).orElse(0L),
                r.report().map(PlanChangeReport::notReplayable).orElse(0L),
                r.report().map(rep -> List.of(rep.text().split("\n", -1))).orElse(List.of()),
                groups.stream().map(ReplayReport.FlipGroup::sentence).toList(),
                groups.stream().map(ReplayReport.FlipGroup::samples).toList(),
                r.report().isPresent(),
                r.reportCurrent(),
                pretty(r.limitsBefore(), r.operationLimitsBefore()),
                pretty(r.limits(), r.operationLimits()),
                drilled,
                samples,
                samplesNote,
                pending && gate.permits(req.caller(), "plan:approve", Scope.tenant(r.tenant())));
    }

    /**
     * approve or reject, with the reason typed beside the buttons: posted to
     * {@code /console/provider/plan-change-requests/{id}/approve|reject}, the API's own path below {@code /console}.
     */
    Console.Outcome decide(Console.Request req, boolean approve) {
        long id = number(req.segment(3));
        try {
            PlanChangeRequest r = approve
                    ? changes.approve(PortalScreen.who(req), id, req.param("reason"))
                    : changes.reject(PortalScreen.who(req), id, req.param("reason"));
            return new Console.Outcome(
                    true,
                    approve
                            ? "Plan-change request " + id + " approved: plan " + r.planId()
                                    + " has the requested limits now."
                            : "Plan-change request " + id + " rejected.");
        } catch (OperationRefused e) {
            return new Console.Outcome(false, e.getMessage());
        }
    }

    /**
     * The flip groups of the stored report: its detail is the controller's replay report with the catalogue's notes
     * beside it. A detail that is not one (written by an older controller) shows the text without drill-down.
     */
    private static Optional<ReplayReport> groups(PlanChangeReport report) {
        ObjectNode detail = report.detail().deepCopy();
        detail.remove("notes");
        try {
            return Optional.of(ReplayReport.fromJson(detail));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    private static String limitsText(PlanLimits limits, Map<String, PlanLimits> operations) {
        ObjectNode o = ConfigJson.mapper().createObjectNode();
        o.set("limits", PlanLimitsJson.write(limits));
        if (!operations.isEmpty()) {
            o.set("operation_limits", PlanLimitsJson.writeOperations(operations));
        }
        return o.toString();
    }

    private static List<String> pretty(PlanLimits limits, Map<String, PlanLimits> operations) {
        ObjectNode o = ConfigJson.mapper().createObjectNode();
        o.set("limits", PlanLimitsJson.write(limits));
        o.set("operation_limits", PlanLimitsJson.writeOperations(operations));
        return List.of(o.toPrettyString().split("\n", -1));
    }

    private static long number(String text) {
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new OperationRefused(404, "plan-change request " + text + " not found");
        }
    }

    private static String lower(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }

    /** The drill-down link of group {@code index}. */
    static String groupHref(long id, int index) {
        return "/console/plan-changes/" + id + "?group=" + index + "#samples";
    }
}
