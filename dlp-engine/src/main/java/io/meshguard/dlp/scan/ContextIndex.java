package io.meshguard.dlp.scan;

import io.meshguard.dlp.detect.Simd;
import io.meshguard.dlp.detect.TextWindow;

/**
 * Every occurrence of every rule's context words in one scanner's retained text, found as the text arrives (one
 * probe per byte), so scoring a finding looks up the occurrences inside its window instead of searching the window
 * again: in dense text the windows of neighbouring findings overlap and are longer than the text between them.
 *
 * <p>The answer is the one a search of the lower-cased window {@code text[before, s) + " " + text[e, after)} gives:
 * ASCII words must not touch a letter inside the window (the window's own ends and the space standing for the
 * value count as non-letters), and words with a space are also tried across that space.
 */
final class ContextIndex {
    private final ContextWords cw;
    private final boolean vectors;
    // Grown by add() as words are listed; small to start with, as every held stream has one.
    private long[] pos = new long[16];
    private int[] word = new int[16];
    private int head;
    private int count;
    /** Where the last {@link #firstAtOrAfter} answer was: only a hint, checked before use. */
    private int cursor;

    private long indexedTo;
    /** Where the run of text indexed up to {@link #indexedTo} starts (absolute): see {@link #cover}. */
    private long coveredFrom;
    /** Ranges {@link #cover} was asked for that reached back before the run it held. */
    private long rewinds;

    /** {@link #rewinds} (the tests check that their queries reach that case). */
    long rewinds() {
        return rewinds;
    }

    private byte[] junction = new byte[64];
    /** Bytes per block of {@link #index}'s word-start listing. */
    private static final int BLOCK = 512;
    /** The word starts of one block: at most eight per eight bytes, and three written past the last. */
    /** Positions listed for probing; made at the first text long enough to need it (most held streams never do). */
    private int[] probeAt;

    private int[] probeAt() {
        int[] at = probeAt;
        if (at == null) {
            at = new int[BLOCK + 8];
            probeAt = at;
        }
        return at;
    }

    ContextIndex(ContextWords cw) {
        this(cw, Simd.LANES > 0);
    }

    /** @param vectors whether word starts are found a vector of bytes a step (see {@link Simd}) */
    ContextIndex(ContextWords cw, boolean vectors) {
        this.cw = cw;
        this.vectors = vectors;
    }

    void reset() {
        head = 0;
        count = 0;
        cursor = 0;
        indexedTo = 0;
        coveredFrom = 0;
    }

    /**
     * Records the words starting where the bytes present settle them (every word fits), or everywhere once the text
     * is complete.
     */
    void index(TextWindow t) {
        indexUpTo(t, t.length());
    }

    /**
     * Records the words starting in buffer indexes {@code [from, to)} not recorded yet, as far as the bytes present
     * settle them: what {@link #found} and {@link #lastBoostWord} need for a window inside them. In dense text most
     * findings need only the few bytes before their value ({@code "tel 010-…"}), so the text between is not indexed.
     * The occurrences recorded stay one run of text, in order: a range past the run starts a new one (the scanner
     * asks in order of the values' starts, so the text skipped is rarely asked for), and a range reaching back before
     * the run records it again from there.
     */
    void cover(TextWindow t, int from, int to) {
        long at = t.base() + from;
        if (at < coveredFrom) {
            rewinds++;
            head = 0;
            count = 0;
            cursor = 0;
            coveredFrom = at;
            indexedTo = at;
        } else if (at > indexedTo) {
            coveredFrom = at; // the occurrences before it stay, all before any recorded from here
            indexedTo = at;
        }
        indexUpTo(t, to);
    }

    /** {@link #index} up to buffer index {@code limit} at most. */
    private void indexUpTo(TextWindow t, int limit) {
        byte[] b = t.bytes();
        int n = t.length();
        long base = t.base();
        int from = (int) Math.max(0, indexedTo - base);
        int to = Math.min(limit, t.complete() ? n : n - cw.maxLen);
        if (to <= from) {
            return;
        }
        if (cw.isEmpty()) {
            indexedTo = base + to;
            return;
        }
        int i = from;
        // Positions with a whole four-byte key (ContextWords#key); the last three are tried word by word.
        int end = Math.min(to, n - 3);
        if (cw.wordStartsOnly) {
            if (i == 0 && i < end) {
                probe(b, n, 0, base); // no byte before it here: always probed
                i = 1;
            }
            if (vectors) {
                i = indexByVectors(b, n, i, end, base);
            }
            // Eight positions at a time, probing only where a word can start (see ContextWords#wordStartsOnly):
            // an ASCII letter after a non-letter, or a UTF-8 lead byte. In prose that is about one byte in five.
            // The positions of a block of words are listed first, then probed: a loop over each word's few
            // positions would end at an unpredictable count, a mispredicted branch for about every word.
            final int[] at = probeAt();
            // The letter flags of the previous eight bytes, so that the byte before each position is known without
            // a second load: at first only the byte before i, in the top byte.
            long lastLetters = i + 8 <= end ? letters(b[i - 1] & 0xffL) << 56 : 0;
            while (i + 8 <= end) {
                int m = 0;
                int blockEnd = Math.min(end, i + BLOCK);
                for (; i + 8 <= blockEnd; i += 8) {
                    long x = (long) LONGS.get(b, i);
                    long isLetter = letters(x);
                    long afterLetter = isLetter << 8 | lastLetters >>> 56;
                    lastLetters = isLetter;
                    long cand = isLetter & ~afterLetter | x & (x << 1) & HIGH;
                    int c = Long.bitCount(cand);
                    // Four written whatever the count (past it they are overwritten next): words and Hangul
                    // syllables leave at most four starts in eight bytes, more only in the rare rest.
                    at[m] = i + (Long.numberOfTrailingZeros(cand) >>> 3);
                    cand &= cand - 1;
                    at[m + 1] = i + (Long.numberOfTrailingZeros(cand) >>> 3);
                    cand &= cand - 1;
                    at[m + 2] = i + (Long.numberOfTrailingZeros(cand) >>> 3);
                    cand &= cand - 1;
                    at[m + 3] = i + (Long.numberOfTrailingZeros(cand) >>> 3);
                    cand &= cand - 1;
                    for (int k = m + 4; cand != 0; k++) {
                        at[k] = i + (Long.numberOfTrailingZeros(cand) >>> 3);
                        cand &= cand - 1;
                    }
                    m += c;
                }
                addWordsAtListed(b, n, m, base);
            }
        }
        // Every position: a two-byte filter first, the cheapest test where most positions start no word.
        final long[] starts = cw.starts;
        final byte[] low = LOWER;
        for (; i < end; i++) {
            int pair = (low[b[i] & 0xff] & 0xff) << 8 | (low[b[i + 1] & 0xff] & 0xff);
            if ((starts[pair >>> 6] & 1L << pair) != 0) {
                addWordsAt(b, n, i, base);
            }
        }
        for (; i < to; i++) {
            addAll(cw.byFirst[lower(b[i])], b, n, i, base); // the text's last three bytes: no key to probe
        }
        indexedTo = base + to;
    }

    /**
     * The word-start positions of {@link #index} a vector of bytes a step (see {@link Simd}), from {@code i >= 1} while
     * a whole vector remains before {@code end}; returns where it stopped.
     */
    private int indexByVectors(byte[] b, int n, int i, int end, long base) {
        final int lanes = Simd.LANES;
        final int[] at = probeAt();
        if (i + lanes > end) {
            return i;
        }
        long letterBefore = letter(b[i - 1]) ? 1 : 0;
        while (i + lanes <= end) {
            int m = 0;
            int blockEnd = Math.min(end, i + BLOCK);
            for (; i + lanes <= blockEnd; i += lanes) {
                long letters = Simd.asciiLetters(b, i);
                long starts = letters & ~(letters << 1 | letterBefore) | Simd.leadBytes(b, i);
                letterBefore = letters >>> (lanes - 1) & 1;
                for (; starts != 0; starts &= starts - 1) {
                    at[m++] = i + Long.numberOfTrailingZeros(starts);
                }
            }
            addWordsAtListed(b, n, m, base);
        }
        return i;
    }

    /** Records the words starting at the first {@code m} positions of {@link #probeAt}. */
    private void addWordsAtListed(byte[] b, int n, int m, long base) {
        final int[] at = probeAt();
        // The filter keeps the starts that pass it in place, without a branch (about one in ten passes, at no
        // predictable place); only those are looked up.
        int passed = 0;
        for (int k = 0; k < m; k++) {
            int p = at[k];
            at[passed] = p;
            passed += cw.mayStart(keyAt(b, p));
        }
        for (int k = 0; k < passed; k++) {
            addWordsAt(b, n, at[k], base);
        }
    }

    /** The {@link ContextWords#key} of buffer index {@code i}; four bytes must remain in the text. */
    private static int keyAt(byte[] b, int i) {
        return ContextWords.key((int) INTS.get(b, i));
    }

    /** Records the words starting at buffer index {@code i} (four bytes remain), no filter first. */
    private void addWordsAt(byte[] b, int n, int i, long base) {
        int key = keyAt(b, i);
        addAll(cw.quadCandidates(key), b, n, i, base, key);
        addAll(cw.tripleCandidates(key), b, n, i, base, key);
        addAll(cw.shortCandidates(key), b, n, i, base, key);
    }

    /** Records the words starting at buffer index {@code i} (four bytes remain) if the filter lets it through. */
    private void probe(byte[] b, int n, int i, long base) {
        if (cw.mayStart(keyAt(b, i)) != 0) {
            addWordsAt(b, n, i, base);
        }
    }

    private static final java.lang.invoke.VarHandle INTS =
            java.lang.invoke.MethodHandles.byteArrayViewVarHandle(int[].class, java.nio.ByteOrder.LITTLE_ENDIAN);
    private static final java.lang.invoke.VarHandle LONGS =
            java.lang.invoke.MethodHandles.byteArrayViewVarHandle(long[].class, java.nio.ByteOrder.LITTLE_ENDIAN);
    private static final long HIGH = 0x8080808080808080L;

    /**
     * The high bit of each byte of {@code x} that is an ASCII letter. Upper case is folded into lower case with
     * {@code | 0x20}; on the low seven bits the two additions cannot carry into the next byte.
     */
    static long letters(long x) {
        long v = (x | 0x2020202020202020L) & 0x7F7F7F7F7F7F7F7FL;
        long atLeastA = v + 0x1F1F1F1F1F1F1F1FL; // high bit set where v >= 'a'
        long pastZ = v + 0x0505050505050505L; // high bit set where v >= 'z' + 1
        return atLeastA & ~pastZ & ~x & HIGH;
    }

    /** Forgets occurrences before absolute offset {@code base} (the text before it is gone). */
    void discardBefore(long base) {
        while (head < count && pos[head] < base) {
            head++;
        }
        if (head > 256 && head > count / 2) {
            System.arraycopy(pos, head, pos, 0, count - head);
            System.arraycopy(word, head, word, 0, count - head);
            count -= head;
            head = 0;
        }
    }

    private void add(long p, int w) {
        if (count == pos.length) {
            pos = java.util.Arrays.copyOf(pos, count * 2);
            word = java.util.Arrays.copyOf(word, count * 2);
        }
        pos[count] = p;
        word[count] = w;
        count++;
    }

    /** Records the candidates that start at buffer index {@code i}, found byte by byte. */
    private void addAll(int[] candidates, byte[] b, int n, int i, long base) {
        if (candidates == null) {
            return;
        }
        for (int w : candidates) {
            if (matchesAt(b, n, i, cw.words[w])) {
                add(base + i, w);
            }
        }
    }

    /**
     * Records the candidates that start at buffer index {@code i} with {@link ContextWords#key} {@code key} (four
     * bytes remain): the key holds a word's first four bytes, so only longer words compare more.
     */
    private void addAll(int[] candidates, byte[] b, int n, int i, long base, int key) {
        if (candidates == null) {
            return;
        }
        for (int w : candidates) {
            if ((key & cw.headMasks[w]) == cw.heads[w] && restMatchesAt(b, n, i, w)) {
                add(base + i, w);
            }
        }
    }

    /**
     * Whether word {@code w} after its first four bytes matches the text from buffer index {@code i + 4}: eight bytes
     * a step where the array holds them ({@link ContextWords#tails}), so that a word of up to twelve bytes takes one
     * step whatever its length; byte by byte at the array's end.
     */
    private boolean restMatchesAt(byte[] b, int n, int i, int w) {
        byte[] needle = cw.words[w];
        int len = needle.length;
        if (i + len > n) {
            return false;
        }
        long[] tail = cw.tails[w];
        int o = i + 4;
        if (o + tail.length / 3 * 8 > b.length) {
            for (int k = 4; k < len; k++) {
                if (lower(b[i + k]) != (needle[k] & 0xff)) {
                    return false;
                }
            }
            return true;
        }
        for (int k = 0; k < tail.length; k += 3, o += 8) {
            if ((((long) LONGS.get(b, o) | tail[k + 1]) & tail[k + 2]) != tail[k]) {
                return false;
            }
        }
        return true;
    }

    private static boolean matchesAt(byte[] b, int n, int i, byte[] needle) {
        int len = needle.length;
        if (i + len > n) {
            return false;
        }
        for (int k = 0; k < len; k++) {
            if (lower(b[i + k]) != (needle[k] & 0xff)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Which of BOOST and PENALTY rule {@code rule}'s words give for a finding at buffer indexes {@code [s, e)} with
     * the window {@code [before, s)} and {@code [e, after)}.
     */
    int found(int rule, TextWindow t, int before, int s, int e, int after) {
        int wanted = cw.wanted[rule];
        byte[] kinds = cw.kinds[rule];
        byte[] b = t.bytes();
        long base = t.base();
        int indexed = (int) Math.min(after, Math.max(before, indexedTo - base));
        int found = 0;
        for (int k = firstAtOrAfter(base + before); k < count && pos[k] < base + indexed && found != wanted; k++) {
            int w = word[k];
            int kind = kinds[w];
            if (kind != 0 && (found | kind) != found && fits(b, (int) (pos[k] - base), w, before, s, e, after)) {
                found |= kind;
            }
        }
        // An ASCII word right after a letter is not indexed (ContextWords#wordStartsOnly), yet it fits when it starts
        // one of the window's two parts exactly: tried here.
        if (found != wanted) {
            found = atPartStart(found, wanted, kinds, b, before, indexed, before, s, e, after);
            found = atPartStart(found, wanted, kinds, b, e, indexed, before, s, e, after);
        }
        // Word starts the index has not settled yet (the last bytes received): tried here directly.
        for (int i = indexed; i < after && found != wanted; i++) {
            int[] candidates = cw.byFirst[lower(b[i])];
            if (candidates == null) {
                continue;
            }
            for (int w : candidates) {
                int kind = kinds[w];
                if (kind != 0
                        && (found | kind) != found
                        && matchesAt(b, after, i, cw.words[w])
                        && fits(b, i, w, before, s, e, after)) {
                    found |= kind;
                }
            }
        }
        if (found != wanted && cw.spaced[rule].length > 0) {
            found |= acrossTheValue(rule, b, before, s, e, after);
        }
        return found;
    }

    /**
     * The start of the last indexed boost word of rule {@code rule} that lies whole in buffer indexes
     * {@code [from, s)} and, if ASCII, has no letter right before it (even at {@code from}) nor right after it
     * (unless it ends at {@code s}): a word that {@link #fits} any window of the value at {@code s} that reaches back
     * to it. -1 when there is none.
     */
    int lastBoostWord(int rule, TextWindow t, int from, int s) {
        byte[] kinds = cw.kinds[rule];
        byte[] b = t.bytes();
        long base = t.base();
        int last = -1;
        for (int k = firstAtOrAfter(base + from); k < count && pos[k] < base + s; k++) {
            int w = word[k];
            int p = (int) (pos[k] - base);
            int end = p + cw.words[w].length;
            if ((kinds[w] & ContextWords.BOOST) != 0
                    && end <= s
                    && (!cw.ascii[w] || (p == 0 || !letter(b[p - 1])) && (end == s || !letter(b[end])))) {
                last = p;
            }
        }
        return last;
    }

    /** {@code found} with the words starting at {@code p} after a letter, if the index holds no occurrence there. */
    private int atPartStart(
            int found, int wanted, byte[] kinds, byte[] b, int p, int indexed, int before, int s, int e, int after) {
        if (found == wanted || p == 0 || p >= indexed || !letter(b[p - 1])) {
            return found;
        }
        int[] candidates = cw.byFirst[lower(b[p])];
        if (candidates == null) {
            return found;
        }
        for (int w : candidates) {
            int kind = kinds[w];
            if (kind != 0
                    && (found | kind) != found
                    && matchesAt(b, after, p, cw.words[w])
                    && fits(b, p, w, before, s, e, after)) {
                found |= kind;
            }
        }
        return found;
    }

    /** Whether word {@code w} at buffer index {@code p} lies in the window and, if ASCII, touches no letter there. */
    private boolean fits(byte[] b, int p, int w, int before, int s, int e, int after) {
        int len = cw.words[w].length;
        int from;
        int to;
        if (p >= before && p + len <= s) {
            from = before;
            to = s;
        } else if (p >= e && p + len <= after) {
            from = e;
            to = after;
        } else {
            return false; // overlaps the value or leaves the window
        }
        return !cw.ascii[w] || ((p == from || !letter(b[p - 1])) && (p + len == to || !letter(b[p + len])));
    }

    /** Words with a space, tried where the window's space (standing for the value) is inside them. */
    private int acrossTheValue(int rule, byte[] b, int before, int s, int e, int after) {
        int m = cw.maxLen;
        int a0 = Math.max(before, s - m);
        int a1 = Math.min(after, e + m);
        int len = (s - a0) + 1 + (a1 - e);
        if (junction.length < len) {
            junction = new byte[len * 2];
        }
        int n = 0;
        for (int k = a0; k < s; k++) {
            junction[n++] = (byte) lower(b[k]);
        }
        int gap = n;
        junction[n++] = ' ';
        for (int k = e; k < a1; k++) {
            junction[n++] = (byte) lower(b[k]);
        }
        int found = 0;
        for (int w : cw.spaced[rule]) {
            byte[] needle = cw.words[w];
            int wl = needle.length;
            outer:
            for (int i = Math.max(0, gap - wl + 1); i <= gap && i + wl <= n; i++) {
                for (int k = 0; k < wl; k++) {
                    if (junction[i + k] != needle[k]) {
                        continue outer;
                    }
                }
                // The buffer reaches one byte past a spanning word on each side unless the window ends there.
                if (cw.ascii[w]
                        && ((i > 0 && lowerLetter(junction[i - 1])) || (i + wl < n && lowerLetter(junction[i + wl])))) {
                    continue;
                }
                found |= cw.kinds[rule][w];
            }
        }
        return found;
    }

    /**
     * The first occurrence at or after absolute offset {@code p}. Findings are scored about in text order, so the
     * answer is usually at or a step or two after the last one: that is checked first, and the binary search runs
     * over whatever range is left (often none).
     */
    int firstAtOrAfter(long p) {
        int lo = head;
        int hi = count;
        int k = Math.max(head, Math.min(cursor, count));
        if (k > head && pos[k - 1] >= p) {
            hi = k - 1; // the last answer is past this one
        } else {
            // Everything before k is before p.
            for (int step = 0; step < 4 && k < count && pos[k] < p; step++) {
                k++;
            }
            lo = k;
            if (k < count && pos[k] >= p) {
                hi = k;
            }
        }
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (pos[mid] < p) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        cursor = lo;
        return lo;
    }

    private static final byte[] LOWER = new byte[256];

    static {
        for (int c = 0; c < 256; c++) {
            LOWER[c] = (byte) (c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
    }

    /** {@code x} as an unsigned byte, ASCII upper case moved to lower case (as the index and its words have it). */
    static int lower(byte x) {
        return LOWER[x & 0xff] & 0xff;
    }

    static boolean letter(byte x) {
        return (x >= 'a' && x <= 'z') || (x >= 'A' && x <= 'Z');
    }

    private static boolean lowerLetter(byte x) {
        return x >= 'a' && x <= 'z';
    }
}
