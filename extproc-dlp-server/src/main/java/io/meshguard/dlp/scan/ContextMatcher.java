package io.meshguard.dlp.scan;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A {@link ContextRule} compiled for the scan: boost and penalty words searched in one pass over a lower-cased
 * context window. A 64 Ki-bit table of the words' hashed first three bytes (first two for shorter words) rejects
 * almost every window position with one probe, so scoring a finding costs about one probe per context byte; the
 * last two positions of a window, where no three bytes remain, are always checked in full.
 */
final class ContextMatcher {
    private static final int BOOST = 1;
    private static final int PENALTY = 2;

    private final ContextRule rule;
    private final int wanted;
    /** First two bytes of words shorter than three bytes. */
    private final long[] pairs = new long[1 << 10];
    /** Hashed first three bytes of the other words. */
    private final long[] triples = new long[1 << 10];
    private boolean shortWords;
    private final byte[][][] byFirst = new byte[256][][];
    private final int[][] kindByFirst = new int[256][];

    ContextMatcher(ContextRule rule) {
        this.rule = rule;
        List<List<byte[]>> words = new ArrayList<>();
        List<List<Integer>> kinds = new ArrayList<>();
        for (int k = 0; k < 256; k++) {
            words.add(new ArrayList<>());
            kinds.add(new ArrayList<>());
        }
        add(rule.boostWords(), BOOST, words, kinds);
        add(rule.penaltyWords(), PENALTY, words, kinds);
        for (int k = 0; k < 256; k++) {
            if (!words.get(k).isEmpty()) {
                byFirst[k] = words.get(k).toArray(byte[][]::new);
                kindByFirst[k] = kinds.get(k).stream().mapToInt(Integer::intValue).toArray();
            }
        }
        wanted = (rule.boostWords().isEmpty() ? 0 : BOOST) | (rule.penaltyWords().isEmpty() ? 0 : PENALTY);
    }

    private void add(List<String> list, int kind, List<List<byte[]>> words, List<List<Integer>> kinds) {
        for (String w : list) {
            byte[] b = w.toLowerCase(Locale.ROOT).getBytes(StandardCharsets.UTF_8);
            if (b.length == 0) {
                continue;
            }
            int first = b[0] & 0xff;
            words.get(first).add(b);
            kinds.get(first).add(kind);
            if (b.length >= 3) {
                int h = triple(b[0], b[1], b[2]);
                triples[h >>> 6] |= 1L << h;
                continue;
            }
            shortWords = true;
            if (b.length == 1) {
                for (int x = 0; x < 256; x++) {
                    setPair(first << 8 | x);
                }
            } else {
                setPair(first << 8 | (b[1] & 0xff));
            }
        }
    }

    /** A 16-bit hash of three bytes. */
    private static int triple(byte a, byte b, byte c) {
        return ((a & 0xff) << 16 | (b & 0xff) << 8 | (c & 0xff)) * 0x9E3779B1 >>> 16;
    }

    private void setPair(int key) {
        pairs[key >>> 6] |= 1L << key;
    }

    boolean isEmpty() {
        return wanted == 0;
    }

    /** Confidence change for a lower-cased context window, the same as {@link ContextRule#adjust}. */
    double adjust(byte[] w, int len) {
        int found = 0;
        int x = len < 2 ? 0 : (w[0] & 0xff) << 8 | (w[1] & 0xff); // the three bytes at i, rolled along
        for (int i = 0; i < len && found != wanted; i++) {
            if (i + 2 < len) {
                x = (x << 8 | (w[i + 2] & 0xff)) & 0xffffff;
                int h = x * 0x9E3779B1 >>> 16;
                boolean maybe = (triples[h >>> 6] & 1L << h) != 0;
                if (!maybe && shortWords) {
                    int key = x >>> 8;
                    maybe = (pairs[key >>> 6] & 1L << key) != 0;
                }
                if (!maybe) {
                    continue;
                }
            }
            byte[][] candidates = byFirst[w[i] & 0xff];
            if (candidates == null) {
                continue;
            }
            int[] kinds = kindByFirst[w[i] & 0xff];
            outer:
            for (int c = 0; c < candidates.length; c++) {
                byte[] needle = candidates[c];
                if ((found & kinds[c]) != 0 || i + needle.length > len) {
                    continue;
                }
                for (int k = 1; k < needle.length; k++) {
                    if (w[i + k] != needle[k]) {
                        continue outer;
                    }
                }
                boolean ascii = needle[0] >= 0 && needle[needle.length - 1] >= 0;
                if (ascii && ((i > 0 && letter(w[i - 1]))
                        || (i + needle.length < len && letter(w[i + needle.length])))) {
                    continue;
                }
                found |= kinds[c];
            }
        }
        double delta = 0;
        if ((found & BOOST) != 0) {
            delta += rule.boost();
        }
        if ((found & PENALTY) != 0) {
            delta -= rule.penalty();
        }
        return delta;
    }

    private static boolean letter(byte b) {
        return b >= 'a' && b <= 'z';
    }
}
