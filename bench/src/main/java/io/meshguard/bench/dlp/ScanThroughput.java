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
import java.util.Random;

/**
 * Single-thread scan throughput of the shipped policy (policies/dlp.yaml, response direction of the default
 * profile) on three corpora. Prints MB/s; a benchmark, not a test.
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
        System.out.printf("policy %s, profile %s, %d detectors%n", policyFile, response.profile(),
                response.rules().rules().size());
        Corpora c = new Corpora(new Random(1));
        String only = System.getProperty("only", "");
        if (only.equals("pii")) {
            run("PII-dense text (text/plain)", MediaTypes.Kind.TEXT, c.piiDense(16 << 20), response, seconds);
            return;
        }
        if (only.equals("json")) {
            run("JSON API payloads (application/json)", MediaTypes.Kind.JSON, c.json(16 << 20), response, seconds);
            return;
        }
        if (only.equals("sse")) {
            run("LLM SSE stream (text/event-stream)", MediaTypes.Kind.EVENT_STREAM, c.sse(8 << 20), response, seconds);
            return;
        }
        if (only.equals("prose")) {
            run("clean prose (text/plain)", MediaTypes.Kind.TEXT, c.prose(16 << 20), response, seconds);
            return;
        }
        byte[] prose = c.prose(16 << 20);
        baseline(prose, seconds);
        run("clean prose (text/plain)", MediaTypes.Kind.TEXT, prose, response, seconds);
        run("JSON API payloads (application/json)", MediaTypes.Kind.JSON, c.json(16 << 20), response, seconds);
        run("PII-dense text (text/plain)", MediaTypes.Kind.TEXT, c.piiDense(16 << 20), response, seconds);
        run("LLM SSE stream (text/event-stream)", MediaTypes.Kind.EVENT_STREAM, c.sse(8 << 20), response, seconds);
    }

    /**
     * A reference loop in the same run: one table lookup per byte counting words, and a copy of each 16 KB chunk.
     * Shared machines are noisy; compare the scan against this rather than against absolute figures.
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
        System.out.printf("%-40s %8.1f MB/s  (reference loop, %d words)%n", "baseline: byte-class word count",
                bytes / secs / 1e6, words);
    }

    static void run(String name, MediaTypes.Kind kind, byte[] corpus, DirectionPolicy p, double seconds) {
        ValueHasher hasher = ValueHasher.forTenant(new byte[32], "bench");
        int chunk = 16 * 1024;
        long[] findings = new long[1];
        FindingListener l = (f, loc) -> findings[0]++;
        // Warm-up, then timed rounds.
        for (int i = 0; i < 3; i++) {
            once(kind, corpus, p, hasher, chunk, l);
        }
        findings[0] = 0;
        long bytes = 0;
        long rounds = 0;
        long start = System.nanoTime();
        while (System.nanoTime() - start < seconds * 1e9) {
            once(kind, corpus, p, hasher, chunk, l);
            bytes += corpus.length;
            rounds++;
        }
        double secs = (System.nanoTime() - start) / 1e9;
        System.out.printf("%-40s %8.1f MB/s  (%d MB scanned, %d findings per pass)%n", name,
                bytes / secs / 1e6, bytes >> 20, findings[0] / rounds);
    }

    static void once(MediaTypes.Kind kind, byte[] corpus, DirectionPolicy p, ValueHasher h, int chunk,
            FindingListener l) {
        ByteSink out = new ByteSink();
        BodyTransformer t = Transformers.forKind(kind, p.rules(), h, out, l);
        for (int i = 0; i < corpus.length; i += chunk) {
            t.write(corpus, i, Math.min(chunk, corpus.length - i));
            out.drain();
        }
        t.finish();
        out.drain();
    }

    /** Synthetic corpora; deterministic for a seed. */
    public static final class Corpora {
        private static final String[] WORDS = ("the of and to in is was for that with as on by at from his her "
                + "account balance transfer customer service request payment statement interest loan branch "
                + "please thank you regarding your recent inquiry we have reviewed and updated records 고객 "
                + "계좌 이체 문의 감사합니다 확인 처리 완료 되었습니다").split(" ");
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
                sb.append(i == 0 ? Character.toUpperCase(w.charAt(0)) + w.substring(1) : w).append(' ');
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

        byte[] json(int size) {
            StringBuilder sb = new StringBuilder(size);
            sb.append('[');
            int id = 0;
            while (sb.length() < size) {
                sb.append("{\"id\":").append(id++).append(",\"status\":\"active\",\"amount\":")
                        .append(r.nextInt(1_000_000)).append(".").append(r.nextInt(100))
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
                        + "\"delta\":{\"content\":\" ").append(token).append("\"},\"finish_reason\":null}]}\n\n");
                id++;
            }
            sb.append("data: [DONE]\n\n");
            return sb.toString().getBytes(StandardCharsets.UTF_8);
        }
    }
}
