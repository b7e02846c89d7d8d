package io.meshguard.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.stream.Collectors;

/**
 * One run of the meshguard command line in this JVM, as a user would see it: exit code, standard output and
 * standard error. Servers a command starts log JSON lines to the console from their own threads; those are not
 * the command's output and are left out.
 */
public record CliRun(int exit, String out, String err) {
    public static CliRun of(String... args) {
        PrintStream originalOut = System.out;
        PrintStream originalErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int exit = Main.execute(args);
            return new CliRun(exit, withoutLogLines(out), withoutLogLines(err));
        } finally {
            System.setOut(originalOut);
            System.setErr(originalErr);
        }
    }

    private static String withoutLogLines(ByteArrayOutputStream captured) {
        return captured.toString(StandardCharsets.UTF_8).lines()
                .filter(l -> !(l.startsWith("{\"time\":\"") && l.contains("\"logger\":")))
                .map(l -> l + "\n").collect(Collectors.joining());
    }
}
