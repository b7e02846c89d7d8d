package io.meshguard.xds.approval;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.meshguard.authz.replay.PlanReplay;
import io.meshguard.catalog.PlanChangeReplay;
import io.meshguard.catalog.PlanChangeReport;
import io.meshguard.catalogmodel.Plan;
import io.meshguard.catalogmodel.PlanLimits;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.Set;

/**
 * A plan-change request's report: the plan's recorded decisions of the window replayed through its counters under
 * the requested limits ({@link PlanReplay}, extauthz's limiter and quota arithmetic), as a {@link ReplayReport} with
 * what the simulation assumes ({@link PlanReplay#NOTES}) beside it.
 */
public final class PlanChangeImpact implements PlanChangeReplay {
    private final RecordedDecisions decisions;
    private final Clock clock;

    public PlanChangeImpact(RecordedDecisions decisions, Clock clock) {
        this.decisions = decisions;
        this.clock = clock;
    }

    @Override
    public PlanChangeReport replay(
            Plan plan,
            PlanLimits limits,
            Map<String, PlanLimits> operationLimits,
            Set<String> subscriptions,
            Instant from,
            Instant to)
            throws SQLException {
        PlanReplay replay = new PlanReplay(plan, limits, operationLimits, subscriptions);
        ReplayReport report = ReplayReport.of(decisions.replay(replay, from, to), from, to, clock.instant());
        ObjectNode detail = report.toJson();
        ArrayNode notes = detail.putArray("notes");
        PlanReplay.NOTES.forEach(notes::add);
        StringBuilder text = new StringBuilder(report.render());
        text.append("simulated:\n");
        PlanReplay.NOTES.forEach(n -> text.append("  ").append(n).append('\n'));
        return new PlanChangeReport(
                report.computedAt(),
                report.decisions(),
                report.flipped(),
                report.notReplayable(),
                text.toString(),
                detail);
    }
}
