package io.meshguard.authz.replay;

import io.meshguard.authz.policy.Durations;
import io.meshguard.authz.policy.QuotaPolicy;
import io.meshguard.authz.policy.RateLimitPolicy;
import io.meshguard.authz.quota.QuotaGate;
import io.meshguard.authz.quota.QuotaWindow;
import io.meshguard.authz.ratelimit.Gcra;
import io.meshguard.authz.request.PlanUse;
import io.meshguard.catalogmodel.CalendarQuota;
import io.meshguard.catalogmodel.Plan;
import io.meshguard.catalogmodel.PlanLimits;
import io.meshguard.catalogmodel.Subscription;
import io.meshguard.catalogmodel.SubscriptionState;
import io.meshguard.contract.RouteContract;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A plan change decided against the recorded decisions of the plan's subscriptions: the plan's counters run again in
 * recorded time order, once with the limits in force and once with the requested ones, with the arithmetic extauthz
 * counts with ({@link Gcra} for the rate limits, {@link QuotaWindow} and {@link QuotaPolicy#refusesOneMore} for the
 * calendar quotas, in the engine's order: the product's rate limits, the operation's, the route's own limit, then the
 * calendar quotas). A decision is replayed only when the limits in force give the outcome that was recorded; a flip is
 * where the requested limits then decide otherwise (200 → 429, or 429 → 200).
 *
 * <p>Decisions must be given in recorded time order. One instance replays one window on one thread.
 */
public final class PlanReplay {

    /** What the simulation assumes, printed with every report (the approver reads what the figures rest on). */
    public static final List<String> NOTES = List.of(
            "counters are simulated as one counter per subscription (rate limits) and per application and publish"
                    + " (calendar quotas): replicas sharing a blocking quota, or counting rate limits each on its own"
                    + " without Redis, are simulated as one counter",
            "counts start at zero at the window's start: a decision the limits in force do not decide as recorded"
                    + " (use before the window, per-replica counters, a limit changed within the window) is not"
                    + " replayable",
            "a request the requested limits admit past a recorded plan refusal is taken to pass the route's own"
                    + " rate limit and the policy's quotas, which the recorded request never reached");

    /** Why a decision on one of the plan's subscriptions was not replayed. */
    public static final String BEFORE_PLAN_FACTS =
            "recorded before decision rows kept the plan and application (no plan facts)";

    public static final String NOT_REPRODUCED =
            "the limits in force do not reproduce the recorded outcome (use before the window, per-replica counters,"
                    + " or a limit changed within the window)";

    private final String planId;
    private final Set<String> subscriptions;
    private final Counters inForce;
    private final Counters requested;

    /**
     * @param plan the plan as in force
     * @param limits the requested product-wide limits
     * @param operationLimits the requested per-operation limits
     * @param subscriptions the plan's subscriptions: their rows kept without plan facts are listed as not replayable
     */
    public PlanReplay(
            Plan plan, PlanLimits limits, Map<String, PlanLimits> operationLimits, Set<String> subscriptions) {
        this.planId = plan.id();
        this.subscriptions = Set.copyOf(subscriptions);
        this.inForce = new Counters(plan.name(), plan.limits(), plan.operationLimits());
        this.requested = new Counters(plan.name(), limits, Map.copyOf(operationLimits));
    }

    /** How far a recorded decision went through the plan's limits. */
    private enum Reached {
        /** The plan's rate limit refused it. */
        PLAN_RATE_REFUSED,
        /** The plan's rate limits admitted it and the route's own tier refused it (no quota reached). */
        ROUTE_RATE_REFUSED,
        /** The plan's calendar quota refused it. */
        PLAN_QUOTA_REFUSED,
        /** The plan's quotas admitted it and one of the policy's quotas refused it. */
        POLICY_QUOTA_REFUSED,
        ALLOWED
    }

    /** One run's answer for one decision: allowed, or refused with the limit responsible. */
    private record Outcome(boolean allowed, int status, String reason, String limit) {
        static Outcome of(RecordedDecision r) {
            return new Outcome(r.allowed(), r.status(), r.reason(), "");
        }

        boolean sameAs(Outcome o) {
            return allowed == o.allowed && status == o.status;
        }

        String text() {
            return (allowed ? "allow " : "deny ") + status;
        }
    }

    /**
     * Replays one decision; empty when it was not made on this plan (another plan's, or not a product route).
     *
     * @param r the next decision in recorded time order
     */
    public Optional<ReplayOutcome> replay(RecordedDecision r) {
        if (r.subscription().isEmpty()) {
            return Optional.empty();
        }
        if (r.plan().isEmpty()) {
            if (!subscriptions.contains(r.subscription().get())) {
                return Optional.empty();
            }
            // a refusal at the subscription gate names the subscription and no plan: the plan never counted it
            return Optional.of(new ReplayOutcome.NotReplayable(
                    r.allowed() || LIMIT_REASONS.contains(r.reason())
                            ? BEFORE_PLAN_FACTS
                            : "denied before the plan's limits (" + r.reason() + ")"));
        }
        PlanUse use = r.plan().get();
        if (!use.planId().equals(planId)) {
            return Optional.empty();
        }
        Optional<Reached> reached = reached(r);
        if (reached.isEmpty()) {
            return Optional.of(new ReplayOutcome.NotReplayable(
                    r.reason().endsWith("_unavailable")
                            ? "the limit store was unavailable when recorded (" + r.reason() + ")"
                            : "denied before the plan's limits (" + r.reason() + ")"));
        }
        Optional<String> publish = Optional.ofNullable(r.context().get(RouteContract.AuthzContext.PRODUCT_PUBLISH));
        if (publish.isEmpty()) {
            return Optional.of(new ReplayOutcome.NotReplayable("product publish not recorded"));
        }
        String quotaCaller = new Subscription(
                        r.subscription().get(), use.applicationId(), publish.get(), planId, SubscriptionState.ACTIVE)
                .quotaCaller();
        Optional<String> operation = Optional.ofNullable(r.context().get(RouteContract.AuthzContext.PRODUCT_OPERATION));
        Outcome recorded = Outcome.of(r);
        // both runs count every decision, so each keeps its own counts whatever the other decided
        Outcome current = inForce.decide(r, reached.get(), operation, quotaCaller);
        Outcome draft = requested.decide(r, reached.get(), operation, quotaCaller);
        if (!current.sameAs(recorded)) {
            return Optional.of(new ReplayOutcome.NotReplayable(NOT_REPRODUCED));
        }
        if (draft.sameAs(current)) {
            return Optional.of(new ReplayOutcome.Unchanged());
        }
        String rule = draft.allowed() ? "no longer refused by " + current.limit() : draft.limit();
        return Optional.of(new ReplayOutcome.Flip(recorded.text(), draft.text(), draft.reason(), r.route(), rule));
    }

    /** The plan's subscriptions: the only ones whose recorded decisions a report on it reads. */
    public Set<String> subscriptions() {
        return subscriptions;
    }

    /** Whether {@code subscription} is (or was) one of the plan's. */
    public boolean onPlan(String subscription) {
        return subscriptions.contains(subscription);
    }

    /** Whether a decision is this plan's to replay: made on it, or on one of its subscriptions before plan facts. */
    public boolean concerns(RecordedDecision r) {
        return r.plan().isPresent()
                ? r.plan().get().planId().equals(planId)
                : r.subscription().filter(this::onPlan).isPresent();
    }

    /** Who a flip is grouped under: the application and its subscription (the plan's customer). */
    public static String caller(RecordedDecision r) {
        return "application " + r.plan().map(PlanUse::applicationId).orElse("-") + " / subscription "
                + r.subscription().orElse("-");
    }

    private static final Set<String> LIMIT_REASONS = Set.of("rate_limited", "quota_exceeded");

    private static Optional<Reached> reached(RecordedDecision r) {
        if (r.allowed()) {
            return Optional.of(Reached.ALLOWED);
        }
        return switch (r.reason()) {
            case "rate_limited" ->
                Optional.of(
                        r.plan().flatMap(PlanUse::refusedBy).isPresent()
                                ? Reached.PLAN_RATE_REFUSED
                                : Reached.ROUTE_RATE_REFUSED);
            case "quota_exceeded" ->
                r.quota().isEmpty()
                        ? Optional.empty()
                        : Optional.of(
                                isPlanQuota(r.quota().get())
                                        ? Reached.PLAN_QUOTA_REFUSED
                                        : Reached.POLICY_QUOTA_REFUSED);
            default -> Optional.empty();
        };
    }

    private static boolean isPlanQuota(String quota) {
        return quota.equals(PLAN_QUOTA) || quota.startsWith(PLAN_QUOTA + "/");
    }

    /** The counter name of a plan's own calendar quota (the engine's; an operation's is {@code subscription/OP}). */
    private static final String PLAN_QUOTA = "subscription";

    /** One run of the plan's counters under one set of limits. */
    private static final class Counters {
        private final String planName;
        private final PlanLimits product;
        private final Map<String, PlanLimits> operations;
        /** GCRA theoretical arrival times (µs) by counter and limit, as the limiter keeps them. */
        private final Map<String, Long> tats = new HashMap<>();
        /** Calendar counts by quota caller, counter and period start. */
        private final Map<String, Long> used = new HashMap<>();

        Counters(String planName, PlanLimits product, Map<String, PlanLimits> operations) {
            this.planName = planName;
            this.product = product;
            this.operations = operations;
        }

        Outcome decide(RecordedDecision r, Reached reached, Optional<String> operation, String quotaCaller) {
            long now = micros(r.time());
            String subscription = r.subscription().orElseThrow();
            String tier = "plan:" + planName;
            Optional<Outcome> refused = rates(product.rates(), subscription, tier, now);
            if (refused.isPresent()) {
                return refused.get();
            }
            // an operation the plan limits on its own has its own bucket, on top of the product's
            Optional<PlanLimits> own = operation.map(operations::get);
            if (own.isPresent()) {
                refused = rates(
                        own.get().rates(), subscription + "/" + operation.get(), tier + "/" + operation.get(), now);
                if (refused.isPresent()) {
                    return refused.get();
                }
            }
            if (reached == Reached.ROUTE_RATE_REFUSED) {
                return Outcome.of(r);
            }
            List<QuotaGate.SubscriptionQuota> owed = new ArrayList<>(2);
            product.quota().ifPresent(q -> owed.add(new QuotaGate.SubscriptionQuota(PLAN_QUOTA, q)));
            own.flatMap(PlanLimits::quota)
                    .ifPresent(q -> owed.add(new QuotaGate.SubscriptionQuota(PLAN_QUOTA + "/" + operation.get(), q)));
            refused = quotas(owed, quotaCaller, r.time());
            if (refused.isPresent()) {
                return refused.get();
            }
            if (reached == Reached.POLICY_QUOTA_REFUSED) {
                return Outcome.of(r);
            }
            return r.allowed() ? Outcome.of(r) : new Outcome(true, 200, "allowed", "");
        }

        /** The limiter's all-or-nothing step: admitted requests count in every limit, refused ones in none. */
        private Optional<Outcome> rates(
                List<io.meshguard.catalogmodel.Limit> rates, String counter, String tier, long now) {
            if (rates.isEmpty()) {
                return Optional.empty();
            }
            List<RateLimitPolicy.Limit> limits =
                    rates.stream().map(RateLimitPolicy.Limit::ofPlan).toList();
            long[] next = new long[limits.size()];
            for (int i = 0; i < limits.size(); i++) {
                RateLimitPolicy.Limit l = limits.get(i);
                long tat = tats.getOrDefault(key(counter, l), now);
                Gcra.Step step = Gcra.step(tat, now, l.emissionMicros(), l.capacityMicros());
                if (!step.allowed()) {
                    return Optional.of(new Outcome(
                            false,
                            429,
                            "rate_limited",
                            "rate limit " + tier + " " + l.requests() + " per " + Durations.format(l.per())));
                }
                next[i] = step.newTat();
            }
            for (int i = 0; i < limits.size(); i++) {
                tats.put(key(counter, limits.get(i)), next[i]);
            }
            return Optional.empty();
        }

        /** The quotas of one request decided together: a refused request counts against none of them. */
        private Optional<Outcome> quotas(List<QuotaGate.SubscriptionQuota> owed, String caller, Instant at) {
            if (owed.isEmpty()) {
                return Optional.empty();
            }
            List<String> keys = new ArrayList<>(owed.size());
            for (QuotaGate.SubscriptionQuota sq : owed) {
                QuotaPolicy q = sq.asPolicy();
                String key = caller
                        + '\u0000'
                        + sq.counter()
                        + '\u0000'
                        + QuotaWindow.of(q.period(), q.zone(), at).start();
                long count = used.getOrDefault(key, 0L);
                if (q.refusesOneMore(count, sq.quota().limit())) {
                    return Optional.of(new Outcome(false, 429, "quota_exceeded", quotaText(sq)));
                }
                keys.add(key);
            }
            keys.forEach(k -> used.merge(k, 1L, Long::sum));
            return Optional.empty();
        }

        private static String quotaText(QuotaGate.SubscriptionQuota sq) {
            CalendarQuota q = sq.quota();
            return "quota " + sq.counter() + " " + q.limit() + " per "
                    + (q.period() == CalendarQuota.Period.DAY ? "day" : "month");
        }

        private static String key(String counter, RateLimitPolicy.Limit l) {
            return counter + '\u0000' + l.label();
        }

        private static long micros(Instant t) {
            return ChronoUnit.MICROS.between(Instant.EPOCH, t);
        }
    }
}
