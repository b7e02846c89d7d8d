package io.meshguard.deploy.box;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;

/**
 * How long a box's shutdown took, appended to {@code target/box-shutdown.log} of the module: the shutdown runs in a
 * JVM shutdown hook, after surefire stopped reading the fork's output, and must end before surefire's fork exit
 * timeout (30 s) kills the fork and leaves the namespaces behind.
 */
final class ShutdownLog {
    static final Path FILE = Path.of("target", "box-shutdown.log");

    private ShutdownLog() {}

    static void record(String what, long startedNanos, int pods, java.util.List<String> killed) {
        String line = String.format(
                "%s %s (pid %d): %d pod processes stopped and namespaces deleted in %.1f s; killed after the"
                        + " grace: %s%n",
                Instant.now(),
                what,
                ProcessHandle.current().pid(),
                pods,
                (System.nanoTime() - startedNanos) / 1e9,
                killed);
        System.err.print(line);
        try {
            Files.createDirectories(FILE.toAbsolutePath().getParent());
            Files.writeString(FILE, line, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            System.err.println("cannot append to " + FILE + ": " + e.getMessage());
        }
    }
}
