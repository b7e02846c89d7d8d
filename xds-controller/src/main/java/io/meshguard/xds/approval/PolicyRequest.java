package io.meshguard.xds.approval;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * A change of a policy's files waiting for, or having had, a second person's decision.
 *
 * @param policy which policy ({@code authz}: the files extauthz enforces)
 * @param requestedByPerson the requester's verified subject: who may not approve it
 * @param digest the requested files' SHA-256 as extauthz computes it: what an approval lets it enforce
 * @param baseDigest the approved bundle the diff is against; empty before the first approval
 * @param diff the requested files against that bundle, unified
 * @param report the replay of the recorded decisions against exactly the requested files; empty until computed
 */
public record PolicyRequest(
        long id,
        String policy,
        State state,
        String requestedBy,
        String requestedByPerson,
        Instant requestedAt,
        String reason,
        String digest,
        Optional<String> baseDigest,
        String diff,
        Optional<ReplayReport> report,
        Optional<String> decidedBy,
        Optional<Instant> decidedAt,
        Optional<String> decisionReason) {

    /** Where a request is. */
    public enum State {
        PENDING,
        /** Approved: its digest is in {@code approved_policy}, so extauthz may enforce these files. */
        APPROVED,
        REJECTED,
        /** A newer request of the same policy replaced it. */
        VOIDED
    }

    public PolicyRequest {
        Objects.requireNonNull(policy, "policy");
        Objects.requireNonNull(state, "state");
    }

    /** Whether the request carries a report computed on its content after it was requested. */
    public boolean reportCurrent() {
        return report.filter(r -> r.coversRequestOf(requestedAt)).isPresent();
    }
}
