package io.meshguard.dlp.scan;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The context words of every rule of a scan, compiled once: each distinct word (lower-cased UTF-8) with, per rule,
 * whether it boosts or lowers that rule's findings. A 64 Ki-bit table of the words' hashed first three bytes (first
 * two for shorter words) rejects almost every text position with one probe, so finding every word occurrence in
 * the text costs about one probe per byte ({@link ContextIndex}).
 */
final class ContextWords {
    static final int BOOST = 1;
    static final int PENALTY = 2;

    final byte[][] words;
    final boolean[] ascii;
    /** {@code kinds[rule][word]}: 0, BOOST, PENALTY or both. */
    final byte[][] kinds;
    /** Per rule, its words that contain a space: only those can span the gap left by the value in a window. */
    final int[][] spaced;
    /** Per rule: the flags it looks for (0 when it has no context words). */
    final int[] wanted;
    final int[][] byFirst = new int[256][];
    /** Words of three bytes or more by the top 12 bits of their hash; shorter words by their first byte. */
    private final int[][] byHash = new int[1 << 12][];
    private final int[][] shortByFirst = new int[256][];
    final int maxLen;
    /**
     * Whether every word starts with an ASCII letter or a UTF-8 lead byte, and every word starting with an ASCII
     * letter is ASCII at both ends. Then an occurrence that starts right after an ASCII letter can only count when it
     * starts a window exactly (it touches a letter otherwise), so the index may skip such positions and the lookup
     * tries the window's first position itself.
     */
    final boolean wordStartsOnly;
    /** Hashed first three bytes of the words of three bytes or more (see {@link #hash}). */
    final long[] triples = new long[1 << 10];
    /** First two bytes of the words shorter than three bytes, every second byte for one-byte words. */
    final long[] pairs = new long[1 << 10];
    /** First two bytes (lower-cased) of every word, every second byte for one-byte words: the first probe. */
    final long[] starts = new long[1 << 10];

    ContextWords(List<ContextRule> rules) {
        Map<String, Integer> ids = new LinkedHashMap<>();
        List<byte[]> list = new ArrayList<>();
        for (ContextRule r : rules) {
            for (List<String> ws : List.of(r.boostWords(), r.penaltyWords())) {
                for (String w : ws) {
                    byte[] b = w.toLowerCase(Locale.ROOT).getBytes(StandardCharsets.UTF_8);
                    String key = new String(b, StandardCharsets.ISO_8859_1);
                    if (b.length > 0 && !ids.containsKey(key)) {
                        ids.put(key, list.size());
                        list.add(b);
                    }
                }
            }
        }
        words = list.toArray(byte[][]::new);
        ascii = new boolean[words.length];
        kinds = new byte[rules.size()][words.length];
        spaced = new int[rules.size()][];
        wanted = new int[rules.size()];
        int max = 0;
        List<List<Integer>> first = new ArrayList<>();
        List<List<Integer>> shortFirst = new ArrayList<>();
        for (int c = 0; c < 256; c++) {
            first.add(new ArrayList<>());
            shortFirst.add(new ArrayList<>());
        }
        Map<Integer, List<Integer>> hashed = new java.util.HashMap<>();
        for (int w = 0; w < words.length; w++) {
            byte[] b = words[w];
            ascii[w] = b[0] >= 0 && b[b.length - 1] >= 0;
            max = Math.max(max, b.length);
            first.get(b[0] & 0xff).add(w);
            for (int x = 0; x < 256; x++) {
                if (b.length == 1 || x == (b[1] & 0xff)) {
                    int key = (b[0] & 0xff) << 8 | x;
                    starts[key >>> 6] |= 1L << key;
                }
            }
            if (b.length >= 3) {
                int h = hash((b[0] & 0xff) << 16 | (b[1] & 0xff) << 8 | (b[2] & 0xff));
                triples[h >>> 6] |= 1L << h;
                hashed.computeIfAbsent(h >>> 4, k -> new ArrayList<>()).add(w);
            } else {
                shortFirst.get(b[0] & 0xff).add(w);
                for (int x = 0; x < 256; x++) {
                    if (b.length == 1 || x == (b[1] & 0xff)) {
                        int key = (b[0] & 0xff) << 8 | x;
                        pairs[key >>> 6] |= 1L << key;
                    }
                }
            }
        }
        for (int c = 0; c < 256; c++) {
            if (!first.get(c).isEmpty()) {
                byFirst[c] = first.get(c).stream().mapToInt(Integer::intValue).toArray();
            }
            if (!shortFirst.get(c).isEmpty()) {
                shortByFirst[c] = shortFirst.get(c).stream().mapToInt(Integer::intValue).toArray();
            }
        }
        hashed.forEach((bucket, inBucket) -> byHash[bucket] = inBucket.stream().mapToInt(Integer::intValue).toArray());
        maxLen = max;
        boolean startsOnly = true;
        for (int w = 0; w < words.length; w++) {
            int c = words[w][0] & 0xff;
            boolean asciiLetter = c >= 'a' && c <= 'z';
            boolean lead = c >= 0xC0;
            startsOnly &= (asciiLetter && ascii[w]) || lead;
        }
        wordStartsOnly = startsOnly;
        for (int r = 0; r < rules.size(); r++) {
            ContextRule rule = rules.get(r);
            List<Integer> withSpace = new ArrayList<>();
            mark(r, rule.boostWords(), BOOST, ids, withSpace);
            mark(r, rule.penaltyWords(), PENALTY, ids, withSpace);
            spaced[r] = withSpace.stream().distinct().mapToInt(Integer::intValue).toArray();
            wanted[r] = (rule.boostWords().isEmpty() ? 0 : BOOST) | (rule.penaltyWords().isEmpty() ? 0 : PENALTY);
        }
    }

    private void mark(int rule, List<String> ws, int kind, Map<String, Integer> ids, List<Integer> withSpace) {
        for (String w : ws) {
            byte[] b = w.toLowerCase(Locale.ROOT).getBytes(StandardCharsets.UTF_8);
            Integer id = ids.get(new String(b, StandardCharsets.ISO_8859_1));
            if (id == null) {
                continue;
            }
            kinds[rule][id] |= (byte) kind;
            for (byte x : b) {
                if (x == ' ') {
                    withSpace.add(id);
                    break;
                }
            }
        }
    }

    static int hash(int threeBytes) {
        return threeBytes * 0x9E3779B1 >>> 16;
    }

    /** Words of three bytes or more that may start with the lower-cased bytes {@code x}, or null. */
    int[] longCandidates(int x) {
        int h = hash(x);
        return (triples[h >>> 6] & 1L << h) == 0 ? null : byHash[h >>> 4];
    }

    /** Words shorter than three bytes starting with lower-cased byte {@code c} and possibly {@code d}, or null. */
    int[] shortCandidates(int c, int d) {
        if (shortByFirst[c] == null) {
            return null;
        }
        int key = c << 8 | d;
        return (pairs[key >>> 6] & 1L << key) == 0 ? null : shortByFirst[c];
    }

    boolean isEmpty() {
        return words.length == 0;
    }
}
