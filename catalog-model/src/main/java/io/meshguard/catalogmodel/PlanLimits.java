package io.meshguard.catalogmodel;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/** The rate limits and calendar quota a plan sets for a whole product or for one of its operations. */
public record PlanLimits(List<Limit> rates, Optional<CalendarQuota> quota) {

    /** No limit at all (an unlimited plan still counts usage). */
    public static final PlanLimits NONE = new PlanLimits(List.of(), Optional.empty());

    public PlanLimits {
        rates = List.copyOf(rates);
        Objects.requireNonNull(quota, "quota");
        if (rates.size() > 8) {
            // the limiter's script evaluates every limit of a caller in one call and caps them at 8
            throw new IllegalArgumentException("plan limits: at most 8 rate limits, got " + rates.size());
        }
    }
}
