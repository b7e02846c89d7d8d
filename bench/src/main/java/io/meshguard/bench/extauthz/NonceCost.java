package io.meshguard.bench.extauthz;

import io.meshguard.extauthz.server.DecisionNonces;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;

/**
 * What the coverage nonce of every allowing Check costs: thread CPU per nonce (128 bits, base64url) as extauthz mints
 * it ({@link DecisionNonces#nonBlocking()}: {@code NativePRNGNonBlocking}, one instance and its lock for every Check
 * thread), beside the same nonce from a shared {@code DRBG} and from {@link ThreadLocalRandom} (no lock, not a CSPRNG:
 * the floor of encoding 16 bytes), one thread and then two threads drawing at once (the contention of a 2-CPU pod).
 * Variants alternate round by round; medians. Put the figure beside {@link CheckHandlerCost}'s CPU per Check.
 *
 * <p>Arguments (optional): rounds (default 9), nonces per round and thread (200,000).
 */
public final class NonceCost {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private static final Base64.Encoder ENCODER = Base64.getUrlEncoder().withoutPadding();

    private NonceCost() {}

    private record Variant(String name, Supplier<String> nonce) {}

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 9;
        int ops = args.length > 1 ? Integer.parseInt(args[1]) : 200_000;
        DecisionNonces shipped = DecisionNonces.nonBlocking();
        DecisionNonces drbg = new DecisionNonces(SecureRandom.getInstance("DRBG"));
        List<Variant> variants = List.of(
                new Variant("(a) NativePRNGNonBlocking, shared (shipped)", shipped::next),
                new Variant("(b) DRBG, shared", drbg::next),
                new Variant("(c) ThreadLocalRandom (not a CSPRNG; the encoding's floor)", () -> {
                    byte[] b = new byte[16];
                    ThreadLocalRandom.current().nextBytes(b);
                    return ENCODER.encodeToString(b);
                }));
        System.out.printf(
                "NonceCost: %d rounds x %d nonces per thread, JDK %s, %d CPUs%n",
                rounds, ops, Runtime.version(), Runtime.getRuntime().availableProcessors());
        for (int threads : new int[] {1, 2}) {
            List<List<Double>> cpu = new ArrayList<>();
            List<List<Double>> wall = new ArrayList<>();
            variants.forEach(v -> {
                cpu.add(new ArrayList<>());
                wall.add(new ArrayList<>());
            });
            for (int r = 0; r < rounds; r++) {
                for (int i = 0; i < variants.size(); i++) {
                    double[] m = measure(variants.get(i).nonce(), threads, ops);
                    if (r > 0) { // the first round warms the JIT
                        cpu.get(i).add(m[0]);
                        wall.get(i).add(m[1]);
                    }
                }
            }
            double base = median(cpu.get(0));
            System.out.printf("%d thread(s) drawing at once:%n", threads);
            for (int i = 0; i < variants.size(); i++) {
                double c = median(cpu.get(i));
                System.out.printf(
                        "  %-60s %7.0f ns CPU per nonce (%.2fx of (a)), %7.0f ns wall per nonce per thread%n",
                        variants.get(i).name(), c, c / base, median(wall.get(i)));
            }
        }
    }

    /** {thread CPU ns per nonce, averaged over the threads; wall ns per nonce per thread}. */
    private static double[] measure(Supplier<String> nonce, int threads, int ops) throws InterruptedException {
        CountDownLatch start = new CountDownLatch(1);
        long[] cpu = new long[threads];
        List<Thread> running = new ArrayList<>();
        int[] sink = new int[threads];
        for (int t = 0; t < threads; t++) {
            int index = t;
            running.add(Thread.ofPlatform().start(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                long c0 = THREADS.getCurrentThreadCpuTime();
                int length = 0;
                for (int i = 0; i < ops; i++) {
                    length += nonce.get().length();
                }
                cpu[index] = THREADS.getCurrentThreadCpuTime() - c0;
                sink[index] = length;
            }));
        }
        long w0 = System.nanoTime();
        start.countDown();
        for (Thread t : running) {
            t.join();
        }
        long wallNs = System.nanoTime() - w0;
        long totalCpu = 0;
        for (int t = 0; t < threads; t++) {
            if (sink[t] != 22 * ops) {
                throw new IllegalStateException("a nonce is not 22 characters");
            }
            totalCpu += cpu[t];
        }
        return new double[] {(double) totalCpu / threads / ops, (double) wallNs / ops};
    }

    private static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        return sorted.get(sorted.size() / 2);
    }
}
