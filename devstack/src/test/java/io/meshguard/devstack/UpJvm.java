package io.meshguard.devstack;

import java.nio.file.Path;
import java.util.List;

/**
 * The start of the command line of a {@code meshguard up} a test runs as a child process: this JVM's {@code java} on
 * this JVM's class path. Its options are the tests', not the launcher's: a small heap, and C1 only, because a test's
 * {@code up} lives for seconds and C2's compiler threads cost more CPU than they win back (an {@code up} start to
 * "meshguard is up" measured 19.4 s of CPU with both compilers, 12.0 s with C1 only). The bodies the tests send
 * through its DLP scan are a few hundred bytes: without C2 its vector search is slower there, not different.
 */
final class UpJvm {
    private UpJvm() {}

    /** {@code java}, its options and the class path, up to and including {@link DevMain}'s class name. */
    static List<String> command() {
        Path javaBin = Path.of(System.getProperty("java.home"), "bin", "java");
        return List.of(
                javaBin.toString(),
                "-Xmx256m",
                "-XX:TieredStopAtLevel=1",
                "-cp",
                System.getProperty("java.class.path"),
                DevMain.class.getName());
    }
}
