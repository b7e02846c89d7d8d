package io.meshguard.bench.audit;

import com.zaxxer.hikari.HikariDataSource;
import io.meshguard.audit.trail.AdminTrail;
import io.meshguard.audit.trail.CheckpointDirectory;
import io.meshguard.audit.trail.CheckpointKeys;
import io.meshguard.audit.trail.TrailCheckpointer;
import io.meshguard.audit.trail.TrailEntries;
import io.meshguard.db.DataSourceFactory;
import io.meshguard.db.Migrations;
import io.meshguard.devstack.db.LocalPostgres;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;

/**
 * What signed trail checkpoints cost per admin event, in the same run, interleaved rounds against an embedded
 * PostgreSQL: {@code java -cp ... TrailCheckpointBench [events-per-round]}. Baseline: one admin event appended to the
 * trail (AdminTrail.append, its own transaction: what every admin change and sign-in pays). With checkpoints: the same
 * append followed by a checkpoint round that finds the head moved, i.e. reads head and anchor, signs with Ed25519,
 * appends a line to the checkpoint file and forces it to disk — the worst case, one checkpoint per event (events at
 * least one interval apart); events closer together share one. Prints the mean per event of each, the median of the
 * rounds, and the ratio.
 */
public final class TrailCheckpointBench {
    public static void main(String[] args) throws Exception {
        int events = args.length > 0 ? Integer.parseInt(args[0]) : 500;
        int rounds = 7;
        Path dir = Files.createTempDirectory("trail-bench");
        try (LocalPostgres pg = LocalPostgres.start(dir.resolve("pg"), 0);
                HikariDataSource ds = DataSourceFactory.create(pg.dbSettings("meshguard-bench"))) {
            Migrations.apply(ds);
            AdminTrail trail = new AdminTrail(ds);
            Path key = CheckpointKeys.ensure(dir.resolve("k.pem"), dir.resolve("k.pub"));
            try (TrailCheckpointer checkpoints = new TrailCheckpointer(
                    ds,
                    CheckpointKeys.readPrivate(key),
                    new CheckpointDirectory(dir.resolve("checkpoints"), "bench"),
                    Clock.systemUTC(),
                    Duration.ofSeconds(1),
                    new SimpleMeterRegistry())) {
                for (int w = 0; w < 2; w++) { // warm-up
                    round(trail, Optional.empty(), events);
                    round(trail, Optional.of(checkpoints), events);
                }
                double[] plain = new double[rounds];
                double[] signed = new double[rounds];
                for (int r = 0; r < rounds; r++) {
                    plain[r] = round(trail, Optional.empty(), events);
                    signed[r] = round(trail, Optional.of(checkpoints), events);
                }
                double[] signOnly = new double[rounds];
                for (int r = 0; r < rounds; r++) {
                    signOnly[r] = signOnly(key, events);
                }
                Arrays.sort(plain);
                Arrays.sort(signed);
                Arrays.sort(signOnly);
                double p = plain[rounds / 2];
                double s = signed[rounds / 2];
                System.out.printf("admin event, median of %d interleaved rounds of %d events:%n", rounds, events);
                System.out.printf("  append alone                      %8.1f us%n", p / 1000);
                System.out.printf("  append + checkpoint (each event)  %8.1f us%n", s / 1000);
                System.out.printf(
                        "  ratio with / without checkpoints  %8.2fx (+%.1f us per event)%n", s / p, (s - p) / 1000);
                System.out.printf("  of which Ed25519 signing alone    %8.1f us%n", signOnly[rounds / 2] / 1000);
            }
        }
    }

    /** Mean nanoseconds per event of one round. */
    private static double round(AdminTrail trail, Optional<TrailCheckpointer> checkpoints, int events)
            throws Exception {
        long start = System.nanoTime();
        for (int i = 0; i < events; i++) {
            trail.append(
                    TrailEntries.change("alice (sub-1)", "org-admin", i, Optional.empty(), Map.of("revision", "42")));
            if (checkpoints.isPresent()) {
                checkpoints.get().checkpointNow();
            }
        }
        return (System.nanoTime() - start) / (double) events;
    }

    private static double signOnly(Path key, int n) throws Exception {
        java.security.PrivateKey k = CheckpointKeys.readPrivate(key);
        String id = CheckpointKeys.keyId(CheckpointKeys.publicOf(k));
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            io.meshguard.audit.trail.TrailCheckpoint.sign(i, "a".repeat(64), 0, "0".repeat(64), Instant.now(), id, k);
        }
        return (System.nanoTime() - start) / (double) n;
    }
}
