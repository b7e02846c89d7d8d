package io.meshguard.bench;

import org.HdrHistogram.Histogram;

/**
 * The machine-readable form of a latency-at-offered-rate measurement, one CSV line per scenario and rate, printed
 * beside a benchmark's tables. Every line starts with {@code latency,} so the lines can be picked out of a run's
 * output ({@code grep '^latency,'}); {@code bench/plots/plot.py} reads them and draws docs/benchmarks' plots.
 *
 * <pre>latency,server,scenario,baseline,offered_per_s,achieved_per_s,p50_us,p99_us,p999_us,saturated</pre>
 */
public final class LatencyCsv {
    private LatencyCsv() {}

    /** The header line; print it once before the rows. */
    public static void header() {
        System.out.println(
                "latency,server,scenario,baseline,offered_per_s,achieved_per_s,p50_us,p99_us,p999_us,saturated");
    }

    /**
     * One row.
     *
     * @param baseline true for the scenario the others are compared with (the no-op or pass-through server)
     * @param latencyMicros latency in microseconds from the intended send time
     */
    public static void row(
            String server,
            String scenario,
            boolean baseline,
            int offeredPerSecond,
            double achievedPerSecond,
            Histogram latencyMicros,
            boolean saturated) {
        System.out.printf(
                java.util.Locale.ROOT,
                "latency,%s,%s,%d,%d,%.1f,%d,%d,%d,%d%n",
                quote(server),
                quote(scenario),
                baseline ? 1 : 0,
                offeredPerSecond,
                achievedPerSecond,
                latencyMicros.getValueAtPercentile(50),
                latencyMicros.getValueAtPercentile(99),
                latencyMicros.getValueAtPercentile(99.9),
                saturated ? 1 : 0);
    }

    /** RFC 4180 quoting: scenario names hold commas. */
    static String quote(String field) {
        return "\"" + field.replace("\"", "\"\"") + "\"";
    }
}
