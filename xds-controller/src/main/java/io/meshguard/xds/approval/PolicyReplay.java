package io.meshguard.xds.approval;

import io.meshguard.authz.policy.AuthzPolicy;
import io.meshguard.authz.policy.AuthzPolicyFiles;
import io.meshguard.runtime.policy.PolicyInvalidException;
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
        AuthzPolicy draft;
        try {
            draft = new AuthzPolicyFiles().parse(files.files());
        } catch (PolicyInvalidException e) {
            // requests are validated when opened: an invalid bundle here is a bug, not a user's mistake
            throw new IllegalStateException("a requested policy no longer parses: " + e.getMessage(), e);
        }
        return ReplayReport.of(decisions.replay(draft, from, to), from, to, clock.instant());
    }
}
