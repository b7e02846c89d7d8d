package io.meshguard.catalog.api;

import io.meshguard.access.Person;
import io.meshguard.catalog.PlanChangeReplay;
import io.meshguard.catalog.PlanChangeReport;
import io.meshguard.catalog.PlanChangeRequest;
import io.meshguard.catalog.PlanChangeStore;
import io.meshguard.catalog.service.AdmittedCall;
import io.meshguard.catalog.service.OperationRefused;
import io.meshguard.catalogmodel.Plan;
import io.meshguard.catalogmodel.PlanLimits;
import io.meshguard.db.TenantScope;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Four eyes on a plan's limits (docs/products.md "Plan changes"): on a guarded plan (live subscriptions, or
 * its product published) a change of its rate limits, calendar quota or per-operation limits is requested with exactly
 * those limits and carries the replay report of the plan's recorded decisions against them (whom it would start or
 * stop refusing with 429); another person approves or rejects it, and the limits change only at the approval. An
 * approval needs a report computed after the request was opened. An unguarded plan's limits are edited directly:
 * nobody's calls depend on them, so there is nothing to replay. Every step is a row of the admin trail.
 */
public final class PlanChanges {
    /** The window of recorded decisions a report replays. */
    public static final Duration DEFAULT_WINDOW = Duration.ofDays(30);

    private static final Logger LOG = LoggerFactory.getLogger(PlanChanges.class);

    private final CatalogService service;
    private final PlanChangeStore store;
    private final PlanChangeReplay replay;
    private final Duration window;
    private final ReportSlots slots;

    public PlanChanges(CatalogService service, PlanChangeReplay replay, Duration window) {
        this(service, replay, window, ReportSlots.DEFAULT);
    }

    /**
     * @param slots how many reports are computed at once, in all and per tenant: a report reads a window of the audit
     *     and holds a database connection while it does, so these bound what report requests take from everyone else
     */
    public PlanChanges(CatalogService service, PlanChangeReplay replay, Duration window, ReportSlots.Limits slots) {
        this.service = service;
        this.store = service.store().planChanges();
        this.replay = replay;
        this.window = window;
        this.slots = new ReportSlots(slots);
    }

    /** Edits an unguarded plan's limits at once; a guarded plan's are refused (409) with the way to request them. */
    public Plan edit(AdmittedCall who, String planId, PlanLimits limits, Map<String, PlanLimits> operations) {
        TenantScope scope = service.tenants(who, "plan:create");
        Plan plan = CatalogService.refusing(() -> store.editLimits(scope, planId, limits, operations));
        service.recorded(
                who,
                "plan:create",
                "plan/" + planId,
                "limits edited directly (no live subscription, product not published)",
                "",
                CatalogJson.plan(plan));
        return plan;
    }

    /**
     * Requests {@code limits} for a guarded plan and computes its report. A report that cannot be computed now leaves
     * the request without one: it can be recomputed and cannot be approved before.
     */
    public PlanChangeRequest request(
            AdmittedCall who, String planId, PlanLimits limits, Map<String, PlanLimits> operations, String reason) {
        TenantScope scope = service.tenants(who, "plan:change");
        String why = CatalogService.requiredReason(reason);
        PlanChangeStore.Target target = CatalogService.refusing(() -> store.target(scope, planId));
        if (!target.guarded()) {
            throw new OperationRefused(
                    409,
                    "plan " + planId + " has no live subscription and its product is not published: edit its limits"
                            + " directly (PUT /v1/provider/plans/" + planId + "/limits)");
        }
        PlanChangeRequest opened = CatalogService.refusing(() ->
                store.open(scope, planId, who.caller().person(), who.caller().actor(), now(), why, limits, operations));
        service.recorded(
                who,
                "plan:change",
                target(opened),
                "limits of plan " + planId + " (" + PlanChangeStore.guardedBecause(target)
                        + ") wait for a second person's approval: " + why,
                opened.tenant(),
                CatalogJson.planChange(opened));
        return withReport(who, scope, opened, target, false);
    }

    /** Computes a pending request's report again on its stored limits (one opened while the audit was away). */
    public PlanChangeRequest recompute(AdmittedCall who, long id) {
        TenantScope scope = service.tenants(who, "plan:change");
        PlanChangeRequest r = pending(scope, id);
        PlanChangeStore.Target target = CatalogService.refusing(() -> store.target(scope, r.planId()));
        return withReport(who, scope, r, target, true);
    }

    public PlanChangeRequest show(AdmittedCall who, long id) {
        return found(service.tenants(who, "plan:read"), id);
    }

    public List<PlanChangeRequest> list(AdmittedCall who) {
        return store.list(service.tenants(who, "plan:read"), 200);
    }

    /**
     * Approves: the plan's limits become the requested ones. Refused to the requester, to the break-glass token, and
     * while the request has no report computed after it was requested.
     */
    public PlanChangeRequest approve(AdmittedCall who, long id, String reason) {
        TenantScope scope = service.tenants(who, "plan:approve");
        String why = CatalogService.requiredReason(reason);
        PlanChangeRequest r = pending(scope, id);
        Person approver = who.caller().person();
        if (!approver.maySecond()) {
            throw new OperationRefused(
                    403,
                    "the break-glass token is no second person: plan-change request " + id
                            + " needs another signed-in person with plan:approve");
        }
        if (r.requestedByPerson().equals(approver.id())) {
            throw new OperationRefused(
                    403,
                    who.caller().actor() + " requested plan-change request " + id + "; another person must approve it");
        }
        if (!r.reportCurrent()) {
            throw new OperationRefused(
                    409,
                    "plan-change request " + id + " has no replay report computed on its limits since it was"
                            + " requested; compute it (POST /v1/provider/plan-change-requests/" + id
                            + "/report) and read it before approving");
        }
        PlanChangeRequest decided = CatalogService.refusing(() -> store.decide(
                        scope,
                        id,
                        PlanChangeRequest.State.APPROVED,
                        who.caller().actor(),
                        why,
                        now())
                .orElseThrow(() -> new OperationRefused(
                        409, "plan-change request " + id + " was decided by someone else meanwhile")));
        PlanChangeReport report = r.report().orElseThrow();
        service.recorded(
                who,
                "plan:approve",
                target(decided),
                "limits of plan " + r.planId() + " requested by " + r.requestedBy() + " (" + r.reason()
                        + ") approved and applied: " + why + "; its report: " + report.flipped() + " flipped of "
                        + report.decisions() + " decisions",
                decided.tenant(),
                CatalogJson.planChange(decided));
        return decided;
    }

    /** Rejects a pending request; anyone with {@code plan:approve} may, the requester too (a withdrawal). */
    public PlanChangeRequest reject(AdmittedCall who, long id, String reason) {
        TenantScope scope = service.tenants(who, "plan:approve");
        String why = CatalogService.requiredReason(reason);
        PlanChangeRequest r = pending(scope, id);
        PlanChangeRequest decided = CatalogService.refusing(() -> store.decide(
                        scope,
                        id,
                        PlanChangeRequest.State.REJECTED,
                        who.caller().actor(),
                        why,
                        now())
                .orElseThrow(() -> new OperationRefused(409, "plan-change request " + id + " is no longer pending")));
        service.recorded(
                who,
                "plan:approve",
                target(decided),
                "limits of plan " + r.planId() + " rejected: " + why,
                decided.tenant(),
                CatalogJson.planChange(decided));
        return decided;
    }

    /**
     * @param asked whether computing the report is what the caller asked for (a busy answer is then 429); when it
     *     only follows the opening, the request stays without a report, to be computed later
     */
    private PlanChangeRequest withReport(
            AdmittedCall who, TenantScope scope, PlanChangeRequest r, PlanChangeStore.Target target, boolean asked) {
        Instant to = now();
        PlanChangeReport report;
        try (ReportSlots.Slot slot = slots.take(r.id(), r.tenant())) {
            report = replay.replay(
                    target.plan(), r.limits(), r.operationLimits(), target.subscriptions(), to.minus(window), to);
        } catch (ReportSlots.Busy e) {
            LOG.warn("plan-change request {}: report not computed now: {}", r.id(), e.getMessage());
            if (asked) {
                throw new OperationRefused(429, e.getMessage());
            }
            return r;
        } catch (SQLException | RuntimeException e) {
            LOG.warn("plan-change request {}: the replay report could not be computed: {}", r.id(), e.getMessage());
            return r;
        }
        if (!store.attachReport(scope, r.id(), report)) {
            return found(scope, r.id());
        }
        service.recorded(
                who,
                "plan:change",
                target(r),
                "replayed " + report.decisions() + " decisions of plan " + r.planId() + ": " + report.flipped()
                        + " flipped, " + report.notReplayable() + " not replayable",
                r.tenant(),
                report.detail());
        return found(scope, r.id());
    }

    private PlanChangeRequest found(TenantScope scope, long id) {
        return store.get(scope, id)
                .orElseThrow(() -> new OperationRefused(404, "plan-change request " + id + " not found"));
    }

    private PlanChangeRequest pending(TenantScope scope, long id) {
        PlanChangeRequest r = found(scope, id);
        if (r.state() != PlanChangeRequest.State.PENDING) {
            throw new OperationRefused(409, "plan-change request " + id + " is " + CatalogJson.lower(r.state()));
        }
        return r;
    }

    /** Microseconds: what PostgreSQL keeps, so a report computed now is never older than its request read back. */
    private Instant now() {
        return service.clock().instant().truncatedTo(ChronoUnit.MICROS);
    }

    private static String target(PlanChangeRequest r) {
        return "plan-change-request/" + r.planId() + "/" + r.id();
    }
}
