package io.meshguard.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.stream.Collectors;

/**
 * One run of the meshguard command line in this JVM, as a user would see it: exit code, standard output and
 * standard error. Servers a command starts log JSON lines to the console from their own threads; those are not
 * the command's output and are kept apart ({@code logLines}).
 */
public record CliRun(int exit, String out, String err, java.util.List<String> logLines) {
    /** A run of the shipped command line ({@link Main}). */
    public static CliRun of(String... args) {
        return of(Main::execute, args);
    }

    /** A run of {@code commandLine} (the developer's {@code DevMain::execute} in devstack's tests). */
    public static CliRun of(java.util.function.ToIntFunction<String[]> commandLine, String... args) {
        PrintStream originalOut = System.out;
        PrintStream originalErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int exit = commandLine.applyAsInt(args);
            return new CliRun(exit, withoutLogLines(out), withoutLogLines(err), logLines(err));
        } finally {
            System.setOut(originalOut);
            System.setErr(originalErr);
        }
    }

    private static String withoutLogLines(ByteArrayOutputStream captured) {
        return captured.toString(StandardCharsets.UTF_8)
                .lines()
                .filter(l -> !isLogLine(l))
                .map(l -> l + "\n")
                .collect(Collectors.joining());
    }

    private static java.util.List<String> logLines(ByteArrayOutputStream captured) {
        return captured.toString(StandardCharsets.UTF_8)
                .lines()
                .filter(CliRun::isLogLine)
                .toList();
    }

    private static boolean isLogLine(String line) {
        return line.startsWith("{\"time\":\"") && line.contains("\"logger\":");
    }
}
