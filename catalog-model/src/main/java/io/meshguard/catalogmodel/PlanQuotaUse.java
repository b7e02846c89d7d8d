package io.meshguard.catalogmodel;

import java.time.LocalDate;
import java.util.Objects;

/**
 * One plan quota's count in its current period, for one subscription: what extauthz counted in {@code quota_usage}
 * (caller {@link Subscription#quotaCaller()}) against the limit the subscription's plan sets.
 *
 * @param counter {@code subscription} (the plan's quota) or {@code subscription/<operation>} (an operation's own)
 */
public record PlanQuotaUse(
        Subscriber subscriber, String planName, String counter, long used, long limit, LocalDate periodStart) {
    public PlanQuotaUse {
        Objects.requireNonNull(subscriber, "subscriber");
        Objects.requireNonNull(planName, "planName");
        Objects.requireNonNull(counter, "counter");
        Objects.requireNonNull(periodStart, "periodStart");
    }

    /** The share of the limit used, 0..1 and beyond (a quota that does not block lets calls past its limit). */
    public double share() {
        return limit <= 0 ? 0 : (double) used / limit;
    }
}
