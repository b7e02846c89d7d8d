package io.meshguard.xds.approval;

import io.meshguard.audit.query.AuditReader;
import io.meshguard.authz.policy.AuthzPolicy;
import io.meshguard.authz.replay.DecisionReplay;
import io.meshguard.authz.replay.ImpactReport;
import io.meshguard.authz.replay.PlanReplay;
import io.meshguard.authz.replay.RecordedDecision;
import io.meshguard.authz.replay.RecordedRowCheck;
import io.meshguard.authz.replay.ReplayOutcome;
import io.meshguard.catalogmodel.SubscriptionUsage;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * The authorization decisions of a window as the audit keeps them (PostgreSQL's {@code audit_event} rows, streamed
 * through a declared cursor {@value #BATCH} rows per round trip, never held in memory), decided again against a draft
 * policy with extauthz's engine ({@link DecisionReplay}). {@code meshguard policy impact}, a policy request's report,
 * a publish request's ({@link GatewayReplay}) and a plan change's read them through here. Rows are decided on the
 * reading thread between fetches: reading on a thread of its own and deciding on another was no faster on two cores
 * (docs/benchmarks.md, "Replay from PostgreSQL"), the rows' JSON and the decisions being most of the time.
 */
public final class RecordedDecisions {
    /**
     * Rows fetched from PostgreSQL per round trip. PostgreSQL holds a {@code FETCH}'s rows in {@code work_mem} (4 MB by
     * default) before it sends them and writes them to a temporary file beyond: 1,000 rows of about 1 KB (the replay
     * facts are most of it) stay below, 5,000 wrote ~740 MB of temporary files per million decisions.
     */
    public static final int BATCH = 1000;

    /**
     * How long one statement of a plan's read (a {@code FETCH}) may run before PostgreSQL cuts it: a report that has to
     * wait that long for 1,000 rows of one plan is refused rather than left holding its connection.
     */
    public static final Duration PLAN_STATEMENT_TIMEOUT = Duration.ofSeconds(30);

    private final AuditReader reader;
    private final int batch;
    private final Duration planStatementTimeout;

    public RecordedDecisions(AuditReader reader) {
        this(reader, BATCH);
    }

    /** @param batch rows fetched per round trip (tests make a window span several) */
    public RecordedDecisions(AuditReader reader, int batch) {
        this(reader, batch, PLAN_STATEMENT_TIMEOUT);
    }

    /** @param planStatementTimeout how long one statement of a plan's read may run */
    public RecordedDecisions(AuditReader reader, int batch, Duration planStatementTimeout) {
        if (batch < 1) {
            throw new IllegalArgumentException("batch must be at least 1, got " + batch);
        }
        if (planStatementTimeout.isNegative() || planStatementTimeout.isZero()) {
            throw new IllegalArgumentException("the statement timeout must be positive, got " + planStatementTimeout);
        }
        this.reader = reader;
        this.batch = batch;
        this.planStatementTimeout = planStatementTimeout;
    }

    /** Streams the decisions recorded in {@code from .. to} through {@code draft}. */
    public ImpactReport replay(AuthzPolicy draft, Instant from, Instant to) throws SQLException {
        return replay(new DecisionReplay(draft)::replay, from, to);
    }

    /**
     * Streams the decisions recorded in {@code from .. to} through {@code decide} (a draft's decision of one recorded
     * decision): the rows read, checked against their own columns and counted as the policy replay counts them.
     */
    public ImpactReport replay(Function<RecordedDecision, ReplayOutcome> decide, Instant from, Instant to)
            throws SQLException {
        ImpactReport report = new ImpactReport();
        read(
                from,
                to,
                Optional.empty(),
                report,
                s -> true,
                r -> true,
                recorded -> report.add(recorded, decide.apply(recorded)));
        return report;
    }

    /**
     * Streams the decisions recorded in {@code from .. to}, in recorded order, through a plan change's counters; only
     * the plan's decisions are counted in the report. PostgreSQL chooses the rows of the plan's subscriptions (V68's
     * index), so the read costs what the plan's calls cost, not the window's; a subscription that has moved to another
     * plan is no longer the plan's, and its rows are not read (a change of this plan's limits no longer decides them).
     */
    public ImpactReport replay(PlanReplay plan, Instant from, Instant to) throws SQLException {
        ImpactReport report = new ImpactReport();
        // rows of other plans and of routes outside any product are not this report's, not even as unreadable
        read(
                from,
                to,
                Optional.of(plan.subscriptions()),
                report,
                subscription -> subscription.filter(plan::onPlan).isPresent(),
                plan::concerns,
                recorded -> plan.replay(recorded)
                        .ifPresent(outcome -> report.add(recorded, outcome, PlanReplay.caller(recorded))));
        return report;
    }

    /**
     * @param unreadableCounts whether a row without readable facts counts as not replayable, by its subscription
     * @param concerns whether a readable row is checked and replayed at all
     */
    private void read(
            Instant from,
            Instant to,
            Optional<Set<String>> subscriptions,
            ImpactReport report,
            Predicate<Optional<String>> unreadableCounts,
            Predicate<RecordedDecision> concerns,
            Consumer<RecordedDecision> replay)
            throws SQLException {
        List<String> keys = List.of(RecordedDecision.AUDIT_DETAIL, SubscriptionUsage.AUDIT_DETAIL);
        AuditReader.DecisionRowConsumer each = (requestId, at, row, details) -> {
            String json = details.get(0);
            Optional<String> subscription = Optional.ofNullable(details.get(1));
            if (json == null) {
                if (unreadableCounts.test(subscription)) {
                    report.notReplayable("recorded without replay facts");
                }
                return;
            }
            RecordedDecision recorded;
            try {
                recorded = RecordedDecision.fromJson(json, requestId, at, subscription);
            } catch (IllegalArgumentException e) {
                if (unreadableCounts.test(subscription)) {
                    report.notReplayable("unreadable replay facts (" + e.getMessage() + ")");
                }
                return;
            }
            if (!concerns.test(recorded)) {
                return;
            }
            // facts that disagree with their own row's columns were edited: named, never replayed
            if (report.agrees(recorded, columns(row))) {
                replay.accept(recorded);
            }
        };
        if (subscriptions.isPresent()) {
            reader.decisionRowsOf(subscriptions.get(), from, to, keys, batch, planStatementTimeout, each);
        } else {
            reader.decisionRows(from, to, keys, batch, each);
        }
    }

    private static RecordedRowCheck.Columns columns(AuditReader.DecisionColumns c) {
        return new RecordedRowCheck.Columns(
                c.method(), c.authority(), c.status(), c.decision(), c.reason(), c.route(), c.tenant(), c.subject());
    }
}
