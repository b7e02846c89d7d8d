package io.meshguard.bench.dlp;

import io.meshguard.dlp.content.BodyTransformer;
import io.meshguard.dlp.content.ByteSink;
import io.meshguard.dlp.content.FindingListener;
import io.meshguard.dlp.content.Transformers;
import io.meshguard.dlp.policy.Direction;
import io.meshguard.dlp.policy.DirectionPolicy;
import io.meshguard.dlp.policy.DlpPolicy;
import io.meshguard.dlp.policy.DlpPolicyParser;
import io.meshguard.dlp.policy.MediaTypes;
import io.meshguard.dlp.scan.ValueHasher;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.Random;

/**
 * Single-thread scan throughput of the shipped policy (policies/dlp.yaml, response direction of the default
 * profile) on four corpora, each next to a reference pass over the same bytes measured just before and just after
 * it (copy each 16 KB chunk and decode it as UTF-8), printed as MB/s and as the ratio to that reference; "CPU MB/s"
 * is the scan per second of its thread's CPU time (less disturbed by other processes than the wall clock). A
 * benchmark, not a test; {@code -Donly=prose|json|pii|pii-distinct|sse|small} runs one corpus, {@code -Dsettle=true}
 * warms each corpus until the JIT is idle ({@link #settle}).
 *
 * <pre>java -cp … io.meshguard.bench.dlp.ScanThroughput [policies/dlp.yaml] [seconds-per-corpus]</pre>
 */
public final class ScanThroughput {
    private ScanThroughput() {}

    public static void main(String[] args) throws Exception {
        Path policyFile = Path.of(args.length > 0 ? args[0] : "policies/dlp.yaml");
        double seconds = args.length > 1 ? Double.parseDouble(args[1]) : 3;
        DlpPolicy policy = DlpPolicyParser.parse(policyFile);
        DirectionPolicy response = policy.select(Direction.RESPONSE, "api.bank", "/accounts", "text/plain")
                .orElseThrow();
        System.out.printf(
                "policy %s, profile %s, %d detectors, %s s per figure, JDK %s, byte searches: %s%n",
                policyFile,
                response.profile(),
                response.rules().rules().size(),
                seconds,
                Runtime.version(),
                io.meshguard.dlp.detect.Simd.describe());
        Corpora c = new Corpora(new Random(1));
        String only = System.getProperty("only", "");
        System.out.printf(
                "%-38s %10s %8s %12s %8s  %s%n",
                "corpus",
                "scan MB/s",
                "CPU MB/s",
                "copy+UTF-8",
                "ratio",
                "findings/pass   (reference before / after, JIT compile ms during the timed scan)");
        if (only.isEmpty() || only.equals("prose")) {
            compare("clean prose (text/plain)", MediaTypes.Kind.TEXT, c.prose(16 << 20), response, seconds);
        }
        if (only.isEmpty() || only.equals("json")) {
            compare("JSON API payloads (application/json)", MediaTypes.Kind.JSON, c.json(16 << 20), response, seconds);
        }
        if (only.isEmpty() || only.equals("pii")) {
            compare("PII-dense text (text/plain)", MediaTypes.Kind.TEXT, c.piiDense(16 << 20), response, seconds);
        }
        if (only.isEmpty() || only.equals("pii-distinct")) {
            compare(
                    "PII-dense, no value twice (text/plain)",
                    MediaTypes.Kind.TEXT,
                    c.piiDenseDistinct(16 << 20),
                    response,
                    seconds);
        }
        if (only.isEmpty() || only.equals("sse")) {
            compare(
                    "LLM SSE stream (text/event-stream)",
                    MediaTypes.Kind.EVENT_STREAM,
                    c.sse(8 << 20),
                    response,
                    seconds);
        }
        if (only.isEmpty() && !Boolean.getBoolean("fingerprint")) {
            baseline(c.prose(16 << 20), seconds);
        }
        if ((only.isEmpty() || only.equals("small")) && !Boolean.getBoolean("fingerprint")) {
            smallBodies(response, seconds);
        }
    }

    /**
     * The cost of one small body, a stream's whole setup included (a scanner with its recognizers, allow-lists and
     * context index, then the scan): what many small API calls cost, where the per-stream setup, not the bytes,
     * dominates.
     */
    static void smallBodies(DirectionPolicy p, double seconds) {
        byte[] body = "{\"note\":\"card 5105 1051 0510 5100, thanks\"}".getBytes(StandardCharsets.UTF_8);
        ValueHasher hasher = ValueHasher.forTenant(new byte[32], "bench");
        long[] sink = new long[1];
        FindingListener l = (f, loc) -> sink[0] += f.valueHmac().length();
        for (int i = 0; i < 50_000; i++) {
            once(MediaTypes.Kind.TEXT, body, p, hasher, body.length, l);
        }
        long streams = 0;
        long start = System.nanoTime();
        while (System.nanoTime() - start < seconds * 1e9) {
            for (int i = 0; i < 1_000; i++) {
                once(MediaTypes.Kind.TEXT, body, p, hasher, body.length, l);
            }
            streams += 1_000;
        }
        double micros = (System.nanoTime() - start) / 1e3 / streams;
        System.out.printf(
                "%-38s %10.2f us per stream (%d-byte body with one finding, setup included)%n",
                "small bodies (text/plain)", micros, body.length);
    }

    /**
     * One corpus: the reference pass, the scan, the reference pass again, so a change in machine load during the
     * measurement shows as two different reference figures. The ratio is against their mean.
     */
    static void compare(String name, MediaTypes.Kind kind, byte[] corpus, DirectionPolicy p, double seconds) {
        if (Boolean.getBoolean("fingerprint")) {
            System.out.printf("%-38s %s%n", name, fingerprint(kind, corpus, p));
            return;
        }
        if (Boolean.getBoolean("settle")) {
            // In a fresh JVM the first reference pass runs ~12 % slow (its loop still compiling, the young
            // generation still growing): unwarmed, it would flatter the ratio of the first corpus run.
            copyAndDecode(corpus, seconds / 2);
        }
        double before = copyAndDecode(corpus, seconds / 2);
        double[] scan = run(kind, corpus, p, seconds);
        double after = copyAndDecode(corpus, seconds / 2);
        double ref = (before + after) / 2;
        System.out.printf(
                "%-38s %10.1f %8.1f %12.1f %8.2f  %d   (reference %.0f / %.0f, JIT %.0f ms)%n",
                name, scan[0], scan[2], ref, scan[0] / ref, (long) scan[1], before, after, scan[3]);
    }

    /**
     * The reference every scan is compared with: what a processor that does nothing but take the body costs, per
     * 16 KB chunk a copy into a buffer and a UTF-8 decode (the JDK's, with its ASCII fast path) of the same bytes.
     */
    static double copyAndDecode(byte[] corpus, double seconds) {
        int chunk = 16 * 1024;
        byte[] copy = new byte[chunk];
        long bytes = 0;
        long chars = 0;
        for (int warm = 0; warm < 2; warm++) {
            for (int i = 0; i < corpus.length; i += chunk) {
                chars += new String(corpus, i, Math.min(chunk, corpus.length - i), StandardCharsets.UTF_8).length();
            }
        }
        long start = System.nanoTime();
        while (System.nanoTime() - start < seconds * 1e9) {
            for (int i = 0; i < corpus.length; i += chunk) {
                int len = Math.min(chunk, corpus.length - i);
                System.arraycopy(corpus, i, copy, 0, len);
                chars += new String(copy, 0, len, StandardCharsets.UTF_8).length();
            }
            bytes += corpus.length;
        }
        double secs = (System.nanoTime() - start) / 1e9;
        if (chars == 42) {
            System.out.println(); // keeps the decode from being optimized away
        }
        return bytes / secs / 1e6;
    }

    /**
     * A second reference loop, kept from earlier runs of this benchmark: one table lookup per byte counting words,
     * and a copy of each 16 KB chunk.
     */
    static void baseline(byte[] corpus, double seconds) {
        boolean[] letter = new boolean[256];
        for (int c = 'a'; c <= 'z'; c++) {
            letter[c] = true;
        }
        long bytes = 0;
        long words = 0;
        byte[] copy = new byte[16 * 1024];
        long start = System.nanoTime();
        while (System.nanoTime() - start < seconds * 1e9) {
            boolean in = false;
            for (int i = 0; i < corpus.length; i++) {
                boolean l = letter[corpus[i] & 0xff];
                if (l && !in) {
                    words++;
                }
                in = l;
                if ((i & 16383) == 0) {
                    System.arraycopy(corpus, i, copy, 0, Math.min(copy.length, corpus.length - i));
                }
            }
            bytes += corpus.length;
        }
        double secs = (System.nanoTime() - start) / 1e9;
        System.out.printf(
                "%-38s %10.1f MB/s  (earlier reference loop on clean prose, %d words)%n",
                "byte-class word count", bytes / secs / 1e6, words);
    }

    /**
     * Scan MB/s (wall clock), findings per pass, scan MB per CPU-second of this thread, and the milliseconds the JIT
     * compilers spent during the timed passes: after another corpus, C2 recompiles the scan's methods for this one's
     * paths while it is timed, on the same cores (a transient a single-corpus run has mostly behind it).
     */
    static double[] run(MediaTypes.Kind kind, byte[] corpus, DirectionPolicy p, double seconds) {
        ValueHasher hasher = ValueHasher.forTenant(new byte[32], "bench");
        int chunk = 16 * 1024;
        long[] findings = new long[1];
        // Reads what the server's audit record reads, so nothing the server computes per finding is skipped.
        FindingListener l = (f, loc) -> findings[0] += f.valueHmac().length() + loc.length() > 0 ? 1 : 0;
        java.lang.management.CompilationMXBean jit = java.lang.management.ManagementFactory.getCompilationMXBean();
        // Warm-up, then timed rounds.
        for (int i = 0; i < 3; i++) {
            once(kind, corpus, p, hasher, chunk, l);
        }
        if (Boolean.getBoolean("settle")) {
            settle(jit, () -> once(kind, corpus, p, hasher, chunk, l));
        }
        findings[0] = 0;
        long bytes = 0;
        long rounds = 0;
        java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
        long jitStart = jit.getTotalCompilationTime();
        long cpuStart = threads.getCurrentThreadCpuTime();
        long start = System.nanoTime();
        while (System.nanoTime() - start < seconds * 1e9) {
            once(kind, corpus, p, hasher, chunk, l);
            bytes += corpus.length;
            rounds++;
        }
        double secs = (System.nanoTime() - start) / 1e9;
        // MB per second of this thread's CPU time: what the scan costs a core, much less disturbed than the wall
        // clock by other processes on a shared machine.
        double cpuSecs = (threads.getCurrentThreadCpuTime() - cpuStart) / 1e9;
        return new double[] {
            bytes / secs / 1e6,
            (double) findings[0] / rounds,
            bytes / cpuSecs / 1e6,
            jit.getTotalCompilationTime() - jitStart
        };
    }

    /**
     * With {@code -Dsettle=true}, more warm-up passes until one ends with the JIT compilers idle: nothing compiling,
     * nothing queued and no compile finished during the pass; at most 60 passes. After another corpus C2 recompiles
     * the scan's largest methods for this one's paths, seconds of compiler time on a 2-core machine, which three
     * warm-up passes do not cover. The compilation MXBean counts a compile's time only once it has finished, so a
     * pass that runs beside a 2-second compile looks idle to it; the compiler queue ({@code jcmd Compiler.queue},
     * read through the diagnostic-command MBean) also shows the compile in progress. The default keeps the three
     * passes, so figures stay comparable with earlier rounds.
     */
    static void settle(java.lang.management.CompilationMXBean jit, Runnable pass) {
        for (int i = 0; i < 60; i++) {
            long compiling = jit.getTotalCompilationTime();
            pass.run();
            if (jit.getTotalCompilationTime() == compiling && compilersIdle()) {
                return;
            }
        }
    }

    /** No compile in progress and both compile queues empty, as {@code jcmd <pid> Compiler.queue} prints them. */
    static boolean compilersIdle() {
        String queue;
        try {
            queue = (String) java.lang.management.ManagementFactory.getPlatformMBeanServer()
                    .invoke(
                            new javax.management.ObjectName("com.sun.management:type=DiagnosticCommand"),
                            "compilerQueue",
                            new Object[] {null},
                            new String[] {String[].class.getName()});
        } catch (javax.management.JMException e) {
            throw new IllegalStateException("the compiler queue cannot be read", e);
        }
        // "Current compiles:" then one line per compiler thread at work; each queue is "Empty" or one line a method.
        String[] lines = queue.strip().split("\\R");
        int busy = 0;
        for (String line : lines) {
            String t = line.strip();
            busy += t.isEmpty() || t.endsWith(":") || t.equals("Empty") ? 0 : 1;
        }
        return busy == 0;
    }

    static void once(
            MediaTypes.Kind kind, byte[] corpus, DirectionPolicy p, ValueHasher h, int chunk, FindingListener l) {
        once(kind, corpus, p, h, chunk, l, drained -> {});
    }

    /** One pass in chunks of {@code chunk} bytes; every drained piece of output goes to {@code output}. */
    static void once(
            MediaTypes.Kind kind,
            byte[] corpus,
            DirectionPolicy p,
            ValueHasher h,
            int chunk,
            FindingListener l,
            java.util.function.Consumer<byte[]> output) {
        ByteSink out = new ByteSink();
        BodyTransformer t = Transformers.forKind(kind, p.rules(), h, out, l);
        for (int i = 0; i < corpus.length; i += chunk) {
            t.write(corpus, i, Math.min(chunk, corpus.length - i));
            output.accept(out.drain());
        }
        t.finish();
        output.accept(out.drain());
    }

    /**
     * SHA-256 of the rewritten output and of every finding (detector, action, offsets, confidence, HMAC, location),
     * scanned in 16 KB chunks: a change meant only to make the scan faster must leave both unchanged
     * ({@code -Dfingerprint=true}).
     */
    static String fingerprint(MediaTypes.Kind kind, byte[] corpus, DirectionPolicy p) {
        try {
            java.security.MessageDigest output = java.security.MessageDigest.getInstance("SHA-256");
            java.security.MessageDigest found = java.security.MessageDigest.getInstance("SHA-256");
            long[] count = new long[1];
            FindingListener l = (f, loc) -> {
                count[0]++;
                String line = f.detector() + " " + f.action() + " " + f.start() + " " + f.end() + " " + f.confidence()
                        + " " + f.valueHmac() + " " + f.chars() + " " + loc + "\n";
                found.update(line.getBytes(StandardCharsets.UTF_8));
            };
            once(kind, corpus, p, ValueHasher.forTenant(new byte[32], "bench"), 16 * 1024, l, output::update);
            return "output " + HexFormat.of().formatHex(output.digest()).substring(0, 16) + "  findings " + count[0]
                    + " " + HexFormat.of().formatHex(found.digest()).substring(0, 16);
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Synthetic corpora; deterministic for a seed. */
    public static final class Corpora {
        private static final String[] WORDS = ("the of and to in is was for that with as on by at from his her "
                        + "account balance transfer customer service request payment statement interest loan branch "
                        + "please thank you regarding your recent inquiry we have reviewed and updated records 고객 "
                        + "계좌 이체 문의 감사합니다 확인 처리 완료 되었습니다")
                .split(" ");
        private final Random r;

        public Corpora(Random r) {
            this.r = r;
        }

        byte[] prose(int size) {
            StringBuilder sb = new StringBuilder(size);
            while (sb.length() < size) {
                sentence(sb);
            }
            return sb.toString().getBytes(StandardCharsets.UTF_8);
        }

        private void sentence(StringBuilder sb) {
            int n = 8 + r.nextInt(12);
            for (int i = 0; i < n; i++) {
                String w = WORDS[r.nextInt(WORDS.length)];
                sb.append(i == 0 ? Character.toUpperCase(w.charAt(0)) + w.substring(1) : w)
                        .append(' ');
            }
            sb.setLength(sb.length() - 1);
            sb.append(r.nextInt(4) == 0 ? ".\n" : ". ");
        }

        public String pii() {
            return switch (r.nextInt(6)) {
                case 0 -> "card 5105 1051 0510 5100";
                case 1 -> "주민등록번호 960121-1021413";
                case 2 -> "mail kim.minsu" + r.nextInt(1000) + "@bank.co.kr";
                case 3 -> "tel 010-" + (1000 + r.nextInt(9000)) + "-" + (1000 + r.nextInt(9000));
                case 4 -> "IBAN DE89 3704 0044 0532 0130 00";
                default -> "key AKIAIOSFODNN7EXAMPLE";
            };
        }

        byte[] piiDense(int size) {
            StringBuilder sb = new StringBuilder(size);
            while (sb.length() < size) {
                int n = 3 + r.nextInt(6);
                for (int i = 0; i < n; i++) {
                    sb.append(WORDS[r.nextInt(WORDS.length)]).append(' ');
                }
                sb.append(pii()).append(r.nextInt(3) == 0 ? ".\n" : ", ");
            }
            return sb.toString().getBytes(StandardCharsets.UTF_8);
        }

        /**
         * As {@link #piiDense}, but no card, resident number, IBAN or key repeats (checksums valid): the PII corpus
         * draws four of its six kinds from one value each, which flatters any per-value cache.
         */
        byte[] piiDenseDistinct(int size) {
            StringBuilder sb = new StringBuilder(size);
            while (sb.length() < size) {
                int n = 3 + r.nextInt(6);
                for (int i = 0; i < n; i++) {
                    sb.append(WORDS[r.nextInt(WORDS.length)]).append(' ');
                }
                sb.append(distinctPii()).append(r.nextInt(3) == 0 ? ".\n" : ", ");
            }
            return sb.toString().getBytes(StandardCharsets.UTF_8);
        }

        private String distinctPii() {
            return switch (r.nextInt(6)) {
                case 0 -> {
                    String card =
                            withLuhnDigit(r.nextBoolean() ? "4" + digits(14) : "5" + (1 + r.nextInt(5)) + digits(13));
                    yield "card " + card.substring(0, 4) + " " + card.substring(4, 8) + " " + card.substring(8, 12)
                            + " " + card.substring(12);
                }
                case 1 -> {
                    String front = String.format("%02d%02d%02d", r.nextInt(100), 1 + r.nextInt(12), 1 + r.nextInt(28));
                    String back = (1 + r.nextInt(4)) + digits(5);
                    yield "주민등록번호 " + front + "-" + back + rrnCheckDigit(front + back);
                }
                case 2 -> "mail kim.minsu" + r.nextInt(1_000_000) + "@bank.co.kr";
                case 3 -> "tel 010-" + (1000 + r.nextInt(9000)) + "-" + (1000 + r.nextInt(9000));
                case 4 -> {
                    String bban = digits(18);
                    String iban = "DE"
                            + String.format(
                                    "%02d",
                                    98
                                            - new java.math.BigInteger(bban + "131400")
                                                    .mod(java.math.BigInteger.valueOf(97))
                                                    .intValue())
                            + bban;
                    yield "IBAN " + iban.replaceAll("(.{4})(?!$)", "$1 ");
                }
                default -> {
                    String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
                    StringBuilder key = new StringBuilder("key AKIA");
                    for (int i = 0; i < 16; i++) {
                        key.append(alphabet.charAt(r.nextInt(alphabet.length())));
                    }
                    yield key.toString();
                }
            };
        }

        private String digits(int n) {
            StringBuilder sb = new StringBuilder(n);
            for (int i = 0; i < n; i++) {
                sb.append((char) ('0' + r.nextInt(10)));
            }
            return sb.toString();
        }

        private static String withLuhnDigit(String payload) {
            int sum = 0;
            for (int i = payload.length() - 1, k = 0; i >= 0; i--, k++) {
                int d = payload.charAt(i) - '0';
                if (k % 2 == 0) {
                    d *= 2;
                    d = d > 9 ? d - 9 : d;
                }
                sum += d;
            }
            return payload + (10 - sum % 10) % 10;
        }

        /** The resident registration number's check digit (weights 2..9, 2..5; mod 11). */
        private static int rrnCheckDigit(String twelve) {
            int[] w = {2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5};
            int sum = 0;
            for (int i = 0; i < 12; i++) {
                sum += (twelve.charAt(i) - '0') * w[i];
            }
            return (11 - sum % 11) % 10;
        }

        byte[] json(int size) {
            StringBuilder sb = new StringBuilder(size);
            sb.append('[');
            int id = 0;
            while (sb.length() < size) {
                sb.append("{\"id\":")
                        .append(id++)
                        .append(",\"status\":\"active\",\"amount\":")
                        .append(r.nextInt(1_000_000))
                        .append(".")
                        .append(r.nextInt(100))
                        .append(",\"currency\":\"KRW\",\"memo\":\"");
                StringBuilder memo = new StringBuilder();
                sentence(memo);
                sb.append(memo.toString().trim().replace("\n", "\\n")).append("\",\"tags\":[\"retail\",\"online\"]");
                if (id % 20 == 0) {
                    sb.append(",\"contact\":\"").append(pii()).append('"');
                }
                sb.append("},");
            }
            sb.append("{}]");
            return sb.toString().getBytes(StandardCharsets.UTF_8);
        }

        byte[] sse(int size) {
            StringBuilder sb = new StringBuilder(size);
            int id = 0;
            while (sb.length() < size) {
                String token = r.nextInt(50) == 0 ? pii() : WORDS[r.nextInt(WORDS.length)];
                sb.append("data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
                                + "\"delta\":{\"content\":\" ")
                        .append(token)
                        .append("\"},\"finish_reason\":null}]}\n\n");
                id++;
            }
            sb.append("data: [DONE]\n\n");
            return sb.toString().getBytes(StandardCharsets.UTF_8);
        }
    }
}
