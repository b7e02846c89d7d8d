package io.meshguard.xds.approval;

import java.sql.SQLException;
import java.time.Instant;

/**
 * Where a kind of change meets the recorded decisions: the change decided against the decisions recorded in
 * {@code from .. to}, as a {@link ReplayReport}. The one seam a change request's report is computed through.
 *
 * <p>Policy files: {@link PolicyReplay} (extauthz's own engine, {@code DecisionReplay}). A gateway revision (which
 * route, and so which contract, a recorded request gets): {@link GatewayReplay}, the report of a {@link PublishRequest}.
 * A plan change is replayed for the catalogue's plan-change requests by {@link PlanChangeImpact} (its seam is the
 * catalogue's {@code PlanChangeReplay}: the catalogue depends on no decision engine).
 *
 * @param <C> what is requested
 */
@FunctionalInterface
public interface ChangeReplay<C> {
    ReplayReport replay(C change, Instant from, Instant to) throws SQLException;
}
