package io.meshguard.bench.extauthz;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * Warms every scenario up, then measures them round-robin (closed loop, then each fixed rate), so a burst of noise on
 * the shared machine hits all scenarios alike. Figures are medians over the rounds.
 */
final class InterleavedRounds {

    /** One scenario's results over all rounds. */
    record Measured(List<LoadGenerator.Result> closedLoop, Map<Integer, List<LoadGenerator.Result>> openLoop) {

        /** The round with the median closed-loop throughput. */
        LoadGenerator.Result maxThroughput() {
            return median(closedLoop, LoadGenerator.Result::throughput);
        }

        /** The round with the median p99 at {@code rate}. */
        LoadGenerator.Result atRate(int rate) {
            return median(openLoop.get(rate), r -> r.latency().getValueAtPercentile(99));
        }
    }

    private InterleavedRounds() {}

    /**
     * @param names one per generator, for the error when a warm-up Check is not allowed (a broken scenario)
     * @return one entry per generator, in order
     */
    static List<Measured> run(
            List<String> names, List<LoadGenerator> generators, Duration seconds, List<Integer> rates, int rounds)
            throws Exception {
        for (int i = 0; i < generators.size(); i++) {
            LoadGenerator.Result warm =
                    generators.get(i).closedLoop(32, Duration.ofSeconds(Math.max(3, seconds.toSeconds() / 2)));
            if (warm.notAllowed() > 0) {
                throw new IllegalStateException(
                        names.get(i) + ": " + warm.notAllowed() + " Checks were not allowed; the scenario is broken");
            }
        }
        List<Measured> measured = new ArrayList<>();
        for (int i = 0; i < generators.size(); i++) {
            measured.add(new Measured(new ArrayList<>(), new LinkedHashMap<>()));
        }
        for (int round = 0; round < rounds; round++) {
            for (int i = 0; i < generators.size(); i++) {
                measured.get(i).closedLoop().add(generators.get(i).closedLoop(32, seconds));
            }
            for (int rate : rates) {
                for (int i = 0; i < generators.size(); i++) {
                    measured.get(i)
                            .openLoop()
                            .computeIfAbsent(rate, r -> new ArrayList<>())
                            .add(generators.get(i).openLoop(rate, seconds));
                }
            }
            System.out.printf("round %d of %d done%n", round + 1, rounds);
        }
        return measured;
    }

    static LoadGenerator.Result median(List<LoadGenerator.Result> results, ToDoubleFunction<LoadGenerator.Result> by) {
        List<LoadGenerator.Result> sorted = new ArrayList<>(results);
        sorted.sort(Comparator.comparingDouble(by));
        return sorted.get(sorted.size() / 2);
    }
}
