package io.meshguard.authz.request;

import java.util.Objects;
import java.util.Optional;

/**
 * The plan a product route's decision counted against, as the audit keeps it so a plan change can be replayed
 * ({@code PlanReplay}): which plan's limits applied, whose counters they were (the application's, for the calendar
 * quotas), and which of the plan's rate limits refused, if one did. Catalogue ids only, nothing a caller sent.
 *
 * @param planId the plan the subscription was on when decided
 * @param applicationId the subscribing application (its calendar quotas count per application and publish)
 * @param refusedBy the plan rate limit's tier that refused ({@code plan:NAME} or {@code plan:NAME/OPERATION}), if
 *     one did; empty when the plan's rate limits admitted the request (a later limit may still have refused it)
 */
public record PlanUse(String planId, String applicationId, Optional<String> refusedBy) {
    public PlanUse {
        Objects.requireNonNull(planId, "planId");
        Objects.requireNonNull(applicationId, "applicationId");
        Objects.requireNonNull(refusedBy, "refusedBy");
    }
}
