package io.meshguard.bench.xds;

import com.zaxxer.hikari.HikariDataSource;
import io.meshguard.db.DataSourceFactory;
import io.meshguard.db.Migrations;
import io.meshguard.devstack.db.LocalPostgres;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.Route;
import io.meshguard.xds.store.PgGatewayStore;
import io.meshguard.xds.store.PgRevisionStore;
import io.meshguard.xds.store.Revision;
import io.meshguard.xds.store.RevisionStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What storing a one-route change costs in PostgreSQL, in a group of 200 and of 2,000 routes (the cost
 * should grow with the change, not with the configuration). Not a test: prints, asserts nothing. A real PostgreSQL
 * (the binaries of {@code meshguard up}) with the shipped migrations; each round changes one route's weights, keeping
 * every other object the instance read before (as a draft edit gives them), and times what a publish and a replica
 * do with it: {@code prepare} (parts, chunks, the revision row, its seal in the admin trail, the {@code NOTIFY}),
 * {@code commit}, and another replica's read of the new revision ({@code get}: its parts and chunks fetched and
 * checked against the seal), the last through a second store, which has none of the writer's memos. Sizes alternate
 * in blocks, the first rounds of each block (the revision that writes the whole group) left out; the baseline is the
 * same work at 200 routes in the same run.
 *
 * <p>Arguments: {@code [rounds per block] [blocks]} (default 200 and 3; medians over the kept rounds).
 */
public final class RevisionStoreBench {
    private static final String[] PHASES = {"prepare", "commit", "read on a replica"};
    private static final int SETTLING = 40;

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 200;
        int blocks = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        Path tmp = Files.createTempDirectory("meshguard-revision-bench");
        try (LocalPostgres pg = LocalPostgres.start(tmp.resolve("pgdata"), 0);
                HikariDataSource ds = DataSourceFactory.create(pg.dbSettings("revision-bench"))) {
            Migrations.apply(ds);
            GatewayConfig small = XdsBenchmark.config(200, 8080);
            GatewayConfig large = XdsBenchmark.config(2_000, 8080);
            new PgGatewayStore(ds).replace(large);
            RevisionStore writer = new PgRevisionStore(ds);
            RevisionStore replica = new PgRevisionStore(ds);
            List<long[]> smallTook = new ArrayList<>();
            List<long[]> largeTook = new ArrayList<>();
            for (int b = 0; b < blocks; b++) {
                smallTook.addAll(block(writer, replica, small, rounds));
                largeTook.addAll(block(writer, replica, large, rounds));
            }
            double[] s = medians(smallTook);
            double[] l = medians(largeTook);
            System.out.printf(
                    "one-route revision in PostgreSQL, median of %d rounds per size (ms):%n", smallTook.size());
            System.out.printf("  %-20s %10s %10s %8s%n", "phase", "200", "2,000", "ratio");
            for (int p = 0; p < PHASES.length; p++) {
                System.out.printf("  %-20s %10.3f %10.3f %7.2fx%n", PHASES[p], s[p], l[p], l[p] / s[p]);
            }
            double stored = s[0] + s[1];
            double storedLarge = l[0] + l[1];
            System.out.printf(
                    "  %-20s %10.3f %10.3f %7.2fx  (+%.3f ms)%n",
                    "stored", stored, storedLarge, storedLarge / stored, storedLarge - stored);
        }
    }

    /** {@code rounds} one-route revisions of {@code base}, timed; the first {@link #SETTLING} are not kept. */
    private static List<long[]> block(RevisionStore writer, RevisionStore replica, GatewayConfig base, int rounds) {
        List<long[]> kept = new ArrayList<>();
        for (int i = 0; i < SETTLING + rounds; i++) {
            List<Route> rs = XdsBenchmark.firstRouteReweighted(base.routes(), i);
            GatewayConfig slice = new GatewayConfig(base.groups(), base.upstreams(), base.apis(), rs);
            long t0 = System.nanoTime();
            RevisionStore.Pending pending = writer.prepare(java.util.Map.of("bench", slice), "bench", "round " + i);
            long t1 = System.nanoTime();
            Revision stored = pending.commit().get("bench");
            long t2 = System.nanoTime();
            Revision read = replica.get(stored.id()).orElseThrow();
            long t3 = System.nanoTime();
            if (!read.config().routes().get(0).equals(rs.get(0))) {
                throw new IllegalStateException("the replica read another route than the one stored");
            }
            if (i >= SETTLING) {
                kept.add(new long[] {t1 - t0, t2 - t1, t3 - t2});
            }
        }
        return kept;
    }

    private static double[] medians(List<long[]> took) {
        double[] out = new double[PHASES.length];
        for (int p = 0; p < PHASES.length; p++) {
            int phase = p;
            long[] all = took.stream().mapToLong(t -> t[phase]).toArray();
            Arrays.sort(all);
            out[p] = all[all.length / 2] / 1e6;
        }
        return out;
    }
}
