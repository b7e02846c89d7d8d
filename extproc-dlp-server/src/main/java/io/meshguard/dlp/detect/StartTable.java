package io.meshguard.dlp.detect;

import java.util.List;

/**
 * The start bytes of every byte search the recognizers run (the built-in pass's quiet-byte skip, the keyword, pattern
 * and disguised-number start searches, the JWK readers' {@code {} and {@code :}), folded into one table per policy,
 * so that on the portable path the scanner classifies each 8-byte word of a window once for all of them ({@link
 * TextWindow#mapStarts}) instead of each search making its own pass over every word. Each search has a bit (up to
 * eight; two searches sharing one both stop where either may start, which is never wrong, only slower); a word's bits
 * say which searches may find a start in it.
 */
public final class StartTable {
    /** The built-in pass's quiet-byte skip ({@link BuiltinRecognizer#QUIET}): its stops are frequent in prose. */
    static final int QUIET_STOPS = 1;
    /** {@link JwkText}'s search for a JSON object's {@code {}. */
    static final int BRACES = 2;
    /** {@link JwkLiteralText}'s search for a member's {@code :}. */
    static final int COLONS = 4;
    /** {@link DisguisedNumberRecognizer}'s search for the lead bytes of a disguised digit or separator. */
    static final int DISGUISED_LEADS = 8;

    /**
     * The bit of the policy's keyword or pattern rule {@code detector} (its rule index): the last four bits, taken in
     * turn, so that up to four such rules each skip only their own words.
     */
    static int policySearch(int detector) {
        return 16 << (detector & 3);
    }

    /**
     * Per pair of bytes (the first in the low byte of the index, as a little-endian load has it): the searches that
     * may find a start at the first. One read per position answers for every search, the second byte's test
     * included; 64 KB per policy, of which a text touches the lines of the pairs it has.
     */
    private final byte[] pairs = new byte[1 << 16];

    private StartTable() {}

    /** The table of these recognizers' searches (each describes its own, {@link Recognizer#describeSearches}). */
    public static StartTable of(List<Recognizer> recognizers) {
        StartTable t = new StartTable();
        for (Recognizer r : recognizers) {
            r.describeSearches(t);
        }
        return t;
    }

    /**
     * Search {@code bit} may find a start where a byte of {@code first} is followed by one of {@code second} (null:
     * by any byte).
     */
    void add(int bit, boolean[] first, boolean[] second) {
        for (int c = 0; c < 256; c++) {
            if (!first[c]) {
                continue;
            }
            for (int x = 0; x < 256; x++) {
                if (second == null || second[x]) {
                    pairs[x << 8 | c] |= (byte) bit;
                }
            }
        }
    }

    private static final java.lang.invoke.VarHandle LONGS = java.lang.invoke.MethodHandles.byteArrayViewVarHandle(
            long[].class, java.nio.ByteOrder.LITTLE_ENDIAN);

    /**
     * Into {@code bits[k]}, for each of the {@code words} words {@code b[from + 8k, from + 8k + 8)}: the searches
     * that may find a start at one of its eight positions (the byte after the word must be in {@code b}). One load
     * of the word and one table read per byte, whatever the number of searches.
     */
    void classify(byte[] b, int from, int words, byte[] bits) {
        final byte[] p = pairs;
        for (int k = 0; k < words; k++) {
            int s = from + 8 * k;
            long x = (long) LONGS.get(b, s);
            // The pairs at even positions are x's 16-bit lanes; those at odd ones, the lanes of x moved one byte on
            // with the next word's first byte on top.
            long y = x >>> 8 | (long) b[s + 8] << 56;
            int hits = p[(int) x & 0xFFFF] | p[(int) (x >>> 16) & 0xFFFF] | p[(int) (x >>> 32) & 0xFFFF]
                    | p[(int) (x >>> 48)] | p[(int) y & 0xFFFF] | p[(int) (y >>> 16) & 0xFFFF]
                    | p[(int) (y >>> 32) & 0xFFFF] | p[(int) (y >>> 48)];
            bits[k] = (byte) hits;
        }
    }
}
