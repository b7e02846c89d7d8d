package io.meshguard.audit.trail;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The hash-chained admin trail against a real PostgreSQL, tampered with the way someone with database access would. */
@IntegrationTest
class AdminTrailTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    private AdminTrail trail;
    private AdminTrailVerifier verifier;

    @BeforeEach
    void emptyTrail() {
        TrailEntries.emptyTrail(PG.dsl());
        trail = new AdminTrail(PG.dataSource());
        verifier = new AdminTrailVerifier(PG.dataSource());
    }

    private void append(int n) throws Exception {
        for (int i = 0; i < n; i++) {
            trail.append(TrailEntries.fullChange(i));
        }
    }

    private AdminTrailVerifier.Finding firstBad() throws Exception {
        AdminTrailVerifier.Report r = verifier.verify(Optional.empty());
        assertThat(r.intact()).as("tampering must be found").isFalse();
        return r.firstBad().orElseThrow();
    }

    @Test
    void untouchedTrail_verifies_andReportsItsHead() throws Exception {
        append(5);
        AdminTrailVerifier.Report r = verifier.verify(Optional.empty());
        assertThat(r.intact()).isTrue();
        assertThat(r.rowsChecked()).isEqualTo(5);
        assertThat(r.headSeq()).isEqualTo(5);
        assertThat(verifier.verify(Optional.of(new AdminTrailVerifier.Head(
                                3,
                                PG.dsl()
                                        .fetchValue("select row_hash from admin_trail where seq = 3")
                                        .toString())))
                        .intact())
                .isTrue();
    }

    @Test
    void alteredRow_isNamed() throws Exception {
        append(5);
        PG.dsl().execute("update admin_trail set outcome = 'refused' where seq = 3");
        assertThat(firstBad())
                .extracting(AdminTrailVerifier.Finding::seq, AdminTrailVerifier.Finding::problem)
                .containsExactly(3L, AdminTrailVerifier.Problem.ALTERED);
        emptyTrail();
        append(5);
        PG.dsl().execute("update admin_trail set details = '{\"reason\": \"nothing to see\"}' where seq = 2");
        assertThat(firstBad().seq()).isEqualTo(2);
    }

    @Test
    void alteredRowWithItsHashRecomputed_isCaughtAtTheNextRow() throws Exception {
        append(5);
        AdminTrailEntry forged =
                AdminTrailEntry.of("mallory", "oidc", "upsert", "routes/edge/r2", "done", Optional.of("req-2"));
        String prev = PG.dsl()
                .fetchValue("select prev_hash from admin_trail where seq = 3")
                .toString();
        String hash = TrailHash.of(3, forged, prev);
        PG.dsl()
                .execute(
                        "update admin_trail set actor = 'mallory', details = '{}', role_used = null, tenant = null, "
                                + "source_address = null, after_digest = null, target = 'routes/edge/r2', occurred_at = ?, row_hash = ? "
                                + "where seq = 3",
                        java.sql.Timestamp.from(forged.occurredAt()),
                        hash);
        assertThat(firstBad())
                .extracting(AdminTrailVerifier.Finding::seq, AdminTrailVerifier.Finding::problem)
                .containsExactly(4L, AdminTrailVerifier.Problem.INSERTED);
    }

    @Test
    void removedRow_inTheMiddle_orAtTheEnd_isNamed() throws Exception {
        append(5);
        PG.dsl().execute("delete from admin_trail where seq = 2");
        assertThat(firstBad())
                .extracting(AdminTrailVerifier.Finding::seq, AdminTrailVerifier.Finding::problem)
                .containsExactly(2L, AdminTrailVerifier.Problem.REMOVED);
        emptyTrail();
        append(5);
        PG.dsl().execute("delete from admin_trail where seq = 5");
        assertThat(firstBad().problem()).isEqualTo(AdminTrailVerifier.Problem.TRUNCATED);
    }

    @Test
    void insertedRow_orReorderedRows_areNamed() throws Exception {
        append(4);
        // shift rows 3 and 4 up and put a forged row 3 in between, chained to nothing real
        PG.dsl().execute("update admin_trail set seq = seq + 10 where seq >= 3");
        PG.dsl().execute("update admin_trail set seq = seq - 9 where seq >= 13");
        AdminTrailEntry forged =
                AdminTrailEntry.of("mallory", "oidc", "delete", "apis/payments", "done", Optional.empty());
        PG.dsl()
                .execute(
                        "insert into admin_trail (seq, occurred_at, actor, auth_method, action, target, outcome, "
                                + "prev_hash, row_hash) values (3, ?, 'mallory', 'oidc', 'delete', 'apis/payments', 'done', ?, ?)",
                        java.sql.Timestamp.from(forged.occurredAt()),
                        "1".repeat(64),
                        TrailHash.of(3, forged, "1".repeat(64)));
        assertThat(firstBad())
                .extracting(AdminTrailVerifier.Finding::seq, AdminTrailVerifier.Finding::problem)
                .containsExactly(3L, AdminTrailVerifier.Problem.INSERTED);
    }

    @Test
    void rowsDeletedUnderAnAnchorWrittenByHand_areNamed_asAnUnvouchedAnchor() throws Exception {
        append(6);
        // a database operator: delete the oldest rows and write the anchor the old verifier trusted
        String hash3 = PG.dsl()
                .fetchValue("select row_hash from admin_trail where seq = 3")
                .toString();
        PG.dsl().execute("delete from admin_trail where seq <= 3");
        PG.dsl()
                .execute(
                        "insert into admin_trail_anchor (up_to_seq, row_hash, reason) values (3, ?, 'retention')",
                        hash3);
        AdminTrailVerifier.Finding f = firstBad();
        assertThat(f.problem()).isEqualTo(AdminTrailVerifier.Problem.ANCHOR_UNVOUCHED);
        assertThat(f.explanation()).contains("the anchor at row 3 is recorded by no trail row");
    }

    @Test
    void tailCutTogetherWithTheHead_isFoundByTheRecordedHead() throws Exception {
        append(5);
        String hash5 = PG.dsl()
                .fetchValue("select row_hash from admin_trail where seq = 5")
                .toString();
        String hash4 = PG.dsl()
                .fetchValue("select row_hash from admin_trail where seq = 4")
                .toString();
        PG.dsl().execute("delete from admin_trail where seq = 5");
        PG.dsl().execute("update admin_trail_head set seq = 4, row_hash = ?", hash4);
        assertThat(verifier.verify(Optional.empty()).intact())
                .as("undetectable without a recorded head")
                .isTrue();
        AdminTrailVerifier.Report r = verifier.verify(Optional.of(new AdminTrailVerifier.Head(5, hash5)));
        assertThat(r.firstBad())
                .get()
                .extracting(AdminTrailVerifier.Finding::problem)
                .isEqualTo(AdminTrailVerifier.Problem.TRUNCATED);
    }

    @Test
    void concurrentAppenders_keepOneLinearChain() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(6);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 6; t++) {
                AdminTrail replica = new AdminTrail(PG.dataSource());
                int thread = t;
                done.add(pool.submit(() -> {
                    for (int i = 0; i < 10; i++) {
                        replica.append(AdminTrailEntry.of(
                                "replica-" + thread, "oidc", "upsert", "x/" + i, "done", Optional.empty()));
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        AdminTrailVerifier.Report r = verifier.verify(Optional.empty());
        assertThat(r.firstBad()).isEmpty();
        assertThat(r.rowsChecked()).isEqualTo(60);
        assertThat(r.headSeq()).isEqualTo(60);
    }

    @Test
    void databaseAway_appendThrows_andNothingIsHalfWritten() {
        AdminTrail broken = new AdminTrail(new org.postgresql.ds.PGSimpleDataSource() {
            @Override
            public java.sql.Connection getConnection() throws java.sql.SQLException {
                throw new java.sql.SQLException("connection refused");
            }
        });
        assertThatThrownBy(
                        () -> broken.append(AdminTrailEntry.of("a", "oidc", "upsert", "x", "done", Optional.empty())))
                .isInstanceOf(AdminTrail.UnavailableException.class)
                .hasMessageContaining("connection refused");
    }
}
