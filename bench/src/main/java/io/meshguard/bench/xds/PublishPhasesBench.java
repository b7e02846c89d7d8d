package io.meshguard.bench.xds;

import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.Route;
import io.meshguard.xds.server.ReferenceCheck;
import io.meshguard.xds.snapshot.FilterTargets;
import io.meshguard.xds.snapshot.GroupResources;
import io.meshguard.xds.snapshot.SnapshotBuilder;
import io.meshguard.xds.validate.ConfigValidator;
import io.meshguard.xds.validate.EnvoyLoadCheck;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * What a one-route change costs in memory, phase by phase, in a group of 200 and of 2,000 routes (the cost
 * should grow with the change, not with the configuration). Not a test: prints, asserts nothing. Each round changes
 * one route's weights in a draft whose other objects are the instances read before (as the store's edit gives them)
 * and runs, on one thread, what a {@code PUT} and a {@code POST /publish} run on it: the configuration's index and
 * slice, the draft's validation (its own checks and Envoy's on its build with the default filter targets), the
 * publish's build and its reference and Envoy checks. Baselines in the same run: the same phases at 200 routes, and a
 * build from nothing remembered at each size. PostgreSQL's part is in {@link PublishAtScaleBench}.
 *
 * <p>Arguments: {@code [rounds]} (default 600; the median of the last half is printed).
 */
public final class PublishPhasesBench {
    private static final String[] PHASES = {
        "index and slice", "validation (as a PUT)", "build", "reference check", "Envoy's checks", "build from scratch"
    };

    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 600;
        double[] small = phases(200, rounds);
        double[] large = phases(2_000, rounds);
        System.out.printf("one-route change, median of the last %d of %d rounds (ms):%n", rounds / 2, rounds);
        System.out.printf("  %-24s %10s %10s %8s%n", "phase", "200", "2,000", "ratio");
        for (int p = 0; p < PHASES.length; p++) {
            System.out.printf("  %-24s %10.3f %10.3f %7.1fx%n", PHASES[p], small[p], large[p], large[p] / small[p]);
        }
        double sumSmall = Arrays.stream(small, 0, PHASES.length - 1).sum();
        double sumLarge = Arrays.stream(large, 0, PHASES.length - 1).sum();
        System.out.printf(
                "  %-24s %10.3f %10.3f %7.1fx%n", "all but from scratch", sumSmall, sumLarge, sumLarge / sumSmall);
    }

    private static double[] phases(int routes, int rounds) {
        GatewayConfig generated = XdsBenchmark.config(routes, 8080);
        // as the store reads a draft: every list in name order
        GatewayConfig base = new GatewayConfig(
                generated.groups(),
                sortedBy(generated.upstreams(), u -> u.name()),
                sortedBy(generated.apis(), a -> a.name()),
                sortedBy(generated.routes(), Route::name));
        ConfigValidator validator = new ConfigValidator();
        SnapshotBuilder builder = new SnapshotBuilder(FilterTargets.DEFAULTS);
        long[][] took = new long[PHASES.length][rounds];
        for (int i = 0; i < rounds; i++) {
            List<Route> rs = XdsBenchmark.firstRouteReweighted(base.routes(), i);
            long t0 = System.nanoTime();
            GatewayConfig config = new GatewayConfig(base.groups(), base.upstreams(), base.apis(), rs);
            GatewayConfig slice = config.slice("bench");
            long t1 = System.nanoTime();
            if (!validator.validate(config).valid()) {
                throw new IllegalStateException("the benchmark's configuration does not validate");
            }
            long t2 = System.nanoTime();
            GroupResources built = builder.build(config, "bench");
            long t3 = System.nanoTime();
            List<String> dangling = ReferenceCheck.danglingReferences(built);
            long t4 = System.nanoTime();
            int refused = EnvoyLoadCheck.problems(built).size();
            long t5 = System.nanoTime();
            GroupResources scratch =
                    SnapshotBuilder.fresh(FilterTargets.DEFAULTS).build(slice, "bench");
            long t6 = System.nanoTime();
            if (!dangling.isEmpty() || refused > 0 || !scratch.equals(built)) {
                throw new IllegalStateException("the change's build differs from a build from scratch");
            }
            long[] at = {t0, t1, t2, t3, t4, t5, t6};
            for (int p = 0; p < PHASES.length; p++) {
                took[p][i] = at[p + 1] - at[p];
            }
        }
        double[] medians = new double[PHASES.length];
        for (int p = 0; p < PHASES.length; p++) {
            long[] last = Arrays.copyOfRange(took[p], rounds / 2, rounds);
            Arrays.sort(last);
            medians[p] = last[last.length / 2] / 1e6;
        }
        return medians;
    }

    private static <T> List<T> sortedBy(List<T> list, java.util.function.Function<T, String> name) {
        return list.stream().sorted(Comparator.comparing(name)).toList();
    }
}
