package io.meshguard.xds.approval;

import java.sql.SQLException;
import java.time.Instant;

/**
 * Where a kind of change meets the recorded decisions: the change decided against the decisions recorded in
 * {@code from .. to}, as a {@link ReplayReport}. The one seam a change request's report is computed through.
 *
 * <p>Policy files: {@link PolicyReplay} (extauthz's own engine, {@code DecisionReplay}). A gateway revision (which
 * route and profile applies) and a plan change are not replayed yet: their engines are being built in authz-policy's
 * replay package, and a publish request ({@link PublishRequest}) carries no report until an implementation of this
 * interface for {@code GatewayConfig} (and one for a plan change) is given to it.
 *
 * @param <C> what is requested
 */
@FunctionalInterface
public interface ChangeReplay<C> {
    ReplayReport replay(C change, Instant from, Instant to) throws SQLException;
}
