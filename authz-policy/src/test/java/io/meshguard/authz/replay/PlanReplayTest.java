package io.meshguard.authz.replay;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.authz.request.Identity;
import io.meshguard.authz.request.PlanUse;
import io.meshguard.catalogmodel.AuthMode;
import io.meshguard.catalogmodel.CalendarQuota;
import io.meshguard.catalogmodel.Limit;
import io.meshguard.catalogmodel.Plan;
import io.meshguard.catalogmodel.PlanLimits;
import io.meshguard.catalogmodel.PlanState;
import io.meshguard.contract.RouteContract;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * A plan change replayed over decisions recorded as extauthz decides them: each limit kind alone (a product rate limit,
 * a calendar quota, an operation's own limit) changes the outcome at the request where its arithmetic says so, the
 * limits in force flip nothing, and what the record cannot decide is listed with its reason.
 */
class PlanReplayTest {
    private static final Instant T0 = Instant.parse("2026-11-20T10:00:00Z");
    private static final String SUB = "sub-acme-gold";
    private static final String APP = "app-acme-checkout";

    private static Plan plan(PlanLimits limits, Map<String, PlanLimits> operations) {
        return new Plan(
                "payments-gold",
                "payments",
                "gold",
                PlanState.PUBLISHED,
                limits,
                operations,
                Plan.Approval.AUTO,
                Set.of(AuthMode.APIKEY));
    }

    private static PlanLimits rate(long requests, Duration per) {
        return new PlanLimits(List.of(new Limit(requests, per)), Optional.empty());
    }

    private static PlanLimits daily(long limit, boolean block) {
        return new PlanLimits(
                List.of(), Optional.of(new CalendarQuota(CalendarQuota.Period.DAY, limit, ZoneOffset.UTC, block)));
    }

    /** A decision as extauthz records it on a product route of plan {@code planId}. */
    private static RecordedDecision row(
            String id,
            Instant at,
            String operation,
            int status,
            String reason,
            Optional<String> refusedBy,
            Optional<String> quota,
            Optional<String> planId) {
        Map<String, String> context = new TreeMap<>();
        context.put(RouteContract.AuthzContext.PRODUCT_PUBLISH, "payments-prod-eu");
        context.put(RouteContract.AuthzContext.PRODUCT_OPERATION, operation);
        Identity id2 = new Identity(
                "svc-checkout",
                Optional.of("acme"),
                List.of(),
                List.of(),
                Optional.empty(),
                "apikey",
                "meshguard-apikey",
                Optional.empty(),
                Optional.of("key-1"),
                Map.of());
        return new RecordedDecision(
                id,
                at,
                "POST",
                "payments.prod.eu.api.example.com",
                "/charges",
                Map.of(),
                Set.of(),
                Set.of(),
                "",
                Set.of(),
                Set.of(),
                context,
                "",
                Optional.empty(),
                false,
                RecordedDecision.VERIFIED,
                Optional.of(id2),
                status == 200,
                status,
                reason,
                Optional.of("payments-" + operation),
                Optional.empty(),
                quota,
                Optional.of(SUB),
                planId.map(p -> new PlanUse(p, APP, refusedBy)));
    }

    private static RecordedDecision allowed(String id, Instant at, String operation) {
        return row(id, at, operation, 200, "allowed", Optional.empty(), Optional.empty(), Optional.of("payments-gold"));
    }

    private static RecordedDecision planRateRefused(String id, Instant at, String operation, String tier) {
        return row(
                id,
                at,
                operation,
                429,
                "rate_limited",
                Optional.of(tier),
                Optional.empty(),
                Optional.of("payments-gold"));
    }

    private static ImpactReport replay(
            Plan inForce, PlanLimits limits, Map<String, PlanLimits> ops, List<RecordedDecision> rows) {
        PlanReplay replay = new PlanReplay(inForce, limits, ops, Set.of(SUB));
        ImpactReport report = new ImpactReport();
        for (RecordedDecision r : rows) {
            replay.replay(r).ifPresent(o -> report.add(r, o, PlanReplay.caller(r)));
        }
        return report;
    }

    /** Ten calls a second apart, all allowed under 10 per minute. */
    private static List<RecordedDecision> tenAllowed(String operation) {
        List<RecordedDecision> rows = new ArrayList<>();
        for (int i = 1; i <= 10; i++) {
            rows.add(allowed("req-" + i, T0.plusSeconds(i), operation));
        }
        return rows;
    }

    @Test
    void replay_limitsInForce_flipNothing_withEveryLimitKindRefusingSomewhere() {
        // 4 per minute on the product, 2 per minute on "refund", 6 a day: the record shows each limit refusing
        Plan gold = plan(
                new PlanLimits(
                        List.of(new Limit(4, Duration.ofMinutes(1))),
                        Optional.of(new CalendarQuota(CalendarQuota.Period.DAY, 6, ZoneOffset.UTC, true))),
                Map.of("refund", rate(2, Duration.ofMinutes(1))));
        List<RecordedDecision> rows = new ArrayList<>();
        rows.add(allowed("r1", T0.plusSeconds(1), "refund"));
        rows.add(allowed("r2", T0.plusSeconds(2), "refund"));
        // the product's bucket admitted and counted it before the operation's refused it
        rows.add(planRateRefused("r3", T0.plusSeconds(3), "refund", "plan:gold/refund"));
        rows.add(allowed("r4", T0.plusSeconds(4), "charge"));
        rows.add(planRateRefused("r5", T0.plusSeconds(5), "charge", "plan:gold"));
        rows.add(planRateRefused("r6", T0.plusSeconds(6), "charge", "plan:gold"));
        // a minute on, the buckets are full again; three more make six today, the next is over the daily quota
        rows.add(allowed("r7", T0.plusSeconds(90), "charge"));
        rows.add(allowed("r8", T0.plusSeconds(91), "charge"));
        rows.add(allowed("r9", T0.plusSeconds(92), "charge"));
        rows.add(row(
                "r10",
                T0.plusSeconds(93),
                "charge",
                429,
                "quota_exceeded",
                Optional.empty(),
                Optional.of("subscription"),
                Optional.of("payments-gold")));
        // the next day the quota starts again
        rows.add(allowed("r11", T0.plus(Duration.ofDays(1)), "charge"));

        ImpactReport report = replay(gold, gold.limits(), gold.operationLimits(), rows);

        assertThat(report.flipped()).isZero();
        assertThat(report.notReplayableByReason()).isEmpty();
        assertThat(report.unchanged()).isEqualTo(11);
    }

    @Test
    void replay_rateDowngrade_refusesFromTheSixthCallOfTheMinute() {
        Plan gold = plan(rate(10, Duration.ofMinutes(1)), Map.of());

        ImpactReport report = replay(gold, rate(5, Duration.ofMinutes(1)), Map.of(), tenAllowed("charge"));

        assertThat(report.unchanged()).isEqualTo(5);
        assertThat(report.flipped()).isEqualTo(5);
        var group = report.groups().get(0);
        assertThat(group.getKey().from()).isEqualTo("allow 200");
        assertThat(group.getKey().to()).isEqualTo("deny 429");
        assertThat(group.getKey().tenant()).isEqualTo("acme");
        assertThat(group.getKey().route()).isEqualTo("payments-charge");
        assertThat(group.getKey().caller()).isEqualTo("application " + APP + " / subscription " + SUB);
        assertThat(group.getKey().rule()).isEqualTo("rate limit plan:gold 5 per 1m");
        assertThat(group.getValue().samples()).containsExactly("req-6", "req-7", "req-8", "req-9", "req-10");
    }

    @Test
    void replay_calendarQuotaAlone_refusesPastTheDailyLimit_untilTheNextDay() {
        Plan gold = plan(PlanLimits.NONE, Map.of());
        List<RecordedDecision> rows = new ArrayList<>(tenAllowed("charge"));
        rows.add(allowed("next-day", T0.plus(Duration.ofDays(1)), "charge"));

        ImpactReport report = replay(gold, daily(3, true), Map.of(), rows);

        assertThat(report.flipped()).isEqualTo(7);
        assertThat(report.unchanged()).isEqualTo(4);
        var group = report.groups().get(0);
        assertThat(group.getKey().rule()).isEqualTo("quota subscription 3 per day");
        assertThat(group.getValue().samples()).startsWith("req-4");
    }

    @Test
    void replay_quotaThatOnlyFlags_refusesNothing() {
        Plan gold = plan(PlanLimits.NONE, Map.of());

        ImpactReport report = replay(gold, daily(3, false), Map.of(), tenAllowed("charge"));

        assertThat(report.flipped()).isZero();
        assertThat(report.unchanged()).isEqualTo(10);
    }

    @Test
    void replay_operationLimitAlone_refusesThatOperationOnly() {
        Plan gold = plan(PlanLimits.NONE, Map.of());
        List<RecordedDecision> rows = new ArrayList<>();
        for (int i = 1; i <= 4; i++) {
            rows.add(allowed("refund-" + i, T0.plusSeconds(i), "refund"));
            rows.add(allowed("charge-" + i, T0.plusSeconds(i).plusMillis(500), "charge"));
        }

        ImpactReport report = replay(gold, PlanLimits.NONE, Map.of("refund", rate(2, Duration.ofMinutes(1))), rows);

        assertThat(report.flipped()).isEqualTo(2);
        var group = report.groups().get(0);
        assertThat(group.getKey().route()).isEqualTo("payments-refund");
        assertThat(group.getKey().rule()).isEqualTo("rate limit plan:gold/refund 2 per 1m");
        assertThat(group.getValue().samples()).containsExactly("refund-3", "refund-4");
    }

    @Test
    void replay_rateUpgrade_admitsWhatThePlanRefused() {
        Plan gold = plan(rate(2, Duration.ofMinutes(1)), Map.of());
        List<RecordedDecision> rows = List.of(
                allowed("a1", T0.plusSeconds(1), "charge"),
                allowed("a2", T0.plusSeconds(2), "charge"),
                planRateRefused("a3", T0.plusSeconds(3), "charge", "plan:gold"),
                planRateRefused("a4", T0.plusSeconds(4), "charge", "plan:gold"));

        ImpactReport report = replay(gold, rate(10, Duration.ofMinutes(1)), Map.of(), rows);

        assertThat(report.flipped()).isEqualTo(2);
        var group = report.groups().get(0);
        assertThat(group.getKey().from()).isEqualTo("deny 429");
        assertThat(group.getKey().to()).isEqualTo("allow 200");
        assertThat(group.getKey().rule()).isEqualTo("no longer refused by rate limit plan:gold 2 per 1m");
        assertThat(group.getValue().samples()).containsExactly("a3", "a4");
    }

    @Test
    void replay_listsWhatItCannotDecide_andSkipsOtherPlans() {
        Plan gold = plan(rate(2, Duration.ofMinutes(1)), Map.of());
        List<RecordedDecision> rows = List.of(
                // written before rows kept the plan facts
                row("old", T0, "charge", 200, "allowed", Optional.empty(), Optional.empty(), Optional.empty()),
                // refused at the subscription gate: the plan never counted it
                row(
                        "suspended",
                        T0.plusSeconds(1),
                        "charge",
                        403,
                        "subscription_suspended",
                        Optional.empty(),
                        Optional.empty(),
                        Optional.empty()),
                // recorded as refused by the plan, which the limits in force (counting from zero) would have admitted
                planRateRefused("early", T0.plusSeconds(2), "charge", "plan:gold"),
                row(
                        "store-down",
                        T0.plusSeconds(3),
                        "charge",
                        503,
                        "rate_limit_store_unavailable",
                        Optional.of("plan:gold"),
                        Optional.empty(),
                        Optional.of("payments-gold")),
                // another plan's decision is not this report's
                row(
                        "silver",
                        T0.plusSeconds(4),
                        "charge",
                        200,
                        "allowed",
                        Optional.empty(),
                        Optional.empty(),
                        Optional.of("payments-silver")));

        ImpactReport report = replay(gold, rate(1, Duration.ofMinutes(1)), Map.of(), rows);

        assertThat(report.notReplayableByReason())
                .containsEntry(PlanReplay.BEFORE_PLAN_FACTS, 1L)
                .containsEntry("denied before the plan's limits (subscription_suspended)", 1L)
                .containsEntry(PlanReplay.NOT_REPRODUCED, 1L)
                .containsEntry("the limit store was unavailable when recorded (rate_limit_store_unavailable)", 1L);
        assertThat(report.notReplayableTotal()).isEqualTo(4);
        assertThat(report.flipped() + report.unchanged()).isZero();
    }

    @Test
    void recordedPlanFacts_surviveTheRow_andOldRowsStayReadable() {
        RecordedDecision r = planRateRefused("x", T0, "charge", "plan:gold");

        RecordedDecision back = RecordedDecision.fromJson(r.toJson(), "x", T0, Optional.of(SUB));
        String old = r.toJson().replaceAll(",\"pl\":\\{[^}]*\\}", "");
        RecordedDecision before = RecordedDecision.fromJson(old, "x", T0, Optional.of(SUB));

        assertThat(back.plan()).contains(new PlanUse("payments-gold", APP, Optional.of("plan:gold")));
        assertThat(old).doesNotContain("\"pl\"");
        assertThat(before.plan()).isEmpty();
        assertThat(before.reason()).isEqualTo("rate_limited");
    }
}
