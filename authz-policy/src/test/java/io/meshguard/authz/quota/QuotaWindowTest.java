package io.meshguard.authz.quota;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.authz.policy.QuotaPolicy.Period;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import org.junit.jupiter.api.Test;

/** Calendar periods in the quota's zone: local midnight, the 1st, and days DST makes 23 or 25 hours long. */
class QuotaWindowTest {
    private static final ZoneId SEOUL = ZoneId.of("Asia/Seoul");
    private static final ZoneId NEW_YORK = ZoneId.of("America/New_York");
    private static final ZoneId BERLIN = ZoneId.of("Europe/Berlin");

    @Test
    void seoulDay_resetsAtLocalMidnight_whichIs15hUtc() {
        QuotaWindow before = QuotaWindow.of(Period.DAY, SEOUL, Instant.parse("2026-11-22T14:59:59Z"));
        QuotaWindow after = QuotaWindow.of(Period.DAY, SEOUL, Instant.parse("2026-11-22T15:00:00Z"));
        assertThat(before.start()).isEqualTo(LocalDate.parse("2026-11-22"));
        assertThat(before.endsAt()).isEqualTo(Instant.parse("2026-11-22T15:00:00Z"));
        assertThat(after.start()).isEqualTo(LocalDate.parse("2026-11-23"));
        assertThat(after.startsAt()).isEqualTo(before.endsAt());
        assertThat(before.secondsUntilReset(Instant.parse("2026-11-22T14:59:59Z")))
                .isEqualTo(1);
        assertThat(before.secondsUntilReset(Instant.parse("2026-11-22T14:59:58.100Z")))
                .isEqualTo(2);
    }

    @Test
    void seoulMonth_resetsOnTheFirstAtLocalMidnight_notAtUtcMonthEnd() {
        // 2027-01-31T16:00Z is already February 1st in Seoul
        QuotaWindow jan = QuotaWindow.of(Period.MONTH, SEOUL, Instant.parse("2027-01-31T14:59:59Z"));
        QuotaWindow feb = QuotaWindow.of(Period.MONTH, SEOUL, Instant.parse("2027-01-31T16:00:00Z"));
        assertThat(jan.start()).isEqualTo(LocalDate.parse("2027-01-01"));
        assertThat(jan.startsAt()).isEqualTo(Instant.parse("2026-12-31T15:00:00Z"));
        assertThat(jan.endsAt()).isEqualTo(Instant.parse("2027-01-31T15:00:00Z"));
        assertThat(feb.start()).isEqualTo(LocalDate.parse("2027-02-01"));
        assertThat(feb.endsAt()).isEqualTo(Instant.parse("2027-02-28T15:00:00Z"));
    }

    @Test
    void newYorkSpringForward_dayLasts23Hours() {
        QuotaWindow w = QuotaWindow.of(Period.DAY, NEW_YORK, Instant.parse("2026-03-08T12:00:00Z"));
        assertThat(w.start()).isEqualTo(LocalDate.parse("2026-03-08"));
        assertThat(w.startsAt()).isEqualTo(Instant.parse("2026-03-08T05:00:00Z")); // EST midnight
        assertThat(w.endsAt()).isEqualTo(Instant.parse("2026-03-09T04:00:00Z")); // EDT midnight
        assertThat(w.length()).isEqualTo(Duration.ofHours(23));
    }

    @Test
    void newYorkFallBack_dayLasts25Hours_andTheRepeatedHourStaysInTheSameDay() {
        Instant firstOneThirty = Instant.parse("2026-11-01T05:30:00Z"); // 01:30 EDT
        Instant secondOneThirty = Instant.parse("2026-11-01T06:30:00Z"); // 01:30 EST
        QuotaWindow a = QuotaWindow.of(Period.DAY, NEW_YORK, firstOneThirty);
        QuotaWindow b = QuotaWindow.of(Period.DAY, NEW_YORK, secondOneThirty);
        assertThat(a).isEqualTo(b);
        assertThat(a.length()).isEqualTo(Duration.ofHours(25));
        assertThat(a.endsAt()).isEqualTo(Instant.parse("2026-11-02T05:00:00Z"));
    }

    @Test
    void berlinMonthAcrossDst_endsAtLocalMidnightOfTheFirst_inSummerTime() {
        QuotaWindow march = QuotaWindow.of(Period.MONTH, BERLIN, Instant.parse("2026-03-15T12:00:00Z"));
        assertThat(march.startsAt()).isEqualTo(Instant.parse("2026-02-28T23:00:00Z")); // CET
        assertThat(march.endsAt()).isEqualTo(Instant.parse("2026-03-31T22:00:00Z")); // CEST
        assertThat(march.length()).isEqualTo(Duration.ofDays(31).minusHours(1));
    }

    @Test
    void zoneWhoseMidnightIsSkipped_startsAtTheFirstValidInstant() {
        // Asia/Beirut moved its clocks from 00:00 to 01:00 on 2023-03-26 (a day without local midnight)
        ZoneId beirut = ZoneId.of("Asia/Beirut");
        QuotaWindow w = QuotaWindow.of(Period.DAY, beirut, Instant.parse("2023-03-26T10:00:00Z"));
        assertThat(w.startsAt())
                .isEqualTo(LocalDate.parse("2023-03-26").atStartOfDay(beirut).toInstant());
        assertThat(w.startsAt()).isEqualTo(Instant.parse("2023-03-25T22:00:00Z"));
        assertThat(w.length()).isEqualTo(Duration.ofHours(23));
    }
}
