package io.meshguard.xds.approval;

import io.meshguard.authz.policy.AuthzPolicy;
import io.meshguard.authz.policy.AuthzPolicyFiles;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;

/** A policy request's report: the requested {@code authz} files replayed over the recorded decisions. */
public final class PolicyReplay implements ChangeReplay<PolicyBundle> {
    private final RecordedDecisions decisions;
    private final Clock clock;

    public PolicyReplay(RecordedDecisions decisions, Clock clock) {
        this.decisions = decisions;
        this.clock = clock;
    }

    @Override
    public ReplayReport replay(PolicyBundle files, Instant from, Instant to) throws SQLException {
        AuthzPolicy draft = files.parsed(new AuthzPolicyFiles());
        return ReplayReport.of(decisions.replay(draft, from, to), from, to, clock.instant());
    }
}
