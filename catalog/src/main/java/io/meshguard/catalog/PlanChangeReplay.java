package io.meshguard.catalog;

import io.meshguard.catalogmodel.Plan;
import io.meshguard.catalogmodel.PlanLimits;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Map;
import java.util.Set;

/**
 * Where a plan change meets the recorded decisions: the plan's subscriptions' decisions of {@code from .. to} decided
 * again under the requested limits (the controller's {@code PlanChangeImpact}, extauthz's limiter arithmetic). The
 * catalogue depends on no decision engine, so the controller gives it this.
 */
@FunctionalInterface
public interface PlanChangeReplay {
    /** No recorded decisions to replay against (a catalogue without the controller's audit): no report, no approval. */
    PlanChangeReplay NONE = (plan, limits, operationLimits, subscriptions, from, to) -> {
        throw new IllegalStateException("no decision audit is configured to replay a plan change against");
    };

    /**
     * @param plan the plan with the limits in force
     * @param subscriptions the plan's subscriptions (their rows written without plan facts are listed as such)
     */
    PlanChangeReport replay(
            Plan plan,
            PlanLimits limits,
            Map<String, PlanLimits> operationLimits,
            Set<String> subscriptions,
            Instant from,
            Instant to)
            throws SQLException;
}
