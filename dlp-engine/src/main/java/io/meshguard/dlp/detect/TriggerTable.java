package io.meshguard.dlp.detect;

import java.util.List;

/**
 * Every recognizer's "could anything start here" test folded into one table, so that a short text (a JSON key or
 * value, an SSE token) is looked at once instead of once per recognizer: a byte that alone may start a finding (a
 * digit, {@code @}, a UTF-8 lead byte a disguised digit starts with), a pair of bytes that may start a keyword or a
 * pattern's literal prefix, or a run of token bytes long enough for a secret. False is certain (no recognizer's own
 * {@link Recognizer#mayFind} would say true); true sends the text to those exact tests. A policy with a recognizer
 * that cannot describe its starts gets a table that always says true.
 */
public final class TriggerTable {
    private static final byte SINGLE = 1;
    private static final byte FIRST = 2;
    private static final byte TOKEN = 4;

    /** Per byte: {@link #SINGLE}, {@link #FIRST} of a pair, {@link #TOKEN} of a run. */
    private final byte[] cls = new byte[256];
    /** Bit {@code first << 8 | second} set for a pair that may start a finding. */
    private final long[] pairs = new long[65536 / 64];
    /** Bit {@code first << 8 | second} set for a pair that starts one of {@link #words}, only in full. */
    private final long[] wordPairs = new long[65536 / 64];
    /** Literal words (lower case; ASCII letters in the text match either case) for {@link #wordPairs}. */
    private byte[][] words = new byte[0][];

    private int minRun = Integer.MAX_VALUE;
    private boolean[] runBytes;
    private boolean describable = true;
    /** The vector form's tables, or null on the portable path or for a table that always says true. */
    private TriggerNibbles nibbles;

    private TriggerTable() {}

    /** The table for these recognizers (each describes its own starts; see {@link Recognizer#describeStarts}). */
    public static TriggerTable of(List<Recognizer> recognizers) {
        TriggerTable t = new TriggerTable();
        for (Recognizer r : recognizers) {
            if (!r.describeStarts(t)) {
                t.describable = false;
            }
        }
        if (Simd.LANES > 0 && t.describable) {
            t.nibbles = t.nibbles();
        }
        return t;
    }

    /**
     * The classes as nibble tables: a pair's first byte that any byte may follow (or the text's end) starts a finding
     * alone, like a start byte.
     */
    private TriggerNibbles nibbles() {
        boolean[] start = new boolean[256];
        boolean[][] rows = new boolean[256][];
        boolean[] token = new boolean[256];
        for (int a = 0; a < 256; a++) {
            token[a] = (cls[a] & TOKEN) != 0;
            if ((cls[a] & SINGLE) != 0) {
                start[a] = true;
            } else if ((cls[a] & FIRST) != 0) {
                boolean[] row = new boolean[256];
                boolean full = true;
                boolean any = false;
                for (int x = 0; x < 256; x++) {
                    int key = a << 8 | x;
                    boolean pair = (pairs[key >>> 6] & 1L << key) != 0;
                    row[x] = pair || (wordPairs[key >>> 6] & 1L << key) != 0;
                    full &= pair;
                    any |= row[x];
                }
                start[a] = full;
                rows[a] = full || !any ? null : row;
            }
        }
        return new TriggerNibbles(start, rows, token);
    }

    /** Any of these bytes alone may start a finding. */
    void single(boolean[] set) {
        for (int c = 0; c < 256; c++) {
            if (set[c]) {
                cls[c] |= SINGLE;
            }
        }
    }

    /** A byte of {@code first} followed by one of {@code second} (or by the text's end) may start a finding. */
    void pair(boolean[] first, boolean[] second) {
        for (int a = 0; a < 256; a++) {
            if (!first[a]) {
                continue;
            }
            cls[a] |= FIRST;
            for (int x = 0; x < 256; x++) {
                if (second[x]) {
                    int key = a << 8 | x;
                    pairs[key >>> 6] |= 1L << key;
                }
            }
        }
    }

    /**
     * Any of {@code lowerCase} (ASCII letters lower-cased; in the text either case matches) may be a finding where it
     * occurs whole; nothing else about them is. A pair of their first bytes alone is no trigger: "co" in "account"
     * does not start "confidential", which one comparison of the word tells.
     */
    void words(byte[][] lowerCase) {
        boolean[] firstOfOne = new boolean[256];
        for (byte[] w : lowerCase) {
            if (w.length < 2) {
                firstOfOne[w[0] & 0xff] = true;
                firstOfOne[upper(w[0] & 0xff)] = true;
                continue;
            }
            int a = w[0] & 0xff;
            int x = w[1] & 0xff;
            for (int first : new int[] {a, upper(a)}) {
                cls[first] |= FIRST;
                for (int second : new int[] {x, upper(x)}) {
                    int key = first << 8 | second;
                    wordPairs[key >>> 6] |= 1L << key;
                }
            }
        }
        single(firstOfOne);
        byte[][] all = java.util.Arrays.copyOf(words, words.length + lowerCase.length);
        System.arraycopy(lowerCase, 0, all, words.length, lowerCase.length);
        words = all;
    }

    private static int upper(int c) {
        return c >= 'a' && c <= 'z' ? c - 32 : c;
    }

    /** Whether the byte at {@code i}, of class {@code k}, starts a trigger: alone, as a pair, or as a word. */
    private boolean startsAt(byte[] b, int i, int end, int k) {
        if ((k & SINGLE) != 0 || i + 1 == end) {
            return true;
        }
        int key = (b[i] & 0xff) << 8 | (b[i + 1] & 0xff);
        return (pairs[key >>> 6] & 1L << key) != 0 || (wordPairs[key >>> 6] & 1L << key) != 0 && wordAt(b, i, end);
    }

    /** Whether one of {@link #words} is {@code b[i, ...)} whole (ASCII case aside), before {@code end}. */
    private boolean wordAt(byte[] b, int i, int end) {
        for (byte[] w : words) {
            if (w.length > end - i) {
                continue;
            }
            int k = 0;
            while (k < w.length) {
                byte c = b[i + k];
                if (c >= 'A' && c <= 'Z') {
                    c += 32;
                }
                if (c != w[k]) {
                    break;
                }
                k++;
            }
            if (k == w.length) {
                return true;
            }
        }
        return false;
    }

    /**
     * The bytes of {@code alphabet} at which this table may say true in a text made only of such bytes (a start
     * byte, a pair's first byte, a byte of a token run); every byte when the table cannot describe its recognizers.
     * A text of {@code alphabet} with none of them is one this table clears.
     */
    public boolean[] triggersWithin(boolean[] alphabet) {
        boolean[] out = new boolean[256];
        for (int c = 0; c < 256; c++) {
            out[c] = alphabet[c]
                    && (!describable
                            || (cls[c] & (SINGLE | FIRST)) != 0
                            || ((cls[c] & TOKEN) != 0 && minRun != Integer.MAX_VALUE));
        }
        return out;
    }

    /** {@code min} consecutive bytes of {@code bytes} may be a finding (one such rule per table). */
    void run(boolean[] bytes, int min) {
        if (runBytes != null && !java.util.Arrays.equals(runBytes, bytes)) {
            describable = false; // two run rules are not folded; the exact tests answer
            return;
        }
        runBytes = bytes.clone();
        minRun = Math.min(minRun, min);
        for (int c = 0; c < 256; c++) {
            if (bytes[c]) {
                cls[c] |= TOKEN;
            }
        }
    }

    /**
     * Whether {@code b[off, off + len)}, scanned alone as a complete text, could give any recognizer a candidate.
     * One table lookup per byte (two at a pair's first byte), no setup: for the many short texts of a JSON body this
     * costs less than a vector search would take to start.
     */
    public boolean mayFind(byte[] b, int off, int len) {
        if (!describable) {
            return true;
        }
        if (nibbles != null && len > Simd.LANES) {
            return mayFindInBlocks(b, off, off + len);
        }
        return mayFindByteByByte(b, off, off + len);
    }

    /** Whether {@link #mayFind} runs its vector form on texts longer than a vector. */
    boolean hasVectorForm() {
        return nibbles != null;
    }

    /** {@link #mayFind} one byte at a time: the portable path, and short texts on the vector path. */
    boolean mayFindByteByByte(byte[] b, int off, int end) {
        final byte[] classes = cls;
        final int min = minRun;
        int run = 0;
        int i = off;
        while (i < end) {
            int k = classes[b[i] & 0xff];
            // Branch-free on the bulk of bytes (letters, spaces, most UTF-8): a token run grows or restarts without a
            // jump, so a word boundary in prose costs no misprediction. A rare start byte leaves this inner loop for
            // the call below: with the call in the one loop, three portable JVMs of ten that had scanned prose first
            // ran this loop about twice as slow on JSON strings (async-profiler: 42 % of the JSON pass, not 28 %);
            // with the inner loop, none of eight did (docs/benchmarks.md).
            while ((k & (SINGLE | FIRST)) == 0) {
                run = (run + 1) & -((k & TOKEN) >>> 2);
                if (run >= min) {
                    return true;
                }
                if (++i == end) {
                    return false;
                }
                k = classes[b[i] & 0xff];
            }
            if (startsAt(b, i, end, k)) {
                return true;
            }
            run = (run + 1) & -((k & TOKEN) >>> 2);
            if (run >= min) {
                return true;
            }
            i++;
        }
        return false;
    }

    /**
     * {@link #mayFind} a vector a step, for a text longer than a vector: the vector flags the bytes that may start a
     * trigger (a start byte, or a pair's first byte whose next byte may follow it: the pair is tested in the vector,
     * so the "c" of "co" is flagged and that of "ca" not), and only flagged bytes get the byte loop's test; token runs
     * are counted on the vector's token bits. The text's last byte, which no vector pairs with a next one, is tested
     * alone. Blocks cover {@code [off, end - 1)}; the last one may overlap the one before, its repeated bytes dropped.
     */
    private boolean mayFindInBlocks(byte[] b, int off, int end) {
        final int lanes = Simd.LANES;
        final byte[] tables = nibbles.tables;
        int last = end - 1;
        int run = 0; // the token run ending before the block
        for (int p = off; p < last; p += lanes) {
            int q = Math.min(p, last - lanes);
            int skip = p - q; // bytes of an overlapping last block already tested
            long starts = Simd.triggerStarts(b, q, tables) >>> skip;
            for (; starts != 0; starts &= starts - 1) {
                int i = p + Long.numberOfTrailingZeros(starts);
                int k = cls[b[i] & 0xff];
                if ((k & (SINGLE | FIRST)) != 0 && startsAt(b, i, end, k)) {
                    return true;
                }
            }
            run = runAfter(Simd.triggerTokens(b, q, tables) >>> skip, lanes - skip, run);
            if (run < 0) {
                return nibbles.tokensExact || mayFindByteByByte(b, off, end);
            }
        }
        int k = cls[b[last] & 0xff];
        return (k & (SINGLE | FIRST)) != 0 || (k & TOKEN) != 0 && run + 1 >= minRun;
    }

    /**
     * The token run ending at a block's last byte, given {@code run}, the one ending before the block; or -1 when a
     * run of {@link #minRun} ends in the block. {@code tokens}: bit k for the block's byte k, of {@code bits} bytes.
     */
    private int runAfter(long tokens, int bits, int run) {
        int head = Long.numberOfTrailingZeros(~tokens); // the run from the block's first byte
        if (head >= bits) {
            return run + bits >= minRun ? -1 : run + bits;
        }
        if (run + head >= minRun || holdsRun(tokens)) {
            return -1;
        }
        return Long.numberOfLeadingZeros(~(tokens << (64 - bits)));
    }

    /** Whether {@code tokens} holds {@link #minRun} consecutive bits (halving the run left to find at each step). */
    private boolean holdsRun(long tokens) {
        final int min = minRun;
        if (min > 64) {
            return false;
        }
        long r = tokens;
        for (int k = 1; k < min; ) {
            int s = Math.min(k, min - k);
            r &= r >>> s;
            k += s;
        }
        return r != 0;
    }
}
