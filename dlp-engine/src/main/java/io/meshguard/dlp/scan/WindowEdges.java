package io.meshguard.dlp.scan;

import io.meshguard.dlp.detect.Simd;

/**
 * Where a finding's context window ends: cut at line breaks, JSON structure characters and member commas, and
 * counted in characters (UTF-8 starts), eight bytes a step where the bytes are whole. Static: the scanner calls these
 * for every finding's window.
 */
final class WindowEdges {
    private WindowEdges() {}

    /** Whether byte {@code c} ends a context window by itself: a line break or a JSON structure character. */
    static boolean breaks(int c) {
        return c == '\n' || c == '\r' || c == '{' || c == '}' || c == '[' || c == ']';
    }

    /** The first index in {@code [from, to)} whose byte {@link #breaks}, or {@code to}. */
    static int firstBreak(byte[] b, int from, int to) {
        for (int i = from; i < to; i++) {
            if (breaks(b[i])) {
                return i;
            }
        }
        return to;
    }

    /**
     * Whether the comma at {@code i} separates JSON members or elements: the next byte that is not a space or TAB,
     * before {@code to}, is a quote.
     */
    private static boolean memberComma(byte[] b, int i, int to) {
        if (b[i] != ',') {
            return false;
        }
        for (int k = i + 1; k < to; k++) {
            if (b[k] != ' ' && b[k] != '\t') {
                return b[k] == '"';
            }
        }
        return false;
    }

    /**
     * The after-window {@code [e, after)} cut at its first line break, structure character or member comma. Eight
     * bytes a step: every finding's window is cut, in dense text the windows are most of the text, and the byte loop
     * ({@link #lineAfterByBytes}, the tests' second opinion) tested seven values per byte.
     */
    static int lineAfter(byte[] b, int e, int after) {
        return lineAfter(b, e, after, VECTORS);
    }

    /**
     * {@link #lineAfter}, a vector a step first when {@code vectors}: one step covers a whole ASCII window of 32
     * characters. A vector may read past {@code after} (never past the array): those bytes' bits are cleared.
     */
    static int lineAfter(byte[] b, int e, int after, boolean vectors) {
        return vectors ? lineAfterByVectors(b, e, after) : lineAfterFrom(b, e, after);
    }

    private static int lineAfterByVectors(byte[] b, int e, int after) {
        final int lanes = Simd.LANES;
        int i = e;
        for (; i < after && i + lanes <= b.length; i += lanes) {
            long hit = Simd.windowCuts(b, i);
            if (after - i < lanes) {
                hit &= (1L << (after - i)) - 1;
            }
            for (; hit != 0; hit &= hit - 1) {
                int at = i + Long.numberOfTrailingZeros(hit);
                if (b[at] != ',' || memberComma(b, at, after)) {
                    return at;
                }
            }
        }
        return i >= after ? after : lineAfterFrom(b, i, after);
    }

    /** {@link #lineAfter} eight bytes a step from {@code i}, the bytes from {@code e} to it known to hold no cut. */
    private static int lineAfterFrom(byte[] b, int i, int after) {
        for (; i + 8 <= after; i += 8) {
            for (long hit = cutCandidates((long) LONGS.get(b, i)); hit != 0; hit &= hit - 1) {
                int at = i + (Long.numberOfTrailingZeros(hit) >>> 3);
                if (b[at] != ',' || memberComma(b, at, after)) {
                    return at;
                }
            }
        }
        for (; i < after; i++) {
            if (breaks(b[i]) || memberComma(b, i, after)) {
                return i;
            }
        }
        return after;
    }

    /**
     * The before-window {@code [before, s)} cut after its last line break, structure character or member comma;
     * eight bytes a step, from the end (see {@link #lineAfter}).
     */
    static int lineBefore(byte[] b, int before, int s) {
        return lineBefore(b, before, s, VECTORS);
    }

    /** {@link #lineBefore}, a vector a step first when {@code vectors} (as {@link #lineAfter} with vectors). */
    static int lineBefore(byte[] b, int before, int s, boolean vectors) {
        return vectors ? lineBeforeByVectors(b, before, s) : lineBeforeFrom(b, before, s, s);
    }

    private static int lineBeforeByVectors(byte[] b, int before, int s) {
        final int lanes = Simd.LANES;
        int q = s; // bytes below q are still to look at
        for (; q > before && q - lanes >= 0; q -= lanes) {
            int lo = q - lanes;
            long hit = Simd.windowCuts(b, lo);
            if (lo < before) {
                hit &= -1L << (before - lo);
            }
            for (; hit != 0; hit &= ~Long.highestOneBit(hit)) {
                int at = lo + 63 - Long.numberOfLeadingZeros(hit);
                if (b[at] != ',' || memberComma(b, at, s)) {
                    return at + 1;
                }
            }
        }
        return q <= before ? before : lineBeforeFrom(b, before, q, s);
    }

    /**
     * {@link #lineBefore} eight bytes a step below {@code q}, the bytes from {@code q} to {@code s} known to hold no
     * cut.
     */
    private static int lineBeforeFrom(byte[] b, int before, int q, int s) {
        for (; q - 8 >= before; q -= 8) {
            for (long hit = cutCandidates((long) LONGS.get(b, q - 8)); hit != 0; hit &= ~Long.highestOneBit(hit)) {
                int at = q - 8 + ((63 - Long.numberOfLeadingZeros(hit)) >>> 3);
                if (b[at] != ',' || memberComma(b, at, s)) {
                    return at + 1;
                }
            }
        }
        for (int i = q - 1; i >= before; i--) {
            if (breaks(b[i]) || memberComma(b, i, s)) {
                return i + 1;
            }
        }
        return before;
    }

    /** {@link #lineAfter} one byte at a time: what the word steps must answer. */
    static int lineAfterByBytes(byte[] b, int e, int after) {
        for (int i = e; i < after; i++) {
            if (breaks(b[i]) || memberComma(b, i, after)) {
                return i;
            }
        }
        return after;
    }

    /** {@link #lineBefore} one byte at a time: what the word steps must answer. */
    static int lineBeforeByBytes(byte[] b, int before, int s) {
        for (int i = s - 1; i >= before; i--) {
            if (breaks(b[i]) || memberComma(b, i, s)) {
                return i + 1;
            }
        }
        return before;
    }

    private static final long LOW7 = 0x7F7F7F7F7F7F7F7FL;

    /** The high bit of each byte of {@code x} that is zero; exact for every byte (no borrow between bytes). */
    static long zeros(long x) {
        return ~((x & LOW7) + LOW7 | x | LOW7);
    }

    /**
     * The high bit of each byte of {@code x} that is a {@link #breaks} byte or a comma (which cuts only as a member
     * comma: the caller asks {@link #memberComma}). {@code [ ]} and {@code { }} differ only in the 0x20 bit.
     */
    private static long cutCandidates(long x) {
        long folded = x | ONES * 0x20;
        return zeros(x ^ ONES * '\n')
                | zeros(x ^ ONES * '\r')
                | zeros(x ^ ONES * ',')
                | zeros(folded ^ ONES * '{')
                | zeros(folded ^ ONES * '}');
    }

    private static final java.lang.invoke.VarHandle LONGS =
            java.lang.invoke.MethodHandles.byteArrayViewVarHandle(long[].class, java.nio.ByteOrder.LITTLE_ENDIAN);

    private static final long HIGH = 0x8080808080808080L;

    /** The high bit of each byte of {@code x} that starts a character (is not a UTF-8 continuation byte). */
    private static long charStarts(long x) {
        return ~(x & ~(x << 1)) & HIGH;
    }

    /**
     * The byte index (0-7) of the {@code k}-th lowest flag ({@code 1 <= k <= bitCount}) in {@code starts}, which has
     * at most the high bit of each byte set. Multiplying the flags, moved to each byte's low bit, by 0x0101...01
     * leaves in every byte the number of flags up to it (at most 8, no carry); the first byte whose count reaches
     * {@code k} is the answer, found with one more addition per byte. No branch and no bit deposit (PDEP is
     * microcoded and slow on some x86 CPUs still in service).
     */
    static int nthStart(long starts, int k) {
        long upTo = (starts >>> 7) * ONES;
        long reached = (upTo + ONES * (0x80 - k)) & HIGH;
        return Long.numberOfTrailingZeros(reached) >>> 3;
    }

    private static final long ONES = 0x0101010101010101L;

    /** Whether the window walks take a vector of bytes a step first ({@link Simd#LANES}). */
    private static final boolean VECTORS = Simd.LANES > 0;

    /**
     * The bit index of the {@code k}-th lowest set bit of {@code m} ({@code 1 <= k <= bitCount(m)}), without a loop
     * of {@code k} rounds and without a bit deposit (see {@link #nthStart}): the set bits per byte (the classic
     * population count's first three steps), summed up to each byte by one multiplication (at most 64: no carry),
     * give the byte holding it; {@link #NTH_IN_BYTE} gives the bit within that byte.
     */
    static int nthSetBit(long m, int k) {
        long x = m - (m >>> 1 & 0x5555555555555555L);
        x = (x & 0x3333333333333333L) + (x >>> 2 & 0x3333333333333333L);
        x = (x + (x >>> 4)) & 0x0F0F0F0F0F0F0F0FL;
        long upTo = x * ONES;
        int at = Long.numberOfTrailingZeros((upTo + ONES * (0x80 - k)) & HIGH) & ~7;
        int below = (int) (upTo << 8 >>> at) & 0xFF; // the set bits in the bytes below (0 for the lowest byte)
        return at + NTH_IN_BYTE[((int) (m >>> at) & 0xFF) << 3 | (k - below - 1)];
    }

    /** {@code NTH_IN_BYTE[v << 3 | j]}: the bit index of the (j + 1)-th lowest set bit of byte {@code v}. */
    private static final byte[] NTH_IN_BYTE = new byte[256 * 8];

    static {
        for (int v = 0; v < 256; v++) {
            int j = 0;
            for (int bit = 0; bit < 8; bit++) {
                if ((v & 1 << bit) != 0) {
                    NTH_IN_BYTE[v << 3 | j++] = (byte) bit;
                }
            }
        }
    }

    /**
     * The end of the {@code within} characters after buffer index {@code e} (the index of the {@code within}-th
     * character start after it), or -1 when fewer than {@code within} characters follow in {@code b[e, n)} (the
     * last, possibly partial, one counted): the walk one character at a time, eight bytes at a time where whole.
     */
    static int charsAfter(byte[] b, int e, int n, int within) {
        return charsAfter(b, e, n, within, VECTORS);
    }

    /**
     * {@link #charsAfter}, a vector a step first when {@code vectors}: a vector may read past {@code n} (never past
     * the array); those bytes' bits are cleared.
     */
    static int charsAfter(byte[] b, int e, int n, int within, boolean vectors) {
        if (within <= 0 || e >= n) {
            return within <= 0 ? e : -1;
        }
        return vectors ? charsAfterByVectors(b, e + 1, n, within) : charsAfterFrom(b, e + 1, n, within);
    }

    private static int charsAfterByVectors(byte[] b, int q, int n, int need) {
        final int lanes = Simd.LANES;
        for (; q < n && q + lanes <= b.length; q += lanes) {
            long starts = Simd.charStarts(b, q);
            if (n - q < lanes) {
                starts &= (1L << (n - q)) - 1;
            }
            int c = Long.bitCount(starts);
            if (c >= need) {
                return q + nthSetBit(starts, need);
            }
            need -= c;
        }
        if (q >= n) {
            return need == 1 ? n : -1;
        }
        return charsAfterFrom(b, q, n, need);
    }

    /** {@link #charsAfter} eight bytes a step from {@code q}, {@code need} characters still to count. */
    private static int charsAfterFrom(byte[] b, int q, int n, int need) {
        for (; q + 8 <= n; q += 8) {
            long starts = charStarts((long) LONGS.get(b, q));
            int c = Long.bitCount(starts);
            if (c >= need) {
                // The need-th lowest start picked without a loop of as many rounds as characters are left (which
                // ends at a different round for every window).
                return q + nthStart(starts, need);
            }
            need -= c;
        }
        for (; q < n; q++) {
            if ((b[q] & 0xC0) != 0x80 && --need == 0) {
                return q;
            }
        }
        // The walk reaches n with one more character counted (the bytes after the last start found).
        return need == 1 ? n : -1;
    }

    /**
     * The start of the {@code within} characters before buffer index {@code s}: the {@code within}-th character
     * start below it, or 0 when there are fewer (index 0 counts as a start).
     */
    static int charsBefore(byte[] b, int s, int within) {
        return charsBefore(b, s, within, VECTORS);
    }

    /** {@link #charsBefore}, a vector a step first when {@code vectors}. */
    static int charsBefore(byte[] b, int s, int within, boolean vectors) {
        if (within <= 0 || s <= 0) {
            return s;
        }
        return vectors ? charsBeforeByVectors(b, s - 1, within) : charsBeforeFrom(b, s - 1, within);
    }

    private static int charsBeforeByVectors(byte[] b, int q, int need) {
        final int lanes = Simd.LANES;
        // Index 0 is not counted (the walk answers 0 when it runs out): its bit is cleared.
        for (; q >= 1 && q - lanes + 1 >= 0; q -= lanes) {
            int lo = q - lanes + 1;
            long starts = Simd.charStarts(b, lo);
            if (lo == 0) {
                starts &= ~1L;
            }
            int c = Long.bitCount(starts);
            if (c >= need) {
                // The need-th highest start is the (c - need + 1)-th lowest.
                return lo + nthSetBit(starts, c - need + 1);
            }
            need -= c;
        }
        return q < 1 ? 0 : charsBeforeFrom(b, q, need);
    }

    /**
     * {@link #charsBefore} eight bytes a step from the highest index not yet looked at, {@code q}, {@code need}
     * characters still to count.
     */
    private static int charsBeforeFrom(byte[] b, int q, int need) {
        for (; q - 7 >= 1; q -= 8) {
            long starts = charStarts((long) LONGS.get(b, q - 7));
            int c = Long.bitCount(starts);
            if (c >= need) {
                // The need-th highest start is the (c - need + 1)-th lowest.
                return q - 7 + nthStart(starts, c - need + 1);
            }
            need -= c;
        }
        for (; q > 0; q--) {
            if ((b[q] & 0xC0) != 0x80 && --need == 0) {
                return q;
            }
        }
        return 0;
    }
}
