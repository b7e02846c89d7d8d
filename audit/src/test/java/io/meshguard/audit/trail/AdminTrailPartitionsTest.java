package io.meshguard.audit.trail;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The admin trail in monthly partitions (V40): the chain is walked across months, retention drops a month only
 * through an anchor, and tampering at or across a month boundary is named.
 */
@IntegrationTest
class AdminTrailPartitionsTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    // past the 13 months' retention by the database's clock, whenever the test runs
    static final YearMonth OLD = YearMonth.now(ZoneOffset.UTC).minusMonths(15);
    static final YearMonth NEXT = OLD.plusMonths(1);
    private AdminTrail trail;
    private AdminTrailVerifier verifier;

    @BeforeEach
    void threeRowsInEachOfTwoMonths() throws Exception {
        TrailEntries.emptyTrail(PG.dsl());
        trail = new AdminTrail(PG.dataSource());
        verifier = new AdminTrailVerifier(PG.dataSource());
        trail.ensurePartitions(OLD, 1);
        for (YearMonth m : new YearMonth[] {OLD, NEXT}) {
            for (int i = 0; i < 3; i++) {
                trail.append(entry(m.atDay(10 + i).atStartOfDay().toInstant(ZoneOffset.UTC), "r" + i));
            }
        }
        assertThat(PG.dsl().fetchValue("select count(*) from " + partition(OLD)).toString())
                .isEqualTo("3");
        assertThat(PG.dsl()
                        .fetchValue("select count(*) from " + partition(NEXT))
                        .toString())
                .isEqualTo("3");
        assertThat(verifier.verify(Optional.empty()).intact()).isTrue();
    }

    private static String partition(YearMonth m) {
        return String.format("admin_trail_%04d_%02d", m.getYear(), m.getMonthValue());
    }

    private static AdminTrailEntry entry(Instant at, String target) {
        return TrailEntries.upsert(at, "alice", Optional.of("acme"), "routes/edge/" + target);
    }

    private AdminTrailVerifier.Finding firstBad() throws Exception {
        AdminTrailVerifier.Report r = verifier.verify(Optional.empty());
        assertThat(r.intact()).as("tampering must be found").isFalse();
        return r.firstBad().orElseThrow();
    }

    @Test
    void alteredRow_inAnOlderPartition_isNamed() throws Exception {
        PG.dsl().execute("update " + partition(OLD) + " set outcome = 'nothing happened' where seq = 2");
        assertThat(firstBad())
                .extracting(AdminTrailVerifier.Finding::seq, AdminTrailVerifier.Finding::problem)
                .containsExactly(2L, AdminTrailVerifier.Problem.ALTERED);
    }

    @Test
    void partitionDroppedWithoutAnAnchor_isNamedAsRemoved() throws Exception {
        PG.dsl().execute("drop table " + partition(OLD));
        AdminTrailVerifier.Finding f = firstBad();
        assertThat(f.seq()).isEqualTo(1);
        assertThat(f.problem()).isEqualTo(AdminTrailVerifier.Problem.REMOVED);
        assertThat(f.explanation()).contains("rows 1 to 3 are missing");
    }

    @Test
    void monthDroppedThroughItsAnchor_stillVerifies() throws Exception {
        assertThat(trail.dropMonth(OLD, 13, Instant.now()).rows()).isEqualTo(3);
        assertThat(PG.dsl().fetchValue("select to_regclass(?)", partition(OLD))).isNull();
        assertThat(PG.dsl()
                        .fetchValue("select up_to_seq from admin_trail_anchor")
                        .toString())
                .isEqualTo("3");
        AdminTrailVerifier.Report r = verifier.verify(Optional.empty());
        assertThat(r.intact()).as("%s", r.firstBad()).isTrue();
        assertThat(r.rowsChecked())
                .as("3 kept rows and the row vouching for the anchor")
                .isEqualTo(4);
        // and the kept rows are still guarded: a later alteration is named
        PG.dsl().execute("update admin_trail set actor = 'mallory' where seq = 5");
        assertThat(firstBad().seq()).isEqualTo(5);
    }

    @Test
    void dropMonth_refusesTheCurrentMonthAndEveryMonthWithinRetention_evenCalledWithSql() throws Exception {
        YearMonth now = YearMonth.now(ZoneOffset.UTC);
        trail.ensurePartitions(now, 0);
        trail.append(entry(Instant.now(), "today"));
        for (YearMonth m : new YearMonth[] {now, now.minusMonths(6), now.minusMonths(13)}) {
            assertThatThrownBy(
                            () -> PG.dsl().execute("select admin_trail_drop_month(?::date, 13, 'cleanup')", m.atDay(1)))
                    .as("%s", m)
                    .hasMessageContaining("is within the retention of 13 months");
        }
        assertThatThrownBy(() -> PG.dsl().execute("select admin_trail_drop_month(?::date, 1, 'cleanup')", now.atDay(1)))
                .hasMessageContaining("the retention is at least 13 months, got 1");
        assertThatThrownBy(() -> trail.dropMonth(now, 13, Instant.now()))
                .isInstanceOf(AdminTrail.UnavailableException.class)
                .hasMessageContaining("within the retention");
        assertThat(PG.dsl().fetchValue("select to_regclass(?)", partition(now))).isNotNull();
        assertThat(PG.dsl()
                        .fetchValue("select count(*) from admin_trail_anchor")
                        .toString())
                .isEqualTo("0");
        assertThat(verifier.verify(Optional.empty()).intact()).isTrue();
    }

    @Test
    void forgedRow_acrossTheMonthBoundary_isNamedAsInserted() throws Exception {
        // a forger with database access and this code: a well-hashed row 4 chained to row 3, in the older month
        String hash3 = PG.dsl()
                .fetchValue("select row_hash from admin_trail where seq = 3")
                .toString();
        AdminTrailEntry forged = entry(OLD.atEndOfMonth().atStartOfDay().toInstant(ZoneOffset.UTC), "forged");
        try (Connection c = PG.dataSource().getConnection();
                PreparedStatement ps = c.prepareStatement("""
                insert into admin_trail (seq, occurred_at, actor, auth_method, tenant, action, target, outcome, details,
                    prev_hash, row_hash) values (4, ?, 'alice', 'oidc', 'acme', 'upsert', 'routes/edge/forged', 'done',
                    '{}', ?, ?)""")) {
            ps.setTimestamp(1, Timestamp.from(forged.occurredAt()));
            ps.setString(2, hash3);
            ps.setString(3, TrailHash.of(4, forged, hash3));
            ps.executeUpdate();
        }
        assertThat(firstBad())
                .extracting(AdminTrailVerifier.Finding::seq, AdminTrailVerifier.Finding::problem)
                .containsExactly(4L, AdminTrailVerifier.Problem.INSERTED);
    }
}
