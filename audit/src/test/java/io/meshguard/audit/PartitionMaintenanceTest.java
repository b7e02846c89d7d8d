package io.meshguard.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

@IntegrationTest
class PartitionMaintenanceTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    private static final Clock NOV_2030 = Clock.fixed(Instant.parse("2030-11-15T12:00:00Z"), ZoneOffset.UTC);

    private static List<String> partitions() throws SQLException {
        List<String> names = new ArrayList<>();
        try (Connection c = PG.dataSource().getConnection();
                var rs = c.createStatement().executeQuery("""
                        select child.relname from pg_inherits i join pg_class child on child.oid = i.inhrelid
                         where i.inhparent = 'audit_event'::regclass order by 1""")) {
            while (rs.next()) {
                names.add(rs.getString(1));
            }
        }
        return names;
    }

    private static void sql(String statement) throws SQLException {
        try (Connection c = PG.dataSource().getConnection()) {
            c.createStatement().execute(statement);
        }
    }

    private static PartitionMaintenance maintenance(Clock clock, int ahead, int retention) {
        return new PartitionMaintenance(PG.dataSource(), clock, ahead, retention, new SimpleMeterRegistry());
    }

    @BeforeEach
    void noHolds() throws SQLException {
        sql("delete from audit_legal_hold");
    }

    @Test
    void run_createsCurrentAndNextMonthsAhead() throws Exception {
        PartitionMaintenance.Result r = maintenance(NOV_2030, 3, 13).runOnce();
        assertThat(partitions())
                .contains("audit_event_2030_11", "audit_event_2030_12", "audit_event_2031_01", "audit_event_2031_02");
        assertThat(r.created()).isEqualTo(4);
        assertThat(maintenance(NOV_2030, 3, 13).runOnce().created()).isZero();
    }

    @Test
    void run_dropsMonthsPastRetention_keepsTheRetainedWindowAndHeldMonths() throws Exception {
        sql("select audit_ensure_partitions('2029-07-01', 5)"); // 2029-07 .. 2029-12
        sql("insert into audit_event (event_id, occurred_at, kind) values "
                + "(gen_random_uuid(), '2029-08-10T00:00:00Z', 'api_call'), "
                + "(gen_random_uuid(), '2029-09-10T00:00:00Z', 'api_call')");
        sql("insert into audit_legal_hold (from_month, to_month, reason, created_by) "
                + "values ('2029-08-01', '2029-08-01', 'case 4711', 'legal@bank')");

        // Retention 13 on 2030-11-15: the oldest month kept is 2029-10.
        PartitionMaintenance job = maintenance(NOV_2030, 2, 13);
        assertThat(job.oldestKeptMonth()).isEqualTo(LocalDate.of(2029, 10, 1));
        PartitionMaintenance.Result r = job.runOnce();

        assertThat(r.dropped())
                .contains("audit_event_2029_07", "audit_event_2029_09")
                .doesNotContain("audit_event_2029_08", "audit_event_2029_10", "audit_event_2029_11");
        assertThat(r.held()).containsExactly("audit_event_2029_08");
        assertThat(partitions())
                .contains(
                        "audit_event_2029_08",
                        "audit_event_2029_10",
                        "audit_event_2029_11",
                        "audit_event_2029_12",
                        "audit_event_2030_11")
                .doesNotContain("audit_event_2029_07", "audit_event_2029_09");
        try (Connection c = PG.dataSource().getConnection();
                var rs = c.createStatement()
                        .executeQuery("select count(*) from audit_event where occurred_at < '2029-10-01'")) {
            rs.next();
            assertThat(rs.getLong(1)).as("only the held month's row is left").isEqualTo(1);
        }
    }

    @Test
    void releasingTheHold_letsTheNextRunDropTheMonth() throws Exception {
        sql("select audit_ensure_partitions('2028-01-01', 0)");
        sql("insert into audit_legal_hold (from_month, to_month, reason, created_by) "
                + "values ('2027-12-01', '2028-02-01', 'audit 2028', 'legal@bank')");
        PartitionMaintenance job = maintenance(NOV_2030, 1, 13);
        assertThat(job.runOnce().held()).contains("audit_event_2028_01");
        assertThat(partitions()).contains("audit_event_2028_01");

        sql("delete from audit_legal_hold");
        assertThat(job.runOnce().dropped()).contains("audit_event_2028_01");
        assertThat(partitions()).doesNotContain("audit_event_2028_01");
    }

    @Test
    void expiredRowsInTheDefaultPartition_areDeletedUnlessHeld() throws Exception {
        sql("insert into audit_event (event_id, occurred_at, kind) values "
                + "(gen_random_uuid(), '2020-03-03T00:00:00Z', 'api_call'), "
                + "(gen_random_uuid(), '2020-04-04T00:00:00Z', 'api_call')");
        sql("insert into audit_legal_hold (from_month, to_month, reason, created_by) "
                + "values ('2020-04-01', '2020-04-01', 'case 1', 'legal@bank')");
        PartitionMaintenance.Result r = maintenance(NOV_2030, 1, 13).runOnce();
        assertThat(r.defaultRowsDeleted()).isEqualTo(1);
        try (Connection c = PG.dataSource().getConnection();
                var rs = c.createStatement()
                        .executeQuery("select count(*) from audit_event_default where occurred_at < '2021-01-01'")) {
            rs.next();
            assertThat(rs.getLong(1)).isEqualTo(1);
        }
    }

    @Test
    void scheduledJob_runsAtStart() throws Exception {
        Clock later = Clock.fixed(Instant.parse("2032-06-10T00:00:00Z"), ZoneOffset.UTC);
        try (PartitionMaintenance job = maintenance(later, 1, 13)) {
            job.start(Duration.ofHours(24));
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> partitions()
                    .contains("audit_event_2032_07"));
        }
    }

    @Test
    void invalidSettings_areRejectedClearly() {
        assertThatThrownBy(() -> maintenance(NOV_2030, 0, 13)).hasMessageContaining("between 1 and 120");
        assertThatThrownBy(() -> maintenance(NOV_2030, 2, 0)).hasMessageContaining("retention");
    }
}
