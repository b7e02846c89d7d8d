package io.meshguard.catalogmodel;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * What a subscription's credentials did on its product publish since {@code from}: decisions of extauthz's audit
 * rows that name the subscription ({@link #AUDIT_DETAIL}), by outcome and reason.
 *
 * @param refusedByReason refusals by extauthz reason ({@code rate_limited}, {@code subscription_suspended}, …)
 * @param byCredential    calls per credential id, so a rotated predecessor's remaining use is visible
 * @param quotas          the calendar quotas' current periods, by counter ({@code subscription}, or
 *                        {@code subscription/<operation>})
 */
public record SubscriptionUsage(
        String subscription,
        Instant from,
        long calls,
        long allowed,
        Map<String, Long> refusedByReason,
        Map<String, Long> byCredential,
        Map<String, QuotaUsed> quotas) {
    /**
     * The audit detail in which extauthz names the subscription a decision was made on: written by its decision
     * events, read here and indexed by migration V68 ({@code details ->> 'subscription'}).
     */
    public static final String AUDIT_DETAIL = "subscription";

    public SubscriptionUsage {
        Objects.requireNonNull(subscription, "subscription");
        Objects.requireNonNull(from, "from");
        refusedByReason = Map.copyOf(refusedByReason);
        byCredential = Map.copyOf(byCredential);
        quotas = Map.copyOf(quotas);
    }

    /**
     * What one calendar quota counted this period, as PostgreSQL holds it (extauthz flushes its counts there every
     * few seconds, so a burst of the last moments may not show yet); the period starts on a day in the quota's zone.
     */
    public record QuotaUsed(long used, java.time.LocalDate periodStart, Instant periodEnd) {}
}
