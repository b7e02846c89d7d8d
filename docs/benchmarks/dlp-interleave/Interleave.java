import java.net.*; import java.nio.file.*; import java.util.*;
import java.lang.management.*;
/**
 * java [-Drunner=<PassRunner classes>] Interleave.java corpus rounds dirA dirB: thread-CPU time per pass of main's
 * (dirA) and a branch's (dirB) DLP classes, each in its own class loader, alternately in one JVM (issue 29).
 */
public class Interleave {
    public static void main(String[] a) throws Exception {
        String which = a[0]; int rounds = Integer.parseInt(a[1]);
        String common = Files.readString(Path.of("bench/target/classpath.txt")).trim() + ":bench/target/classes";
        Runnable[] r = new Runnable[2];
        for (int k = 0; k < 2; k++) {
            List<URL> urls = new ArrayList<>();
            for (String s : (a[2 + k] + ":" + System.getProperty("runner", "/tmp/pii29/h/classes") + ":" + common).split(":")) urls.add(Path.of(s).toUri().toURL());
            ClassLoader cl = new URLClassLoader(urls.toArray(URL[]::new), ClassLoader.getPlatformClassLoader());
            r[k] = (Runnable) cl.loadClass("io.meshguard.bench.dlp.PassRunner").getConstructor(String.class).newInstance(which);
        }
        ThreadMXBean t = ManagementFactory.getThreadMXBean();
        for (int i = 0; i < 5; i++) { r[0].run(); r[1].run(); }
        double[][] ns = new double[2][rounds];
        for (int i = 0; i < rounds; i++) {
            for (int j = 0; j < 2; j++) {
                int k = (i + j) % 2;
                long c0 = t.getCurrentThreadCpuTime(); r[k].run(); ns[k][i] = t.getCurrentThreadCpuTime() - c0;
            }
        }
        double[] ratio = new double[rounds];
        for (int i = 0; i < rounds; i++) ratio[i] = ns[0][i] / ns[1][i];
        double[] s0 = ns[0].clone(), s1 = ns[1].clone(); Arrays.sort(s0); Arrays.sort(s1); Arrays.sort(ratio);
        double mb = Double.parseDouble(r[0].toString().split(" ")[0]) / 1e6;
        System.out.printf("%s: A median %.1f CPU MB/s (best %.1f), B median %.1f (best %.1f); A/B time ratio median %.3f [%.3f..%.3f]; findings A %s B %s%n",
            which, mb / (s0[rounds / 2] / 1e9), mb / (s0[0] / 1e9), mb / (s1[rounds / 2] / 1e9), mb / (s1[0] / 1e9),
            ratio[rounds / 2], ratio[0], ratio[rounds - 1], r[0], r[1]);
    }
}
