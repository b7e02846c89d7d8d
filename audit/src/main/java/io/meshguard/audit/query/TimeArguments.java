package io.meshguard.audit.query;

import java.time.Clock;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses the time arguments of {@code meshguard audit}: {@code 1h}, {@code 30m}, {@code 7d}, ISO times, months. */
public final class TimeArguments {
    private static final Pattern RELATIVE = Pattern.compile("(\\d{1,9})\\s*([smhdw])");

    private TimeArguments() {}

    /**
     * A point in time: a duration ago ({@code 90s}, {@code 15m}, {@code 1h}, {@code 2d}, {@code 1w}), an ISO
     * instant or offset date-time ({@code 2026-11-21T10:00:00Z}), or a date ({@code 2026-11-21}, UTC midnight).
     */
    public static Instant pointInTime(String text, Clock clock) {
        String t = text.trim();
        Matcher m = RELATIVE.matcher(t);
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            Duration d =
                    switch (m.group(2)) {
                        case "s" -> Duration.ofSeconds(n);
                        case "m" -> Duration.ofMinutes(n);
                        case "h" -> Duration.ofHours(n);
                        case "d" -> Duration.ofDays(n);
                        default -> Duration.ofDays(7 * n);
                    };
            return clock.instant().minus(d);
        }
        try {
            return OffsetDateTime.parse(t).toInstant();
        } catch (DateTimeException ignored) {
            // not an offset date-time; try the other forms
        }
        try {
            return LocalDate.parse(t).atStartOfDay().toInstant(ZoneOffset.UTC);
        } catch (DateTimeException e) {
            throw new IllegalArgumentException("'" + text + "' is not a time: use a duration ago (90s, 15m, 1h, "
                    + "2d, 1w), an ISO time (2026-11-21T10:00:00Z) or a date (2026-11-21)");
        }
    }

    /** A month such as {@code 2026-11}. */
    public static YearMonth month(String text) {
        try {
            return YearMonth.parse(text.trim());
        } catch (DateTimeException e) {
            throw new IllegalArgumentException("'" + text + "' is not a month: use YYYY-MM, e.g. 2026-11");
        }
    }
}
