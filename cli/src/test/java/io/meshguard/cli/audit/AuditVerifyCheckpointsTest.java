package io.meshguard.cli.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshguard.audit.trail.AdminTrail;
import io.meshguard.audit.trail.AdminTrailEntry;
import io.meshguard.audit.trail.CheckpointDirectory;
import io.meshguard.audit.trail.CheckpointKeys;
import io.meshguard.audit.trail.TrailCheckpointer;
import io.meshguard.audit.trail.TrailEntries;
import io.meshguard.cli.CliRun;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A database operator rewrites the admin trail with SQL; {@code meshguard audit verify} with the controller's signed
 * checkpoints (a directory and a key the database never holds) names each rewrite and exits non-zero: rows deleted
 * under an anchor, a dropped current month, the newest rows cut off with the head, a row rewritten with its chain
 * recomputed. A month retired by retention still verifies.
 */
@IntegrationTest
class AuditVerifyCheckpointsTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @TempDir
    Path dir;

    private Path checkpoints;
    private Path publicKey;
    private Path privateKey;
    private AdminTrail trail;

    @BeforeEach
    void emptyTrailAndAKey() throws Exception {
        TrailEntries.emptyTrail(PG.dsl());
        trail = new AdminTrail(PG.dataSource());
        trail.ensurePartitions(YearMonth.now(ZoneOffset.UTC).minusMonths(15), 17);
        checkpoints = dir.resolve("checkpoints");
        privateKey = CheckpointKeys.ensure(dir.resolve("trail-checkpoint.key"), dir.resolve("trail-checkpoint.pub"));
        publicKey = dir.resolve("trail-checkpoint.pub");
    }

    /** The controller's checkpointer, on a clock the test sets (no waiting for the interval). */
    private TrailCheckpointer checkpointer(Clock clock) throws Exception {
        return new TrailCheckpointer(
                PG.dataSource(),
                CheckpointKeys.readPrivate(privateKey),
                new CheckpointDirectory(checkpoints, "test"),
                clock,
                Duration.ofSeconds(1),
                new SimpleMeterRegistry());
    }

    /** Admin events, each signed right after it (as the controller does within its interval). */
    private void eventsSigned(int n, Instant at) throws Exception {
        try (TrailCheckpointer signer = checkpointer(Clock.fixed(at, ZoneOffset.UTC))) {
            for (int i = 0; i < n; i++) {
                trail.append(event(at, "routes/edge/r" + i));
                assertThat(signer.checkpointNow()).isPresent();
            }
        }
    }

    private static AdminTrailEntry event(Instant at, String target) {
        return TrailEntries.upsert(at, "alice", Optional.of("acme"), target);
    }

    private static String dbUrl() {
        String sep = PG.jdbcUrl().contains("?") ? "&" : "?";
        return PG.jdbcUrl() + sep + "user=" + PG.user() + "&password=" + PG.password();
    }

    private CliRun verify() {
        return CliRun.of(
                "audit",
                "verify",
                "--direct-db",
                "--db",
                dbUrl(),
                "--checkpoints",
                checkpoints.toString(),
                "--checkpoint-key",
                publicKey.toString());
    }

    private CliRun verifyWithoutCheckpoints() {
        return CliRun.of("audit", "verify", "--direct-db", "--db", dbUrl());
    }

    private static String hash(long seq) {
        return PG.dsl()
                .fetchValue("select row_hash from admin_trail where seq = ?", seq)
                .toString();
    }

    /** What an operator with this code could add: a well-hashed row claiming a retention drop anchored at seq. */
    private void forgeRetentionRow(long seq, String anchorHash) throws Exception {
        trail.append(new AdminTrailEntry(
                Instant.now(),
                "audit-maintenance",
                "system",
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                AdminTrail.RETENTION_ACTION,
                "admin_trail/x",
                "dropped rows, anchored at row " + seq,
                Optional.empty(),
                Optional.empty(),
                Map.of("retention_months", "13", "anchor_seq", Long.toString(seq), "anchor_hash", anchorHash)));
    }

    @Test
    void intactTrail_withEveryCheckpoint_exits0() throws Exception {
        eventsSigned(5, Instant.now());
        assertThat(Files.list(checkpoints).toList()).hasSize(1);
        CliRun r = verify();
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("admin trail intact: 5 rows checked", "5 signed checkpoints agree with it");
    }

    @Test
    void revisionWrittenByHand_besideSealedOnes_isNamed_exit1() throws Exception {
        io.meshguard.xds.model.GatewayConfig config = io.meshguard.xds.model.GatewayYaml.read("edge.yaml", """
                groups: [{name: edge, domain: bank.example}]
                upstreams: [{name: svc, endpoints: [{address: 10.0.0.1, port: 8080}]}]
                apis: [{name: shop, base_path: /shop, default_version: v1, versions: [{version: v1}]}]
                routes:
                  - {name: all, group: edge, api: shop, version: v1, match: {path_prefix: /},
                     destinations: [{upstream: svc, weight: 100}]}
                """);
        new io.meshguard.xds.store.PgGatewayStore(PG.dataSource()).replace(config);
        var published = new io.meshguard.xds.store.PgRevisionStore(PG.dataSource())
                .append("edge", config.slice("edge"), "alice", "sealed");
        assertThat(verifyWithoutCheckpoints().exit()).isZero();

        long forged = ((Number) PG.dsl()
                        .fetchValue(
                                "insert into config_revision (group_id, created_by, reason, content, upstream_chunks,"
                                        + " route_chunks) select group_id, 'mallory', 'routine', content,"
                                        + " upstream_chunks, route_chunks from config_revision where id = ? returning id",
                                published.id()))
                .longValue();
        try {
            CliRun r = verifyWithoutCheckpoints();
            assertThat(r.exit()).isEqualTo(1);
            assertThat(r.err())
                    .contains("a row the admin trail recorded was TAMPERED with (record_untrailed)")
                    .contains("revision " + forged + " of group edge (by mallory");
        } finally {
            PG.dsl().execute("delete from config_revision where id = ?", forged);
        }
    }

    @Test
    void rowsDeletedUnderAHandWrittenAnchor_areNamed() throws Exception {
        eventsSigned(6, Instant.now());
        String hash3 = hash(3);
        PG.dsl().execute("delete from admin_trail where seq <= 3");
        PG.dsl()
                .execute(
                        "insert into admin_trail_anchor (up_to_seq, row_hash, reason) values (3, ?, 'retention')",
                        hash3);
        CliRun r = verify();
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err())
                .contains(
                        "admin trail TAMPERED at row 3 (anchor_unvouched)",
                        "the anchor at row 3 is recorded by no trail row");

        // the operator also forges the row that vouches for the anchor: the signed heads show rows 1 to 3 existed
        forgeRetentionRow(3, hash3);
        CliRun forged = verify();
        assertThat(forged.exit()).isEqualTo(1);
        assertThat(forged.err())
                .contains(
                        "(dropped_unwitnessed)",
                        "row 1, signed at",
                        "is gone under the anchor at row 3 that no checkpoint has seen");
        // and once the controller has signed the new head with the anchor, the drop is seen as too early
        try (TrailCheckpointer signer = checkpointer(Clock.systemUTC())) {
            signer.checkpointNow();
        }
        CliRun signed = verify();
        assertThat(signed.exit()).isEqualTo(1);
        assertThat(signed.err())
                .contains(
                        "(dropped_early)",
                        "rows up to 3 were anchored away by",
                        "0 days after row 3 was first signed",
                        "months within the retention (at least 13) were dropped");
    }

    @Test
    void droppedCurrentMonth_isRefusedByTheFunction_andARawDropIsNamed() throws Exception {
        eventsSigned(4, Instant.now());
        YearMonth now = YearMonth.now(ZoneOffset.UTC);
        assertThatThrownBy(
                        () -> PG.dsl().execute("select admin_trail_drop_month(?::date, 13, 'cleanup')", now.atDay(1)))
                .hasMessageContaining("is within the retention of 13 months");

        // by hand instead: the month's partition dropped, an anchor and a vouching row forged, the head moved
        String hash4 = hash(4);
        String partition = String.format("admin_trail_%04d_%02d", now.getYear(), now.getMonthValue());
        PG.dsl().execute("drop table " + partition);
        PG.dsl()
                .execute(
                        "insert into admin_trail_anchor (up_to_seq, row_hash, reason) values (4, ?, 'retention')",
                        hash4);
        trail.ensurePartitions(now, 0);
        forgeRetentionRow(4, hash4);
        assertThat(verifyWithoutCheckpoints().exit())
                .as("the chain alone cannot tell")
                .isZero();
        CliRun r = verify();
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("(dropped_unwitnessed)", "is gone under the anchor at row 4");
    }

    @Test
    void truncatedNewestRows_areNamed() throws Exception {
        eventsSigned(5, Instant.now());
        PG.dsl().execute("delete from admin_trail where seq >= 4");
        PG.dsl().execute("update admin_trail_head set seq = 3, row_hash = ?", hash(3));
        assertThat(verifyWithoutCheckpoints().exit())
                .as("the chain alone cannot tell")
                .isZero();
        CliRun r = verify();
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err())
                .contains(
                        "admin trail TAMPERED at row 4 (truncated)",
                        "says the trail reached row 5, "
                                + "but it ends at row 3: rows 4 to 5 were removed with the head");
    }

    @Test
    void rowRewrittenWithItsChainRecomputed_isNamed() throws Exception {
        eventsSigned(5, Instant.now());
        // the operator rewrites row 3 (and so every row after it) with correct hashes, and moves the head
        PG.dsl().execute("delete from admin_trail where seq >= 3");
        PG.dsl().execute("update admin_trail_head set seq = 2, row_hash = ?", hash(2));
        trail.append(event(Instant.now(), "routes/edge/nothing-to-see"));
        trail.append(event(Instant.now(), "routes/edge/r3"));
        trail.append(event(Instant.now(), "routes/edge/r4"));
        assertThat(verifyWithoutCheckpoints().exit())
                .as("the chain alone cannot tell")
                .isZero();
        CliRun r = verify();
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err())
                .contains("admin trail TAMPERED at row 3 (rewritten)", "row 3 no longer has the hash signed for it at");
    }

    @Test
    void forgedOrAlteredCheckpoint_isNamed() throws Exception {
        eventsSigned(2, Instant.now());
        Path file = Files.list(checkpoints).findFirst().orElseThrow();
        Files.writeString(file, Files.readString(file).replace("\"seq\":2", "\"seq\":1"));
        CliRun r = verify();
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("(bad_checkpoint)", "is not signed by the checkpoint key");
    }

    @Test
    void monthRetiredByRetention_stillVerifiesAgainstItsCheckpoints() throws Exception {
        YearMonth old = YearMonth.now(ZoneOffset.UTC).minusMonths(15);
        eventsSigned(3, old.atDay(10).atStartOfDay().toInstant(ZoneOffset.UTC));
        eventsSigned(2, Instant.now());
        trail.dropMonth(old, 13, Instant.now());
        try (TrailCheckpointer signer = checkpointer(Clock.systemUTC())) {
            assertThat(signer.checkpointNow())
                    .hasValueSatisfying(cp -> assertThat(cp.anchorSeq()).isEqualTo(3));
        }
        CliRun r = verify();
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("admin trail intact: 3 rows checked", "6 signed checkpoints agree with it");
    }

    /** A second controller key, as an operator makes one to rotate to; its private key's file. */
    private Path rotatedKey() throws Exception {
        return CheckpointKeys.ensure(dir.resolve("trail-checkpoint-2.key"), dir.resolve("trail-checkpoint-2.pub"));
    }

    /** Admin events signed by the controller after it rotated to {@code key}, trusting the first key's checkpoints. */
    private void eventsSignedAfterRotation(Path key, int n) throws Exception {
        try (TrailCheckpointer signer = new TrailCheckpointer(
                PG.dataSource(),
                CheckpointKeys.readPrivate(key),
                List.of(CheckpointKeys.readPublic(publicKey)),
                new CheckpointDirectory(checkpoints, "test"),
                Clock.systemUTC(),
                Duration.ofSeconds(1),
                new SimpleMeterRegistry())) {
            for (int i = 0; i < n; i++) {
                trail.append(event(Instant.now(), "routes/edge/rotated" + i));
                assertThat(signer.checkpointNow()).isPresent();
            }
        }
    }

    private CliRun verifyWithKeys(Path... keys) {
        List<String> args = new java.util.ArrayList<>(
                List.of("audit", "verify", "--direct-db", "--db", dbUrl(), "--checkpoints", checkpoints.toString()));
        for (Path k : keys) {
            args.add("--checkpoint-key");
            args.add(k.toString());
        }
        return CliRun.of(args.toArray(String[]::new));
    }

    @Test
    void checkpointKeyRotated_checkpointsOfBothKeysVerify_withBothPublicKeysGiven() throws Exception {
        eventsSigned(2, Instant.now());
        Path second = rotatedKey();
        eventsSignedAfterRotation(second, 3);
        Path secondPublic = dir.resolve("trail-checkpoint-2.pub");

        CliRun both = verifyWithKeys(publicKey, secondPublic);
        assertThat(both.exit()).as(both.err()).isZero();
        assertThat(both.out()).contains("admin trail intact: 5 rows checked", "5 signed checkpoints agree with it");
        // each checkpoint names the key that signed it
        assertThat(CheckpointDirectory.read(checkpoints).checkpoints())
                .extracting(io.meshguard.audit.trail.TrailCheckpoint::keyId)
                .containsExactly(
                        keyId(publicKey),
                        keyId(publicKey),
                        keyId(secondPublic),
                        keyId(secondPublic),
                        keyId(secondPublic));

        CliRun newKeyOnly = verifyWithKeys(secondPublic);
        assertThat(newKeyOnly.exit()).isEqualTo(1);
        assertThat(newKeyOnly.err())
                .contains("(bad_checkpoint)", "names key " + keyId(publicKey), "which is not a trusted checkpoint key");
    }

    @Test
    void checkpointWrittenBy1_0_0rc1_withoutAKeyId_verifiesWithTheConfiguredKeys() throws Exception {
        trail.append(event(Instant.now(), "routes/edge/r0"));
        trail.append(event(Instant.now(), "routes/edge/old-format"));
        // the line 1.0.0-rc.1 wrote: no key_id, its v1 signed text
        var rc1 = io.meshguard.audit.trail.TrailCheckpoint.sign(
                2,
                hash(2),
                0,
                io.meshguard.audit.trail.TrailHash.GENESIS,
                Instant.now(),
                "",
                CheckpointKeys.readPrivate(privateKey));
        try (CheckpointDirectory d = new CheckpointDirectory(checkpoints, "rc1")) {
            d.append(rc1);
        }
        assertThat(rc1.toJsonLine()).doesNotContain("key_id");
        Path secondPublic = dir.resolve("trail-checkpoint-2.pub");
        rotatedKey();

        CliRun r = verifyWithKeys(secondPublic, publicKey);
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("admin trail intact: 2 rows checked", "1 signed checkpoint");
        CliRun otherKey = verifyWithKeys(secondPublic);
        assertThat(otherKey.exit()).isEqualTo(1);
        assertThat(otherKey.err()).contains("(bad_checkpoint)", "is not signed by the checkpoint key");
    }

    @Test
    void keyIdStrippedFromARotatedCheckpoint_isNotReadAsAReleasedOne() throws Exception {
        eventsSigned(2, Instant.now());
        Path file = Files.list(checkpoints).findFirst().orElseThrow();
        Files.writeString(file, Files.readString(file).replaceAll(",\"key_id\":\"[^\"]*\"", ""));
        assertThat(Files.readString(file)).doesNotContain("key_id");
        CliRun r = verify();
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("(bad_checkpoint)", "is not signed by the checkpoint key");
    }

    private static String keyId(Path publicKeyFile) throws Exception {
        return CheckpointKeys.keyId(CheckpointKeys.readPublic(publicKeyFile));
    }

    @Test
    void checkpointsWithoutTheKey_areRefusedAsAnArgument() {
        CliRun r = CliRun.of("audit", "verify", "--direct-db", "--db", dbUrl(), "--checkpoints", dir.toString());
        assertThat(r.exit()).isNotZero();
        assertThat(r.err()).contains("--checkpoints and --checkpoint-key go together");
    }
}
