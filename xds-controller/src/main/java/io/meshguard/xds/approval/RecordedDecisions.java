package io.meshguard.xds.approval;

import io.meshguard.audit.query.AuditReader;
import io.meshguard.catalog.SubscriptionUsage;
import io.meshguard.extauthz.policy.AuthzPolicy;
import io.meshguard.extauthz.replay.DecisionReplay;
import io.meshguard.extauthz.replay.ImpactReport;
import io.meshguard.extauthz.replay.RecordedDecision;
import io.meshguard.extauthz.replay.RecordedRowCheck;
import io.meshguard.extauthz.replay.ReplayOutcome;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * The authorization decisions of a window as the audit keeps them (PostgreSQL's {@code audit_event} rows, streamed
 * through a cursor {@value #BATCH} rows per round trip, never held in memory), decided again against a draft policy
 * with extauthz's engine ({@link DecisionReplay}). {@code meshguard policy impact}, a policy request's report and a
 * publish request's ({@link GatewayReplay}) read them through here.
 */
public final class RecordedDecisions {
    /** Rows fetched from PostgreSQL per round trip. */
    public static final int BATCH = 5000;

    private final AuditReader reader;

    public RecordedDecisions(AuditReader reader) {
        this.reader = reader;
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
        reader.decisionRows(
                from,
                to,
                List.of(RecordedDecision.AUDIT_DETAIL, SubscriptionUsage.AUDIT_DETAIL),
                BATCH,
                (requestId, at, row, details) -> {
                    String json = details.get(0);
                    if (json == null) {
                        report.notReplayable("recorded without replay facts");
                        return;
                    }
                    RecordedDecision recorded;
                    try {
                        recorded = RecordedDecision.fromJson(json, requestId, at, Optional.ofNullable(details.get(1)));
                    } catch (IllegalArgumentException e) {
                        report.notReplayable("unreadable replay facts (" + e.getMessage() + ")");
                        return;
                    }
                    // facts that disagree with their own row's columns were edited: named, never replayed
                    if (report.agrees(recorded, columns(row))) {
                        report.add(recorded, decide.apply(recorded));
                    }
                });
        return report;
    }

    private static RecordedRowCheck.Columns columns(AuditReader.DecisionColumns c) {
        return new RecordedRowCheck.Columns(
                c.method(), c.authority(), c.status(), c.decision(), c.reason(), c.route(), c.tenant(), c.subject());
    }
}
