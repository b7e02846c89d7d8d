package io.meshguard.audit.trail;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Clock;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The admin trail's months are created ahead and retired past the retention on a clock the test sets (no waiting):
 * a retired month leaves an anchor and a row saying so, and the kept chain still verifies.
 */
@IntegrationTest
class AdminTrailMaintenanceTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    // the database judges retention by its own clock (V66), so the test's months are counted back from now
    static final YearMonth NOW = YearMonth.now(ZoneOffset.UTC);
    static final Clock NOW_CLOCK = Clock.systemUTC();
    private AdminTrail trail;
    private AdminTrailVerifier verifier;

    @BeforeEach
    void emptyTrail() {
        TrailEntries.emptyTrail(PG.dsl());
        trail = new AdminTrail(PG.dataSource());
        verifier = new AdminTrailVerifier(PG.dataSource());
    }

    private void twoRowsIn(YearMonth month) throws Exception {
        for (int day : new int[] {3, 4}) {
            Instant at = month.atDay(day).atStartOfDay().toInstant(ZoneOffset.UTC);
            trail.append(TrailEntries.upsert(at, "alice", Optional.of("acme"), "routes/edge/r" + day));
        }
    }

    private static String partition(YearMonth m) {
        return String.format("admin_trail_%04d_%02d", m.getYear(), m.getMonthValue());
    }

    private static boolean exists(String table) {
        return PG.dsl().fetchValue("select to_regclass(?)", table) != null;
    }

    private AdminTrailVerifier.Report verified() throws Exception {
        AdminTrailVerifier.Report r = verifier.verify(Optional.empty());
        assertThat(r.intact()).as("%s", r.firstBad()).isTrue();
        return r;
    }

    @Test
    void run_createsMonthsAhead_dropsOnlyMonthsPastRetention_andTheChainStillVerifies() throws Exception {
        trail.ensurePartitions(NOW.minusMonths(16), 16);
        for (YearMonth m : List.of(
                NOW.minusMonths(16),
                NOW.minusMonths(15),
                NOW.minusMonths(14),
                NOW.minusMonths(13),
                NOW.minusMonths(7),
                NOW)) {
            twoRowsIn(m);
        }
        AdminTrailMaintenance job = new AdminTrailMaintenance(PG.dataSource(), NOW_CLOCK, 2, 13);
        assertThat(job.oldestKeptMonth()).isEqualTo(NOW.minusMonths(13));

        AdminTrailMaintenance.Result r = job.runOnce();

        assertThat(r.ran()).isTrue();
        assertThat(r.dropped()).containsExactly(NOW.minusMonths(16), NOW.minusMonths(15), NOW.minusMonths(14));
        assertThat(r.rowsDropped()).isEqualTo(6);
        assertThat(exists(partition(NOW.plusMonths(2)))).as("two months ahead").isTrue();
        assertThat(exists(partition(NOW.minusMonths(14)))).isFalse();
        assertThat(exists(partition(NOW.minusMonths(13))))
                .as("13 full months before this one are kept")
                .isTrue();
        assertThat(PG.dsl()
                        .fetchValue("select max(up_to_seq) from admin_trail_anchor")
                        .toString())
                .isEqualTo("6");
        assertThat(PG.dsl()
                        .fetch("select target, outcome from admin_trail where action = 'trail_retention' "
                                + "order by seq")
                        .map(rec -> rec.get(0) + ": " + rec.get(1)))
                .containsExactly(
                        "admin_trail/" + NOW.minusMonths(16) + ": dropped 2 rows, anchored at row 2",
                        "admin_trail/" + NOW.minusMonths(15) + ": dropped 2 rows, anchored at row 4",
                        "admin_trail/" + NOW.minusMonths(14) + ": dropped 2 rows, anchored at row 6");
        assertThat(verified().rowsChecked())
                .as("6 kept rows and 3 retention rows")
                .isEqualTo(9);

        assertThat(job.runOnce())
                .as("a second run the same day changes nothing")
                .isEqualTo(new AdminTrailMaintenance.Result(true, 0, List.of(), 0));

        // a replica whose clock runs a month ahead: the database refuses the month its own clock still keeps
        Clock nextMonth = Clock.offset(Clock.systemUTC(), java.time.Duration.ofDays(31));
        assertThatThrownBy(() -> new AdminTrailMaintenance(PG.dataSource(), nextMonth, 2, 13).runOnce())
                .hasMessageContaining("is within the retention of 13 months");
        assertThat(exists(partition(NOW.minusMonths(13)))).isTrue();
        verified();
        // the kept rows are still guarded after the drops
        PG.dsl().execute("update admin_trail set actor = 'mallory' where seq = 9");
        assertThat(verifier.verify(Optional.empty()).firstBad())
                .hasValueSatisfying(f -> assertThat(f.seq()).isEqualTo(9));
    }

    @Test
    void retentionShorterThan13Months_isRefused() {
        assertThatThrownBy(() -> new AdminTrailMaintenance(PG.dataSource(), NOW_CLOCK, 2, 12))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("between 13 and 1200 months");
    }

    @Test
    void aRunWhileAnotherReplicasRunHoldsTheLock_doesNothing() throws Exception {
        trail.ensurePartitions(NOW.minusMonths(16), 0);
        twoRowsIn(NOW.minusMonths(16));
        try (Connection other = PG.dataSource().getConnection();
                PreparedStatement lock = other.prepareStatement(
                        "select pg_advisory_lock(hashtext('meshguard.admin_trail_maintenance'))")) {
            lock.execute();
            AdminTrailMaintenance.Result r = new AdminTrailMaintenance(PG.dataSource(), NOW_CLOCK, 2, 13).runOnce();
            assertThat(r.ran()).isFalse();
            assertThat(exists(partition(NOW.minusMonths(16)))).isTrue();
            other.createStatement().execute("select pg_advisory_unlock(hashtext('meshguard.admin_trail_maintenance'))");
        }
        assertThat(new AdminTrailMaintenance(PG.dataSource(), NOW_CLOCK, 2, 13)
                        .runOnce()
                        .dropped())
                .containsExactly(NOW.minusMonths(16));
        verified();
    }
}
