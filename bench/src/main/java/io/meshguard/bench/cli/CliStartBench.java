package io.meshguard.bench.cli;

import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How long a short {@code meshguard} command takes from the shell, beside the JVM's own floor ({@code java -version})
 * measured in the same interleaved rounds: each command through the launcher {@code ./meshguard} (the command line
 * built for the one command named, the JDK's ahead-of-time cache) and the same command as {@code java -jar} of the
 * developer's jar with neither. Run from the repository root after {@code ./meshguard --version} has built the jar and
 * its cache: {@code java -cp ... CliStartBench [rounds]}.
 */
public final class CliStartBench {
    private static final List<List<String>> COMMANDS =
            List.of(List.of("--version"), List.of("xds", "--help"), List.of("audit", "query", "--help"));

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 15;
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String jar =
                Path.of("devstack/target/meshguard-dev.jar").toAbsolutePath().toString();
        if (!new File(jar).isFile() || !new File("meshguard").canExecute()) {
            throw new IllegalStateException("run from the repository root after ./meshguard --version built " + jar);
        }
        Map<String, List<Long>> millis = new LinkedHashMap<>();
        List<String> floor = List.of(java, "-version");
        for (int round = -2; round < rounds; round++) { // two rounds warm the page cache and are not counted
            time(millis, "java -version (the floor)", floor, round);
            for (List<String> command : COMMANDS) {
                List<String> launcher = new ArrayList<>(List.of("./meshguard"));
                launcher.addAll(command);
                time(millis, "./meshguard " + String.join(" ", command), launcher, round);
                List<String> plain = new ArrayList<>(List.of(java, "-jar", jar));
                plain.addAll(command);
                time(millis, "java -jar, no cache: " + String.join(" ", command), plain, round);
            }
        }
        double floorMedian = median(millis.get("java -version (the floor)"));
        System.out.printf("%-48s %9s %9s %8s%n", "command", "p50 ms", "p90 ms", "x floor");
        millis.forEach((name, samples) -> System.out.printf(
                "%-48s %9.0f %9.0f %8.1f%n",
                name, median(samples), percentile(samples, 0.9), median(samples) / floorMedian));
    }

    private static void time(Map<String, List<Long>> millis, String name, List<String> command, int round)
            throws IOException, InterruptedException {
        long start = System.nanoTime();
        Process process = new ProcessBuilder(command)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        if (process.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " exited " + process.exitValue());
        }
        long elapsed = (System.nanoTime() - start) / 1_000_000;
        if (round >= 0) {
            millis.computeIfAbsent(name, n -> new ArrayList<>()).add(elapsed);
        }
    }

    private static double median(List<Long> samples) {
        return percentile(samples, 0.5);
    }

    private static double percentile(List<Long> samples, double p) {
        List<Long> sorted = samples.stream().sorted().toList();
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.floor(p * sorted.size())));
    }
}
