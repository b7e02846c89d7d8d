package io.meshguard.bench.dlp;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Two builds of the DLP scanner in one JVM, pass for pass: each directory of {@code extproc-dlp-server} classes is
 * loaded first in its own class loader (the bench's classes and dependencies after it), and one 16 MB pass of each
 * runs in turn, the order alternating. Thread CPU time per pass and the ratio of pass times (A over B, above 1: B is
 * faster) survive a loaded machine far better than two JVMs run one after the other. A benchmark, not a test.
 *
 * <pre>java [-Dwarm=all] -cp bench/target/classes:$(cat bench/target/classpath.txt) io.meshguard.bench.dlp.InterleavedPasses
 *     prose|json|pii|pii-distinct|sse ROUNDS CLASSES_A CLASSES_B</pre>
 *
 * {@code -Dwarm=all} first runs, in each build's class loader, passes of every other corpus: the scan's shared
 * methods are then compiled with the profiles of mixed traffic (what a replica scanning all kinds of bodies runs, and
 * what {@link ScanThroughput}'s all-corpora run measures for the corpora after the first) before the measured corpus
 * runs; without it each build has seen the measured corpus only. {@code -Dwarm=a} does so for build A alone: with the
 * same classes as A and B, the A/B ratio is then what mixed traffic costs the measured corpus.
 *
 * Run it from the repository root (it reads {@code policies/dlp.yaml} and {@code bench/target/classpath.txt}).
 */
public final class InterleavedPasses {
    private InterleavedPasses() {}

    public static void main(String[] args) throws Exception {
        String corpus = args[0];
        int rounds = Integer.parseInt(args[1]);
        String common = Files.readString(Path.of("bench/target/classpath.txt")).trim() + ":bench/target/classes";
        String warm = System.getProperty("warm", "");
        Runnable[] pass = {
            runner(args[2], common, corpus, warm.equals("all") || warm.equals("a")),
            runner(args[3], common, corpus, warm.equals("all"))
        };
        for (int i = 0; i < 5; i++) {
            pass[0].run();
            pass[1].run();
        }
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        double[][] nanos = new double[2][rounds];
        for (int i = 0; i < rounds; i++) {
            for (int j = 0; j < 2; j++) {
                int k = (i + j) % 2;
                long start = threads.getCurrentThreadCpuTime();
                pass[k].run();
                nanos[k][i] = threads.getCurrentThreadCpuTime() - start;
            }
        }
        double[] ratio = new double[rounds];
        for (int i = 0; i < rounds; i++) {
            ratio[i] = nanos[0][i] / nanos[1][i];
        }
        Arrays.sort(nanos[0]);
        Arrays.sort(nanos[1]);
        Arrays.sort(ratio);
        double mb = Double.parseDouble(pass[0].toString().split(" ")[0]) / 1e6;
        System.out.printf(
                "%s: A median %.1f CPU MB/s (best %.1f), B median %.1f (best %.1f); A/B time ratio median "
                        + "%.3f [%.3f..%.3f]; bytes and findings A %s, B %s%n",
                corpus,
                mb / (nanos[0][rounds / 2] / 1e9),
                mb / (nanos[0][0] / 1e9),
                mb / (nanos[1][rounds / 2] / 1e9),
                mb / (nanos[1][0] / 1e9),
                ratio[rounds / 2],
                ratio[0],
                ratio[rounds - 1],
                pass[0],
                pass[1]);
    }

    /** Every corpus {@link PassRunner} knows, in {@link ScanThroughput}'s order. */
    private static final List<String> CORPORA = List.of("prose", "json", "pii", "pii-distinct", "sse");

    /** Passes of each other corpus before the measured one with {@code -Dwarm=all}: enough for C2 to compile them. */
    private static final int MIXED_PASSES = 20;

    private static Runnable runner(String classes, String common, String corpus, boolean mixed) throws Exception {
        List<URL> urls = new ArrayList<>();
        for (String entry : (classes + ":" + common).split(":")) {
            urls.add(Path.of(entry).toUri().toURL());
        }
        // the platform loader as parent: every meshguard class comes from this loader's path, CLASSES first
        ClassLoader loader = new URLClassLoader(urls.toArray(URL[]::new), ClassLoader.getPlatformClassLoader());
        if (mixed) {
            for (String other : CORPORA) {
                if (!other.equals(corpus)) {
                    Runnable warm = pass(loader, other);
                    for (int i = 0; i < MIXED_PASSES; i++) {
                        warm.run();
                    }
                }
            }
        }
        return pass(loader, corpus);
    }

    private static Runnable pass(ClassLoader loader, String corpus) throws Exception {
        return (Runnable) loader.loadClass(PassRunner.class.getName())
                .getConstructor(String.class)
                .newInstance(corpus);
    }
}
