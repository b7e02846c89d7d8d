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
     * Per 16-bit lane of a word (the byte at the lane's even position in the low byte of the index, as a
     * little-endian load has it; the next byte in the high one), three sets of searches: bits 0-7, those that may
     * find a start at the even position, the odd byte's test included; bits 8-15, those whose first byte the odd one
     * is; bits 16-23, those whose second byte (or any) the even one is. A start at an odd position is the 8-15 bits
     * of its lane against the 16-23 bits of the next lane, so one read per lane answers for both of its positions:
     * four reads a word instead of eight. 256 KB per policy, of which a text touches the lines of the lanes it has.
     */
    private final int[] lanes = new int[1 << 16];
    /** Per byte: the searches whose second byte (or any) it is, in bits 8-15, for the lane after a word's last. */
    private final int[] seconds = new int[256];

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
            boolean follows = second == null || second[c];
            if (follows) {
                seconds[c] |= bit << 8;
            }
            for (int x = 0; x < 256; x++) {
                if (first[c] && (second == null || second[x])) {
                    lanes[x << 8 | c] |= bit; // c at the even position, x after it
                }
                if (first[c]) {
                    lanes[c << 8 | x] |= bit << 8; // c at the odd position
                }
                if (follows) {
                    lanes[x << 8 | c] |= bit << 16; // c at the even position, after the lane before's odd byte
                }
            }
        }
    }

    private static final java.lang.invoke.VarHandle LONGS =
            java.lang.invoke.MethodHandles.byteArrayViewVarHandle(long[].class, java.nio.ByteOrder.LITTLE_ENDIAN);

    /**
     * Into {@code bits[k]}, for each of the {@code words} words {@code b[from + 8k, from + 8k + 8)}: the searches
     * that may find a start at one of its eight positions (the byte after the word must be in {@code b}). One load
     * of the word and one table read per 16-bit lane, whatever the number of searches: the next word's first lane,
     * read once, serves both words (its bits 16-23 are what {@link #seconds} has for its even byte), so only the
     * last word reads the byte after it.
     */
    void classify(byte[] b, int from, int words, byte[] bits) {
        if (words <= 0) {
            return;
        }
        final int[] l = lanes;
        long x = (long) LONGS.get(b, from);
        int e0 = l[(int) x & 0xFFFF];
        int last = words - 1;
        for (int k = 0; k < last; k++) {
            long next = (long) LONGS.get(b, from + 8 * k + 8);
            int e4 = l[(int) next & 0xFFFF];
            bits[k] = word(e0, x, e4 >>> 8);
            e0 = e4;
            x = next;
        }
        bits[last] = word(e0, x, seconds[b[from + 8 * last + 8] & 0xFF]);
    }

    /**
     * The bits of the word {@code x} whose first lane's entry is {@code e0}, given in bits 8-15 of {@code after} the
     * searches whose second byte (or any) the byte after the word is.
     */
    private byte word(int e0, long x, int after) {
        final int[] l = lanes;
        int e1 = l[(int) (x >>> 16) & 0xFFFF];
        int e2 = l[(int) (x >>> 32) & 0xFFFF];
        int e3 = l[(int) (x >>> 48)];
        // Bits 8-15 of each term: a search whose first byte is a lane's odd one and whose second is the next
        // lane's even one. Bits 0-7 of each term are a subset of the lane's even-position bits, already taken.
        int odd = e0 & e1 >>> 8 | e1 & e2 >>> 8 | e2 & e3 >>> 8 | e3 & after;
        return (byte) (e0 | e1 | e2 | e3 | odd >>> 8);
    }
}
