package io.meshguard.dlp.scan;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The context words of every rule of a scan, compiled once: each distinct word (lower-cased UTF-8) with, per rule,
 * whether it boosts or lowers that rule's findings. Tables of the words' first bytes (hashed first four bytes, three
 * for three-byte words, the first two for shorter words) reject almost every text position, so finding every word
 * occurrence in the text costs about one probe per word start ({@link ContextIndex}).
 */
final class ContextWords {
    static final int BOOST = 1;
    static final int PENALTY = 2;

    final byte[][] words;
    /** Each word read as {@link KeyContext#words} reads a key ({@code api_key} as {@code api key}). */
    private final byte[][] keyForms;

    final boolean[] ascii;
    /** {@code kinds[rule][word]}: 0, BOOST, PENALTY or both. */
    final byte[][] kinds;
    /** Per rule, its words that contain a space: only those can span the gap left by the value in a window. */
    final int[][] spaced;
    /** Per rule: the flags it looks for (0 when it has no context words). */
    final int[] wanted;
    /**
     * Per rule, its boost words that hold no line or structure break and no comma: one of them ending right before a
     * value, only spaces between, has no cut between it and the value ({@code StreamScanner#boostWordJustBefore}).
     */
    final int[][] uncutBoostWords;
    /**
     * Per rule, the last two bytes of its {@link #uncutBoostWords} by their low five bits ({@link #mayEndUncutBoost}):
     * a bit set of 1,024 per rule. Before most values of dense text no boost word ends ("is 4111…", "to kim@…"), and
     * without it each of the rule's words was compared there.
     */
    private final long[][] uncutBoostEnds;
    /**
     * Per rule, the first two bytes (as {@link #starts} holds them) of its boost and penalty words: no window of the
     * rule holds one of its words unless one of these pairs is in it ({@link #noneIn}). Null for a rule with no words,
     * or with a word starting with a space (which the gap the value leaves in the window could start).
     */
    private final long[][] rulePairs;
    /**
     * Per rule, its words' distinct first two bytes (first byte low) when they are few ({@link #FEW_PAIRS}) and no
     * word is one byte long, else null: {@link #noneIn} then tests eight positions a step against each pair
     * ({@code aws}, {@code access}: two pairs), without a table probe per byte.
     */
    private final int[][] fewPairs;
    /**
     * Per rule with {@link #fewPairs} and no word holding a space, its words' {@link #heads} and {@link #headMasks}
     * (the same index in both), else null: where the eight-position step finds one of the pairs, the four bytes there
     * are compared with the heads before the window counts as holding a word ({@code account} holds {@code ac} but
     * is not {@code access}: without this, one window in five of the AWS key's in dense text was cut and indexed).
     */
    private final int[][] fewHeads;

    private final int[][] fewHeadMasks;
    /** The most pairs {@link #fewPairs} holds: each costs a few operations per eight bytes. */
    private static final int FEW_PAIRS = 4;

    final int[][] byFirst = new int[256][];
    /** Words of four bytes or more by the top 12 bits of the hash of their first four bytes. */
    private final int[][] byQuad = new int[1 << 12][];
    /** Words of exactly three bytes by the top 12 bits of their hash. */
    private final int[][] byTriple = new int[1 << 12][];
    /** Words shorter than three bytes by their first byte. */
    private final int[][] shortByFirst = new int[256][];
    /**
     * Each word's first four bytes (all of a shorter word), lower-cased, packed as {@link #key} packs text: the
     * whole comparison for words of up to four bytes, the first step for longer ones.
     */
    final int[] heads;
    /** Which bytes of {@link #heads} a word has: -1 for four bytes or more, 0xFFFFFF for three, and so on. */
    final int[] headMasks;
    /**
     * Each word's bytes after the first four, eight at a time as little-endian longs, three longs a step: the bytes
     * (zero past the word's end), the case bits to set in the text ({@code 0x20} where the word has a lower-case
     * ASCII letter, so that the text's upper case letter compares equal and nothing else does) and the bytes that
     * belong to the word ({@code 0xFF}). At least one step, all zero for words of up to four bytes: every word up to
     * twelve bytes then takes exactly one step.
     */
    final long[][] tails;
    /** Per word, nine longs from {@code 9 * w}: {@link #endsAtInSteps}' three steps ({@link #suffix}). */
    private final long[] suffixes;

    final int maxLen;
    /**
     * Whether every word starts with an ASCII letter or a UTF-8 lead byte, and every word starting with an ASCII
     * letter is ASCII at both ends. Then an occurrence that starts right after an ASCII letter can only count when it
     * starts a window exactly (it touches a letter otherwise), so the index may skip such positions and the lookup
     * tries the window's first position itself.
     */
    final boolean wordStartsOnly;
    /**
     * Hashed first four bytes of the words of four bytes or more (see {@link #hash}). Four bytes rather than three:
     * in prose many words share their first three bytes with a context word ("access" and "account", "for" and
     * "foreigner", a Korean syllable starting several words), and each such start would be verified for nothing.
     */
    private final long[] quads = new long[1 << 10];
    /** Hashed three bytes of the words of exactly three bytes. */
    private final long[] triples = new long[1 << 10];
    /**
     * First two bytes (as {@link #key} packs them) of the words shorter than three bytes, any second byte for
     * one-byte words.
     */
    private final long[] pairs = new long[1 << 10];
    /** First two bytes (lower-cased, first byte high) of every word, any second byte for one-byte words. */
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
        keyForms = new byte[words.length][];
        for (int w = 0; w < words.length; w++) {
            keyForms[w] = KeyContext.words(new String(words[w], StandardCharsets.UTF_8));
        }
        ascii = new boolean[words.length];
        kinds = new byte[rules.size()][words.length];
        spaced = new int[rules.size()][];
        wanted = new int[rules.size()];
        uncutBoostWords = new int[rules.size()][];
        uncutBoostEnds = new long[rules.size()][];
        rulePairs = new long[rules.size()][];
        fewPairs = new int[rules.size()][];
        fewHeads = new int[rules.size()][];
        fewHeadMasks = new int[rules.size()][];
        int max = 0;
        List<List<Integer>> first = new ArrayList<>();
        List<List<Integer>> shortFirst = new ArrayList<>();
        for (int c = 0; c < 256; c++) {
            first.add(new ArrayList<>());
            shortFirst.add(new ArrayList<>());
        }
        Map<Integer, List<Integer>> byQuadHash = new java.util.HashMap<>();
        Map<Integer, List<Integer>> byTripleHash = new java.util.HashMap<>();
        heads = new int[words.length];
        headMasks = new int[words.length];
        tails = new long[words.length][];
        suffixes = new long[9 * words.length];
        for (int w = 0; w < words.length; w++) {
            byte[] b = words[w];
            suffix(b, suffixes, 9 * w);
            ascii[w] = b[0] >= 0 && b[b.length - 1] >= 0;
            max = Math.max(max, b.length);
            first.get(b[0] & 0xff).add(w);
            for (int k = 0; k < Math.min(4, b.length); k++) {
                heads[w] |= (b[k] & 0xff) << (8 * k);
            }
            headMasks[w] = b.length >= 4 ? -1 : (1 << (8 * b.length)) - 1;
            tails[w] = tail(b);
            addFirstPair(starts, b);
            if (b.length >= 4) {
                int h = hash(heads[w]);
                quads[h >>> 6] |= 1L << h;
                byQuadHash.computeIfAbsent(h >>> 4, k -> new ArrayList<>()).add(w);
            } else if (b.length == 3) {
                int h = hash(heads[w]);
                triples[h >>> 6] |= 1L << h;
                byTripleHash.computeIfAbsent(h >>> 4, k -> new ArrayList<>()).add(w);
            } else {
                shortFirst.get(b[0] & 0xff).add(w);
                for (int x = 0; x < 256; x++) {
                    if (b.length == 1 || x == (b[1] & 0xff)) {
                        int pair = x << 8 | (b[0] & 0xff);
                        pairs[pair >>> 6] |= 1L << pair;
                    }
                }
            }
        }
        for (int c = 0; c < 256; c++) {
            if (!first.get(c).isEmpty()) {
                byFirst[c] = first.get(c).stream().mapToInt(Integer::intValue).toArray();
            }
            if (!shortFirst.get(c).isEmpty()) {
                shortByFirst[c] =
                        shortFirst.get(c).stream().mapToInt(Integer::intValue).toArray();
            }
        }
        byQuadHash.forEach((bucket, in) ->
                byQuad[bucket] = in.stream().mapToInt(Integer::intValue).toArray());
        byTripleHash.forEach((bucket, in) ->
                byTriple[bucket] = in.stream().mapToInt(Integer::intValue).toArray());
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
            spaced[r] =
                    withSpace.stream().distinct().mapToInt(Integer::intValue).toArray();
            wanted[r] = (rule.boostWords().isEmpty() ? 0 : BOOST)
                    | (rule.penaltyWords().isEmpty() ? 0 : PENALTY);
            byte[] k = kinds[r];
            rulePairs[r] = pairsOf(k);
            fewPairs[r] = rulePairs[r] == null ? null : fewPairsOf(k);
            if (fewPairs[r] != null && spaced[r].length == 0) {
                int[] ws = java.util.stream.IntStream.range(0, words.length)
                        .filter(w -> k[w] != 0)
                        .toArray();
                fewHeads[r] = java.util.Arrays.stream(ws).map(w -> heads[w]).toArray();
                fewHeadMasks[r] =
                        java.util.Arrays.stream(ws).map(w -> headMasks[w]).toArray();
            }
            uncutBoostWords[r] = java.util.stream.IntStream.range(0, words.length)
                    .filter(w -> (k[w] & BOOST) != 0 && uncut(words[w]))
                    .toArray();
            uncutBoostEnds[r] = endsOf(uncutBoostWords[r]);
        }
    }

    /** {@link #uncutBoostEnds} of words {@code ws}. */
    private long[] endsOf(int[] ws) {
        long[] ends = new long[1024 / 64];
        for (int w : ws) {
            byte[] b = words[w];
            for (int x = 0; x < 32; x++) {
                // A one-byte word ends with any byte before it.
                int key = (b.length == 1 ? x : b[b.length - 2] & 31) << 5 | (b[b.length - 1] & 31);
                ends[key >>> 6] |= 1L << key;
            }
        }
        return ends;
    }

    /**
     * False when none of rule {@code rule}'s {@link #uncutBoostWords} ends with bytes {@code x} then {@code y}, in
     * either case ({@link #endsAt}, {@link #endsAtInSteps}): those compare an ASCII letter with its lower case and
     * every other byte as it is, so the low five bits of the text's byte and the word's are equal in both. True
     * when one may.
     */
    boolean mayEndUncutBoost(int rule, byte x, byte y) {
        int key = (x & 31) << 5 | (y & 31);
        return (uncutBoostEnds[rule][key >>> 6] & 1L << key) != 0;
    }

    /** Whether {@code word} holds no byte that cuts a context window ({@link StreamScanner#breaks}) and no comma. */
    private static boolean uncut(byte[] word) {
        for (byte x : word) {
            if (WindowEdges.breaks(x) || x == ',') {
                return false;
            }
        }
        return true;
    }

    /** {@link #rulePairs} of the words {@code kinds} marks. */
    private long[] pairsOf(byte[] kinds) {
        long[] pairs = new long[1 << 10];
        boolean any = false;
        for (int w = 0; w < words.length; w++) {
            if (kinds[w] == 0) {
                continue;
            }
            byte[] b = words[w];
            if (b[0] == ' ') {
                return null;
            }
            any = true;
            addFirstPair(pairs, b);
        }
        return any ? pairs : null;
    }

    /** {@link #fewPairs} of the words {@code kinds} marks, or null. */
    private int[] fewPairsOf(byte[] kinds) {
        List<Integer> pairs = new ArrayList<>();
        for (int w = 0; w < words.length; w++) {
            if (kinds[w] == 0) {
                continue;
            }
            if (words[w].length < 2) {
                return null;
            }
            int pair = (words[w][0] & 0xff) | (words[w][1] & 0xff) << 8;
            if (!pairs.contains(pair)) {
                pairs.add(pair);
            }
        }
        return pairs.size() <= FEW_PAIRS
                ? pairs.stream().mapToInt(Integer::intValue).toArray()
                : null;
    }

    /** Sets in {@code table} the first two bytes of {@code word} (first byte high), every second byte for one byte. */
    private static void addFirstPair(long[] table, byte[] word) {
        for (int x = 0; x < 256; x++) {
            if (word.length == 1 || x == (word[1] & 0xff)) {
                int key = (word[0] & 0xff) << 8 | x;
                table[key >>> 6] |= 1L << key;
            }
        }
    }

    /**
     * True when none of rule {@code rule}'s words can be in the window {@code b[before, s) + " " + b[e, after)} that
     * {@link ContextIndex#found} searches (lower-cased): no two bytes of it are the first two of one of the words (a
     * word with a space may run from the first part across the space standing for the value; the pair at
     * {@code s - 1} is read with that space). Then the window gives neither BOOST nor PENALTY, and need not be indexed;
     * nor does any narrower window {@code [before', s) + " " + [e, after')}, {@code before <= before'} and
     * {@code after' <= after}: its text is part of this one's, so its words' first two bytes would be here (a one-byte
     * word's pairs hold every second byte, the space after {@code after - 1} included). For a rule with few pairs and
     * no word holding a space, a pair counts only where the four bytes there may start one of the words
     * ({@link #headAt}): a word of the narrower window starts at a pair of this one with its head. False when it
     * cannot tell.
     */
    boolean noneIn(int rule, byte[] b, int before, int s, int e, int after) {
        long[] pairs = rulePairs[rule];
        if (pairs == null) {
            return false;
        }
        int[] few = fewPairs[rule];
        if (few != null) {
            int[] heads = fewHeads[rule];
            int[] masks = fewHeadMasks[rule];
            return !anyPair(few, pairs, heads, masks, b, before, s) && !anyPair(few, pairs, heads, masks, b, e, after);
        }
        return !anyPair(pairs, b, before, s) && !anyPair(pairs, b, e, after);
    }

    /** {@link #noneIn}'s pair test one table probe per byte, no head compared: the tests' second opinion. */
    boolean noneInByBytes(int rule, byte[] b, int before, int s, int e, int after) {
        long[] pairs = rulePairs[rule];
        return pairs != null && !anyPair(pairs, b, before, s) && !anyPair(pairs, b, e, after);
    }

    /**
     * {@link #anyPair(long[], byte[], int, int)} eight positions a step while each has its next byte in the part,
     * each position tested against every one of {@code few} (the same pairs as {@code pairs}); the rest, with the
     * last byte read with a space, by the table.
     */
    private static boolean anyPair(int[] few, long[] pairs, int[] heads, int[] masks, byte[] b, int from, int to) {
        int k = from;
        for (; k + 9 <= to; k += 8) {
            long x = lower((long) LONGS.get(b, k));
            long y = lower((long) LONGS.get(b, k + 1));
            long hit = 0;
            for (int pair : few) {
                hit |= WindowEdges.zeros(x ^ ONES * (pair & 0xff)) & WindowEdges.zeros(y ^ ONES * (pair >>> 8));
            }
            for (; hit != 0; hit &= hit - 1) {
                if (heads == null || headAt(heads, masks, b, k + (Long.numberOfTrailingZeros(hit) >>> 3), to)) {
                    return true;
                }
            }
        }
        return anyPair(pairs, heads, masks, b, k, to);
    }

    /**
     * Whether one of the words whose {@link #heads} and {@link #headMasks} these are may start at {@code p} of the
     * part ending at {@code to}, the words holding no space: such a word lies in one part of a window, its bytes the
     * text's, so its first four bytes (all of a shorter word) are the text's at {@code p}, lower-cased. True too where
     * fewer than four bytes of the part are left (a word there would run past the part: left to the index).
     */
    private static boolean headAt(int[] heads, int[] masks, byte[] b, int p, int to) {
        if (to - p < 4) {
            return true;
        }
        int x = key((int) INTS.get(b, p));
        for (int w = 0; w < heads.length; w++) {
            if ((x & masks[w]) == heads[w]) {
                return true;
            }
        }
        return false;
    }

    private static final java.lang.invoke.VarHandle LONGS =
            java.lang.invoke.MethodHandles.byteArrayViewVarHandle(long[].class, java.nio.ByteOrder.LITTLE_ENDIAN);
    private static final java.lang.invoke.VarHandle INTS =
            java.lang.invoke.MethodHandles.byteArrayViewVarHandle(int[].class, java.nio.ByteOrder.LITTLE_ENDIAN);
    private static final long ONES = 0x0101010101010101L;
    private static final long LOW7 = 0x7F7F7F7F7F7F7F7FL;
    private static final long HIGHS = 0x8080808080808080L;

    /** Eight bytes with ASCII upper case moved to lower case, as {@link #key} does four. */
    static long lower(long eightBytes) {
        long v = eightBytes & LOW7;
        long atLeastA = v + ONES * 0x3F;
        long pastZ = v + ONES * 0x25;
        long upper = atLeastA & ~pastZ & ~eightBytes & HIGHS;
        return eightBytes | upper >>> 2;
    }

    /**
     * Whether a position in {@code [from, to)} starts one of {@code pairs}, the byte after {@code to - 1} read as a
     * space (a word of two bytes or more starting there would run past the part; a one-byte word's pairs hold every
     * second byte).
     */
    private static boolean anyPair(long[] pairs, byte[] b, int from, int to) {
        return anyPair(pairs, null, null, b, from, to);
    }

    /**
     * {@link #anyPair(long[], byte[], int, int)}, a pair found counting only where {@link #headAt} says a word may
     * start there when {@code heads} is not null.
     */
    private static boolean anyPair(long[] pairs, int[] heads, int[] masks, byte[] b, int from, int to) {
        if (from >= to) {
            return false;
        }
        int first = ContextIndex.lower(b[from]);
        for (int k = from + 1; k < to; k++) {
            int second = ContextIndex.lower(b[k]);
            int pair = first << 8 | second;
            if ((pairs[pair >>> 6] & 1L << pair) != 0 && (heads == null || headAt(heads, masks, b, k - 1, to))) {
                return true;
            }
            first = second;
        }
        int last = first << 8 | ' ';
        return (pairs[last >>> 6] & 1L << last) != 0;
    }

    /**
     * {@link #endsAt} in three masked compares of eight bytes, the same work for every word of up to 24 bytes (the
     * byte loop's exit, at a different count for each kind of value, was mispredicted from one finding to the next);
     * the byte loop for longer words and within 24 bytes of the array's start.
     */
    boolean endsAtInSteps(int w, byte[] b, int end) {
        int at = 9 * w;
        if (end < 24 || words[w].length > 24) {
            return endsAt(w, b, end);
        }
        long d0 = ((long) LONGS.get(b, end - 8) | suffixes[at + 1]) & suffixes[at + 2] ^ suffixes[at];
        long d1 = ((long) LONGS.get(b, end - 16) | suffixes[at + 4]) & suffixes[at + 5] ^ suffixes[at + 3];
        long d2 = ((long) LONGS.get(b, end - 24) | suffixes[at + 7]) & suffixes[at + 8] ^ suffixes[at + 6];
        return (d0 | d1 | d2) == 0;
    }

    /**
     * {@link #suffixes} of lower-cased word {@code b}: per eight bytes from its end (the last eight first), the bytes,
     * the case bits to set in the text (0x20 where the word has a lower-case ASCII letter) and the bytes that belong
     * to the word (0xFF); all zero for a word longer than 24 bytes.
     */
    private static void suffix(byte[] b, long[] out, int at) {
        if (b.length > 24) {
            return;
        }
        for (int k = 0; k < b.length; k++) {
            int fromEnd = b.length - 1 - k; // 0 for the last byte
            int step = fromEnd / 8;
            int shift = 8 * (7 - fromEnd % 8);
            out[at + 3 * step] |= (b[k] & 0xffL) << shift;
            out[at + 3 * step + 1] |= (b[k] >= 'a' && b[k] <= 'z' ? 0x20L : 0) << shift;
            out[at + 3 * step + 2] |= 0xffL << shift;
        }
    }

    /** Whether word {@code w} ends at buffer index {@code end} of {@code b} (ASCII letters in either case). */
    boolean endsAt(int w, byte[] b, int end) {
        byte[] word = words[w];
        int p = end - word.length;
        if (p < 0) {
            return false;
        }
        for (int k = word.length - 1; k >= 0; k--) { // from the end: the byte against the value differs first
            int c = b[p + k] & 0xff;
            if ((c >= 'A' && c <= 'Z' ? c + 32 : c) != (word[k] & 0xff)) {
                return false;
            }
        }
        return true;
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

    /** {@link #tails} of lower-cased word {@code b}. */
    private static long[] tail(byte[] b) {
        int steps = Math.max(1, (b.length - 4 + 7) / 8);
        long[] t = new long[3 * steps];
        for (int k = 4; k < b.length; k++) {
            int step = (k - 4) / 8;
            int shift = 8 * ((k - 4) % 8);
            t[3 * step] |= (b[k] & 0xffL) << shift;
            t[3 * step + 1] |= (b[k] >= 'a' && b[k] <= 'z' ? 0x20L : 0) << shift;
            t[3 * step + 2] |= 0xffL << shift;
        }
        return t;
    }

    /** A 16-bit hash of up to four packed bytes. */
    static int hash(int bytes) {
        return bytes * 0x9E3779B1 >>> 16;
    }

    /**
     * The key of a text position: its first four bytes lower-cased (ASCII letters only, as everywhere in the index),
     * the first in the lowest byte. Upper case letters are found and moved to lower case on all four bytes at once:
     * on the low seven bits of each byte the two additions cannot carry into the next byte.
     */
    static int key(int fourBytes) {
        int v = fourBytes & 0x7F7F7F7F;
        int atLeastA = v + 0x3F3F3F3F; // high bit set where v >= 'A'
        int pastZ = v + 0x25252525; // high bit set where v >= 'Z' + 1
        int upper = atLeastA & ~pastZ & ~fourBytes & 0x80808080;
        return fourBytes | upper >>> 2;
    }

    /**
     * 1 when a word may start at a position with {@link #key} {@code key}, else 0 (a number, so that the index can
     * count passes without a branch). All three tables are probed before the one test.
     */
    int mayStart(int key) {
        int h4 = hash(key);
        int h3 = hash(key & 0xFFFFFF);
        int pair = key & 0xFFFF;
        return (int) ((quads[h4 >>> 6] >>> h4 | triples[h3 >>> 6] >>> h3 | pairs[pair >>> 6] >>> pair) & 1L);
    }

    /** Words of four bytes or more that may start at a position with {@link #key} {@code key}, or null. */
    int[] quadCandidates(int key) {
        int h = hash(key);
        return (quads[h >>> 6] & 1L << h) == 0 ? null : byQuad[h >>> 4];
    }

    /** Words of three bytes that may start at a position with {@link #key} {@code key}, or null. */
    int[] tripleCandidates(int key) {
        int h = hash(key & 0xFFFFFF);
        return (triples[h >>> 6] & 1L << h) == 0 ? null : byTriple[h >>> 4];
    }

    /** Words shorter than three bytes that may start at a position with {@link #key} {@code key}, or null. */
    int[] shortCandidates(int key) {
        int pair = key & 0xFFFF;
        return (pairs[pair >>> 6] & 1L << pair) == 0 ? null : shortByFirst[key & 0xFF];
    }

    /**
     * Per rule, which of BOOST and PENALTY its words give when they occur in a key read as words
     * ({@link KeyContext#words}).
     */
    int[] keyFlags(byte[] keyWords) {
        int[] out = new int[kinds.length];
        if (keyWords.length == 0) {
            return out;
        }
        for (int w = 0; w < words.length; w++) {
            if (KeyContext.occurs(keyWords, keyForms[w])) {
                for (int r = 0; r < kinds.length; r++) {
                    out[r] |= kinds[r][w];
                }
            }
        }
        return out;
    }

    boolean isEmpty() {
        return words.length == 0;
    }
}
