package io.meshguard.catalogmodel;

import java.time.ZoneId;
import java.util.Objects;

/**
 * A plan's day or month allowance, counted per subscription by extauthz's calendar-quota machinery (resets at local
 * midnight or on the 1st in {@code zone}).
 *
 * @param blockWhenUsedUp {@code true}: 429 until the reset; {@code false}: allowed and flagged to the upstream
 */
public record CalendarQuota(Period period, long limit, ZoneId zone, boolean blockWhenUsedUp) {

    /** The calendar unit a quota resets on. */
    public enum Period {
        DAY,
        MONTH
    }

    public CalendarQuota {
        Objects.requireNonNull(period, "period");
        Objects.requireNonNull(zone, "zone");
        if (limit < 0) {
            throw new IllegalArgumentException("quota: limit must not be negative, got " + limit);
        }
    }
}
