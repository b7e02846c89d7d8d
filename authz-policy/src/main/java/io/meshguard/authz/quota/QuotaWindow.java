package io.meshguard.authz.quota;

import io.meshguard.authz.policy.QuotaPolicy;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;

/**
 * One calendar period of a quota: from local midnight (or the 1st) in the quota's zone to the next one. The ends
 * are computed with {@link LocalDate#atStartOfDay(ZoneId)}, so a day that DST makes 23 or 25 hours long ends at the
 * right instant, and a zone whose midnight does not exist on a transition day starts at the first valid time.
 *
 * @param start the period's first local day (its identity in PostgreSQL and Redis)
 * @param startsAt the instant the period begins
 * @param endsAt the instant the next period begins (exclusive)
 */
public record QuotaWindow(LocalDate start, Instant startsAt, Instant endsAt) {

    /** The period of {@code period} in {@code zone} that contains {@code now}. */
    public static QuotaWindow of(QuotaPolicy.Period period, ZoneId zone, Instant now) {
        LocalDate today = LocalDate.ofInstant(now, zone);
        LocalDate first = period == QuotaPolicy.Period.DAY ? today : today.withDayOfMonth(1);
        LocalDate next = period == QuotaPolicy.Period.DAY ? first.plusDays(1) : first.plusMonths(1);
        return new QuotaWindow(
                first,
                first.atStartOfDay(zone).toInstant(),
                next.atStartOfDay(zone).toInstant());
    }

    /** Whole seconds until the reset, at least 1 (what {@code Retry-After} says). */
    public long secondsUntilReset(Instant now) {
        long millis = Duration.between(now, endsAt).toMillis();
        return Math.max(1, (millis + 999) / 1000);
    }

    /** The length of this period (23, 24 or 25 hours for a day across DST). */
    public Duration length() {
        return Duration.between(startsAt, endsAt);
    }
}
