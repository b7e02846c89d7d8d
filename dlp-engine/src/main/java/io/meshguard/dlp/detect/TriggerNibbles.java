package io.meshguard.dlp.detect;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * {@link TriggerTable}'s byte classes as nibble tables for its vector form: a class bit is set for a byte where the
 * low-nibble table and the high-nibble table both have it, so each bit stands for a rectangle of (high, low) nibbles.
 * Three classes, eight bits each: <em>start</em> (a byte that alone may start a finding), <em>first</em> and
 * <em>second</em> (a pair may start one where the first byte's and the next byte's classes share a bit), and
 * <em>token</em> (a byte of a token run). Eight rectangles may not cover a class exactly; they then cover more bytes
 * than the table names (merged), never fewer, so a vector block that flags nothing is one the byte loop clears, and
 * a flagged byte goes to the byte loop's own test.
 */
final class TriggerNibbles {
    /** Bytes of one table: 16 entries, padded to the longest vector (64 lanes). */
    static final int TABLE = 64;

    static final int START_LO = 0;
    static final int START_HI = 1;
    static final int FIRST_LO = 2;
    static final int FIRST_HI = 3;
    static final int SECOND_LO = 4;
    static final int SECOND_HI = 5;
    static final int TOKEN_LO = 6;
    static final int TOKEN_HI = 7;

    /** The eight tables, {@link #TABLE} bytes apart. */
    final byte[] tables = new byte[8 * TABLE];
    /** Whether the token rectangles are exactly the token bytes (else a run they find is checked byte by byte). */
    final boolean tokensExact;

    /** A set of bytes as one rectangle: bit h of {@code hi} and bit l of {@code lo} for byte {@code h << 4 | l}. */
    private record Rect(int hi, int lo) {
        Rect union(Rect o) {
            return new Rect(hi | o.hi, lo | o.lo);
        }

        int area() {
            return Integer.bitCount(hi) * Integer.bitCount(lo);
        }

        boolean holds(int c) {
            return (hi >>> (c >>> 4) & 1) != 0 && (lo >>> (c & 15) & 1) != 0;
        }
    }

    /** A pair class bit: the first byte's rectangle and the second byte's. */
    private record PairRect(Rect first, Rect second) {
        PairRect union(PairRect o) {
            return new PairRect(first.union(o.first), second.union(o.second));
        }

        int area() {
            return first.area() * second.area();
        }
    }

    /**
     * @param start bytes that alone may start a finding
     * @param rows for each byte that may start a pair (and is not in {@code start}), the bytes that may follow it;
     *     null for the others
     * @param token bytes of a token run
     */
    TriggerNibbles(boolean[] start, boolean[][] rows, boolean[] token) {
        put(START_LO, START_HI, merged(cover(start), Rect::union, Rect::area));
        put(FIRST_LO, FIRST_HI, SECOND_LO, SECOND_HI, merged(pairCover(rows), PairRect::union, PairRect::area));
        List<Rect> tokens = merged(cover(token), Rect::union, Rect::area);
        put(TOKEN_LO, TOKEN_HI, tokens);
        boolean exact = true;
        for (int c = 0; c < 256; c++) {
            final int b = c;
            exact &= token[c] == tokens.stream().anyMatch(r -> r.holds(b));
        }
        tokensExact = exact;
    }

    /** The exact cover of a byte set: one rectangle per distinct low-nibble set among the high nibbles. */
    private static List<Rect> cover(boolean[] set) {
        List<Rect> out = new ArrayList<>();
        for (int h = 0; h < 16; h++) {
            int lo = 0;
            for (int l = 0; l < 16; l++) {
                lo |= set[h << 4 | l] ? 1 << l : 0;
            }
            if (lo == 0) {
                continue;
            }
            int found = -1;
            for (int k = 0; k < out.size(); k++) {
                found = out.get(k).lo == lo ? k : found;
            }
            if (found < 0) {
                out.add(new Rect(1 << h, lo));
            } else {
                out.set(found, new Rect(out.get(found).hi | 1 << h, lo));
            }
        }
        return out;
    }

    /** Each group of first bytes with the same followers: their exact cover, each with the followers' bounds. */
    private static List<PairRect> pairCover(boolean[][] rows) {
        List<PairRect> out = new ArrayList<>();
        boolean[] done = new boolean[256];
        for (int a = 0; a < 256; a++) {
            if (rows[a] == null || done[a]) {
                continue;
            }
            boolean[] firsts = new boolean[256];
            for (int x = a; x < 256; x++) {
                if (rows[x] != null && Arrays.equals(rows[x], rows[a])) {
                    firsts[x] = true;
                    done[x] = true;
                }
            }
            Rect second = new Rect(0, 0);
            for (Rect r : cover(rows[a])) {
                second = second.union(r);
            }
            for (Rect first : cover(firsts)) {
                out.add(new PairRect(first, second));
            }
        }
        return out;
    }

    /** At most eight, by merging the two whose union is smallest until they fit. */
    private static <R> List<R> merged(
            List<R> rects, java.util.function.BinaryOperator<R> union, java.util.function.ToIntFunction<R> area) {
        List<R> out = new ArrayList<>(rects);
        while (out.size() > 8) {
            int bestI = 0;
            int bestJ = 1;
            int best = Integer.MAX_VALUE;
            for (int i = 0; i < out.size(); i++) {
                for (int j = i + 1; j < out.size(); j++) {
                    int a = area.applyAsInt(union.apply(out.get(i), out.get(j)));
                    if (a < best) {
                        best = a;
                        bestI = i;
                        bestJ = j;
                    }
                }
            }
            R u = union.apply(out.get(bestI), out.get(bestJ));
            out.remove(bestJ);
            out.set(bestI, u);
        }
        return out;
    }

    private void put(int loTable, int hiTable, List<Rect> rects) {
        for (int bit = 0; bit < rects.size(); bit++) {
            setBits(loTable, rects.get(bit).lo, bit);
            setBits(hiTable, rects.get(bit).hi, bit);
        }
    }

    private void put(int firstLo, int firstHi, int secondLo, int secondHi, List<PairRect> rects) {
        for (int bit = 0; bit < rects.size(); bit++) {
            PairRect r = rects.get(bit);
            setBits(firstLo, r.first.lo, bit);
            setBits(firstHi, r.first.hi, bit);
            setBits(secondLo, r.second.lo, bit);
            setBits(secondHi, r.second.hi, bit);
        }
    }

    private void setBits(int table, int nibbles, int bit) {
        for (int n = 0; n < 16; n++) {
            if ((nibbles >>> n & 1) != 0) {
                tables[table * TABLE + n] |= (byte) (1 << bit);
            }
        }
    }
}
