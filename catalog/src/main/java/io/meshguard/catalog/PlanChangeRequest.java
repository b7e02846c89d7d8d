package io.meshguard.catalog;

import io.meshguard.catalogmodel.PlanLimits;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A requested change of a plan's limits under four eyes (docs/products.md "Plan changes"): exactly the limits asked
 * for, those in force when asked, the replay report, and who decided. The limits change only when another person
 * approves it with a report computed after it was requested.
 */
public record PlanChangeRequest(
        long id,
        String planId,
        String tenant,
        State state,
        String requestedBy,
        String requestedByPerson,
        Instant requestedAt,
        String reason,
        PlanLimits limitsBefore,
        Map<String, PlanLimits> operationLimitsBefore,
        PlanLimits limits,
        Map<String, PlanLimits> operationLimits,
        Optional<PlanChangeReport> report,
        Optional<String> decidedBy,
        Optional<Instant> decidedAt,
        Optional<String> decisionReason) {

    /** Where a request stands; all but pending are final. */
    public enum State {
        PENDING,
        APPROVED,
        REJECTED,
        /** Replaced by a newer request for the same plan. */
        VOIDED
    }

    public PlanChangeRequest {
        Objects.requireNonNull(planId, "planId");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(requestedAt, "requestedAt");
        operationLimitsBefore = Map.copyOf(operationLimitsBefore);
        operationLimits = Map.copyOf(operationLimits);
    }

    /** Whether its report was computed on its content after it was requested (what an approval needs). */
    public boolean reportCurrent() {
        return report.filter(r -> !r.computedAt().isBefore(requestedAt)).isPresent();
    }
}
