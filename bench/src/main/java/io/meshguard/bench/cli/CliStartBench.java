package io.meshguard.bench.cli;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How long a short {@code meshguard} command takes from the shell, beside the JVM's own floor ({@code java -version})
 * measured in the same interleaved rounds: each command through the launcher {@code ./meshguard} (the command line
 * built for the one command named, the JDK's ahead-of-time cache) and the same command as {@code java -jar} of the
 * developer's jar with neither. Wall time is what the user waits; on a shared machine it moves with the load, so
 * the CPU time of the command and its children (user + system, from {@code /usr/bin/time}) is printed beside it. Run
 * from the repository root after {@code ./meshguard --version} has built the jar and its cache:
 * {@code java -cp ... CliStartBench [rounds]}.
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
        Map<String, List<Long>> cpuMillis = new LinkedHashMap<>();
        List<String> floor = List.of(java, "-version");
        for (int round = -2; round < rounds; round++) { // two rounds warm the page cache and are not counted
            time(millis, cpuMillis, "java -version (the floor)", floor, round);
            for (List<String> command : COMMANDS) {
                List<String> launcher = new ArrayList<>(List.of("./meshguard"));
                launcher.addAll(command);
                time(millis, cpuMillis, "./meshguard " + String.join(" ", command), launcher, round);
                List<String> plain = new ArrayList<>(List.of(java, "-jar", jar));
                plain.addAll(command);
                time(millis, cpuMillis, "java -jar, no cache: " + String.join(" ", command), plain, round);
            }
        }
        double floorMedian = median(millis.get("java -version (the floor)"));
        double floorCpu = median(cpuMillis.get("java -version (the floor)"));
        System.out.printf(
                "%-48s %9s %9s %8s %11s %8s%n", "command", "p50 ms", "p90 ms", "x floor", "CPU p50 ms", "x floor");
        millis.forEach((name, samples) -> {
            double cpu = median(cpuMillis.get(name));
            System.out.printf(
                    "%-48s %9.0f %9.0f %8.1f %11.0f %8.1f%n",
                    name,
                    median(samples),
                    percentile(samples, 0.9),
                    median(samples) / floorMedian,
                    cpu,
                    cpu / floorCpu);
        });
    }

    private static void time(
            Map<String, List<Long>> millis,
            Map<String, List<Long>> cpuMillis,
            String name,
            List<String> command,
            int round)
            throws IOException, InterruptedException {
        Path times = Files.createTempFile("cli-start", ".time");
        List<String> timed = new ArrayList<>(List.of("/usr/bin/time", "-f", "%U %S", "-o", times.toString()));
        timed.addAll(command);
        long start = System.nanoTime();
        Process process = new ProcessBuilder(timed)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        if (process.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " exited " + process.exitValue());
        }
        long elapsed = (System.nanoTime() - start) / 1_000_000;
        String[] userSystem = Files.readString(times).strip().split(" ");
        Files.delete(times);
        if (round >= 0) {
            millis.computeIfAbsent(name, n -> new ArrayList<>()).add(elapsed);
            long cpu = Math.round((Double.parseDouble(userSystem[0]) + Double.parseDouble(userSystem[1])) * 1000);
            cpuMillis.computeIfAbsent(name, n -> new ArrayList<>()).add(cpu);
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
