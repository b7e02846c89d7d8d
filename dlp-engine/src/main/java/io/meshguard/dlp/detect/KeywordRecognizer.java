package io.meshguard.dlp.detect;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * A policy keyword list ("대외비", "CONFIDENTIAL"): literal matching, ASCII letters case-insensitive, and word
 * boundaries where a keyword starts or ends with an ASCII letter or digit. Leftmost, longest keyword first.
 */
public final class KeywordRecognizer implements Recognizer {
    private final int detector;
    private final byte[][] words;
    private final boolean[] first;
    /** First two bytes of each keyword, ASCII letters lower-cased: one probe rejects most first-byte hits. */
    private final long[] pairs;

    private final ByteFinder starts;
    /**
     * Per keyword, its first (up to) eight bytes as a little-endian word, the bits to compare, and 0x20 in each byte
     * that is a lower-case letter: one 8-byte load rejects a start that shares only its first two bytes with a
     * keyword ("co" in "account") before the byte-by-byte comparison.
     */
    private final long[] head;

    private final long[] headCare;
    private final long[] headFold;
    private final int maxLen;
    private final double confidence;
    private long pos;

    public KeywordRecognizer(int detector, List<String> keywords, double confidence) {
        this.detector = detector;
        this.confidence = confidence;
        this.first = new boolean[256];
        this.pairs = new long[1 << 10];
        this.words = keywords.stream()
                .map(k -> k.toLowerCase(Locale.ROOT).getBytes(StandardCharsets.UTF_8))
                .sorted((x, y) -> y.length - x.length)
                .toArray(byte[][]::new);
        int max = 0;
        for (byte[] w : words) {
            int c = w[0] & 0xff;
            first[c] = true;
            if (c >= 'a' && c <= 'z') {
                first[c - 32] = true;
            }
            max = Math.max(max, w.length);
            for (int x = 0; x < 256; x++) {
                if (w.length == 1 || x == (w[1] & 0xff)) {
                    int key = c << 8 | x;
                    pairs[key >>> 6] |= 1L << key;
                }
            }
        }
        this.maxLen = max;
        head = new long[words.length];
        headCare = new long[words.length];
        headFold = new long[words.length];
        for (int w = 0; w < words.length; w++) {
            for (int k = 0; k < Math.min(8, words[w].length); k++) {
                int c = words[w][k] & 0xff;
                head[w] |= (long) c << (8 * k);
                headCare[w] |= 0xFFL << (8 * k);
                if (c >= 'a' && c <= 'z') {
                    headFold[w] |= 0x20L << (8 * k);
                }
            }
        }
        // The second and third bytes too: where a keyword list's first pair is common in prose, most pair positions
        // are ruled out by their third byte inside the finder's word loop.
        ByteFinder pairFinder = new ByteFinder(first, byteAt(words, 1));
        boolean[] third = byteAt(words, 2);
        this.starts =
                (third == null ? pairFinder : pairFinder.withThird(third)).onBit(StartTable.policySearch(detector));
    }

    /**
     * The bytes the keywords have at {@code index}, ASCII letters in both cases; null when a keyword is too short to
     * have one (any byte may come there).
     */
    private static boolean[] byteAt(byte[][] words, int index) {
        boolean[] set = new boolean[256];
        for (byte[] w : words) {
            if (w.length <= index) {
                return null;
            }
            int c = w[index] & 0xff;
            set[c] = true;
            if (c >= 'a' && c <= 'z') {
                set[c - 32] = true;
            }
        }
        return set;
    }

    private KeywordRecognizer(KeywordRecognizer compiled) {
        detector = compiled.detector;
        words = compiled.words;
        first = compiled.first;
        pairs = compiled.pairs;
        starts = compiled.starts;
        head = compiled.head;
        headCare = compiled.headCare;
        headFold = compiled.headFold;
        maxLen = compiled.maxLen;
        confidence = compiled.confidence;
    }

    @Override
    public KeywordRecognizer newStream() {
        return new KeywordRecognizer(this);
    }

    /** {@link #mayFind} is true exactly where one of the words occurs whole. */
    @Override
    public boolean describeStarts(TriggerTable table) {
        table.words(words);
        return true;
    }

    @Override
    public void describeSearches(StartTable table) {
        starts.describeTo(table);
    }

    /** Whether any keyword occurs in the text (word boundaries aside). */
    @Override
    public boolean mayFind(byte[] b, int off, int len) {
        int end = off + len;
        for (int i = starts.next(b, off, end); i < end; i = starts.next(b, i + 1, end)) {
            for (int w = 0; w < words.length; w++) {
                if (headMatches(b, end, i, w) && matchesAt(b, end, i, words[w])) {
                    return true;
                }
            }
        }
        return false;
    }

    @Override
    public void reset() {
        pos = 0;
    }

    @Override
    public long scan(TextWindow t, Consumer<Candidate> out) {
        byte[] b = t.bytes();
        int n = t.length();
        int i = t.index(pos);
        boolean complete = t.complete();
        outer:
        while (true) {
            i = starts.next(t, i);
            if (i >= n) {
                break;
            }
            if (!complete && i + maxLen + 1 > n) {
                break;
            }
            int key = lower(b[i]) << 8 | (i + 1 < n ? lower(b[i + 1]) : 0);
            if ((pairs[key >>> 6] & 1L << key) == 0 && i + 1 < n) {
                i++;
                continue;
            }
            for (int k = 0; k < words.length; k++) {
                byte[] w = words[k];
                if (headMatches(b, n, i, k) && matchesAt(b, n, i, w) && boundaries(t, b, n, i, w)) {
                    out.accept(new Candidate(detector, t.base() + i, t.base() + i + w.length, confidence));
                    i += w.length;
                    continue outer;
                }
            }
            i++;
        }
        pos = t.base() + i;
        return complete ? Long.MAX_VALUE : pos;
    }

    private static int lower(byte x) {
        int c = x & 0xff;
        return c >= 'A' && c <= 'Z' ? c + 32 : c;
    }

    private static final java.lang.invoke.VarHandle LONGS =
            java.lang.invoke.MethodHandles.byteArrayViewVarHandle(long[].class, java.nio.ByteOrder.LITTLE_ENDIAN);

    /**
     * False only when keyword {@code w} cannot match at {@code i}: its first eight bytes differ, ASCII case aside
     * (a byte {@code c} equals a lower-case letter {@code l} folded iff {@code (c | 0x20) == l}). True when fewer than
     * eight bytes are left; {@link #matchesAt} decides.
     */
    private boolean headMatches(byte[] b, int n, int i, int w) {
        if (i + 8 > n) {
            return true;
        }
        long x = (long) LONGS.get(b, i);
        return ((x | headFold[w]) & headCare[w]) == head[w];
    }

    private static boolean matchesAt(byte[] b, int n, int i, byte[] w) {
        if (i + w.length > n) {
            return false;
        }
        for (int k = 0; k < w.length; k++) {
            byte c = b[i + k];
            if (c >= 'A' && c <= 'Z') {
                c += 32;
            }
            if (c != w[k]) {
                return false;
            }
        }
        return true;
    }

    private static boolean boundaries(TextWindow t, byte[] b, int n, int i, byte[] w) {
        if (BuiltinRecognizer.alnum(w[0] & 0xff) && i > 0 && BuiltinRecognizer.alnum(b[i - 1] & 0xff)) {
            return false;
        }
        int e = i + w.length;
        return !(BuiltinRecognizer.alnum(w[w.length - 1] & 0xff) && e < n && BuiltinRecognizer.alnum(b[e] & 0xff));
    }
}
