package io.meshguard.audit.trail;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshguard.testing.PostgresExtension;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Clock;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The admin trail's months are created ahead and retired past the retention on a clock the test sets (no waiting):
 * a retired month leaves an anchor and a row saying so, and the kept chain still verifies.
 */
class AdminTrailMaintenanceTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    static final Clock JAN_2027 = Clock.fixed(Instant.parse("2027-01-15T08:00:00Z"), ZoneOffset.UTC);
    private AdminTrail trail;
    private AdminTrailVerifier verifier;

    @BeforeEach
    void emptyTrail() {
        PG.dsl().execute("delete from admin_trail");
        PG.dsl().execute("delete from admin_trail_anchor");
        PG.dsl().execute("update admin_trail_head set seq = 0, row_hash = repeat('0', 64)");
        trail = new AdminTrail(PG.dataSource());
        verifier = new AdminTrailVerifier(PG.dataSource());
    }

    private void twoRowsIn(YearMonth month) throws Exception {
        for (int day : new int[] {3, 4}) {
            Instant at = month.atDay(day).atStartOfDay().toInstant(ZoneOffset.UTC);
            trail.append(new AdminTrailEntry(at, "alice", "oidc", Optional.of("acme"), Optional.empty(),
                    Optional.empty(), Optional.empty(), "upsert", "routes/edge/r" + day, "done", Optional.empty(),
                    Optional.empty(), Map.of()));
        }
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
        trail.ensurePartitions(YearMonth.of(2025, 9), 16);
        for (YearMonth m : List.of(YearMonth.of(2025, 9), YearMonth.of(2025, 10), YearMonth.of(2025, 11),
                YearMonth.of(2025, 12), YearMonth.of(2026, 6), YearMonth.of(2027, 1))) {
            twoRowsIn(m);
        }
        AdminTrailMaintenance job = new AdminTrailMaintenance(PG.dataSource(), JAN_2027, 2, 13);
        assertThat(job.oldestKeptMonth()).isEqualTo(YearMonth.of(2025, 12));

        AdminTrailMaintenance.Result r = job.runOnce();

        assertThat(r.ran()).isTrue();
        assertThat(r.dropped()).containsExactly(YearMonth.of(2025, 9), YearMonth.of(2025, 10), YearMonth.of(2025, 11));
        assertThat(r.rowsDropped()).isEqualTo(6);
        assertThat(exists("admin_trail_2027_03")).as("two months ahead").isTrue();
        assertThat(exists("admin_trail_2025_11")).isFalse();
        assertThat(exists("admin_trail_2025_12")).as("13 full months before January 2027 are kept").isTrue();
        assertThat(PG.dsl().fetchValue("select max(up_to_seq) from admin_trail_anchor").toString()).isEqualTo("6");
        assertThat(PG.dsl().fetch("select target, outcome from admin_trail where action = 'trail_retention' "
                + "order by seq").map(rec -> rec.get(0) + ": " + rec.get(1))).containsExactly(
                "admin_trail/2025-09: dropped 2 rows, anchored at row 2",
                "admin_trail/2025-10: dropped 2 rows, anchored at row 4",
                "admin_trail/2025-11: dropped 2 rows, anchored at row 6");
        assertThat(verified().rowsChecked()).as("6 kept rows and 3 retention rows").isEqualTo(9);

        assertThat(job.runOnce()).as("a second run the same day changes nothing")
                .isEqualTo(new AdminTrailMaintenance.Result(true, 0, List.of(), 0));

        Clock february = Clock.fixed(Instant.parse("2027-02-01T00:00:00Z"), ZoneOffset.UTC);
        AdminTrailMaintenance.Result next = new AdminTrailMaintenance(PG.dataSource(), february, 2, 13).runOnce();
        assertThat(next.dropped()).containsExactly(YearMonth.of(2025, 12));
        assertThat(next.created()).isEqualTo(1);
        assertThat(exists("admin_trail_2027_04")).isTrue();
        verified();
        // the kept rows are still guarded after the drops
        PG.dsl().execute("update admin_trail set actor = 'mallory' where seq = 9");
        assertThat(verifier.verify(Optional.empty()).firstBad()).hasValueSatisfying(f -> assertThat(f.seq()).isEqualTo(9));
    }

    @Test
    void retentionShorterThan13Months_isRefused() {
        assertThatThrownBy(() -> new AdminTrailMaintenance(PG.dataSource(), JAN_2027, 2, 12))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("between 13 and 1200 months");
    }

    @Test
    void aRunWhileAnotherReplicasRunHoldsTheLock_doesNothing() throws Exception {
        trail.ensurePartitions(YearMonth.of(2025, 9), 0);
        twoRowsIn(YearMonth.of(2025, 9));
        try (Connection other = PG.dataSource().getConnection();
                PreparedStatement lock = other.prepareStatement(
                        "select pg_advisory_lock(hashtext('meshguard.admin_trail_maintenance'))")) {
            lock.execute();
            AdminTrailMaintenance.Result r = new AdminTrailMaintenance(PG.dataSource(), JAN_2027, 2, 13).runOnce();
            assertThat(r.ran()).isFalse();
            assertThat(exists("admin_trail_2025_09")).isTrue();
            other.createStatement().execute("select pg_advisory_unlock(hashtext('meshguard.admin_trail_maintenance'))");
        }
        assertThat(new AdminTrailMaintenance(PG.dataSource(), JAN_2027, 2, 13).runOnce().dropped())
                .containsExactly(YearMonth.of(2025, 9));
        verified();
    }
}
