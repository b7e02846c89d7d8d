package io.meshguard.e2e;

import io.meshguard.cli.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Helpers of the API-usage scenario: the scraped metrics and the report as a user sees them. */
final class ApiUsageJourney {
    private ApiUsageJourney() {}

    /** The value of one series in Prometheus text, or 0 when absent; {@code labels} as {@code name="value"} pairs. */
    static double value(String scrape, String metric, String... labels) {
        Pattern line = Pattern.compile("^" + Pattern.quote(metric) + "\\{([^}]*)} (\\S+)$", Pattern.MULTILINE);
        Matcher m = line.matcher(scrape);
        double sum = 0;
        while (m.find()) {
            String set = m.group(1);
            if (List.of(labels).stream().allMatch(l -> set.contains(l))) {
                sum += Double.parseDouble(m.group(2));
            }
        }
        return sum;
    }

    /** Runs {@code meshguard ARGS} in this JVM and returns its standard output (fails on a non-zero exit). */
    static String run(String... args) {
        PrintStream originalOut = System.out;
        PrintStream originalErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            exit = Main.execute(args);
        } finally {
            System.setOut(originalOut);
            System.setErr(originalErr);
        }
        String text = out.toString(StandardCharsets.UTF_8);
        if (exit != 0) {
            throw new AssertionError(
                    "meshguard " + String.join(" ", args).replaceAll("password=[^&\\s]*", "password=***") + " exited "
                            + exit + ": " + err.toString(StandardCharsets.UTF_8));
        }
        return text.lines()
                .filter(l -> !(l.startsWith("{\"time\":\"") && l.contains("\"logger\":")))
                .reduce("", (a, b) -> a + b + "\n");
    }
}
