package io.meshguard.dlp.detect;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Finds the next byte of a set. Sets of up to three byte values (a keyword list's first letters, a pattern's first
 * literal) are searched eight bytes at a time with word arithmetic, so a pass over text without them costs a few
 * operations per eight bytes instead of a table lookup per byte; larger sets use a table.
 */
final class ByteFinder {
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class,
            ByteOrder.LITTLE_ENDIAN);
    private static final long ONES = 0x0101010101010101L;
    private static final long HIGHS = 0x8080808080808080L;

    private final boolean[] set;
    private final long[] patterns;

    ByteFinder(boolean[] set) {
        this.set = set.clone();
        int count = 0;
        for (boolean b : set) {
            count += b ? 1 : 0;
        }
        if (count > 3) {
            patterns = null;
        } else {
            patterns = new long[count];
            int k = 0;
            for (int c = 0; c < 256; c++) {
                if (set[c]) {
                    patterns[k++] = ONES * c;
                }
            }
        }
    }

    /** The first index in {@code [from, to)} whose byte is in the set, or {@code to}. */
    int next(byte[] b, int from, int to) {
        int i = from;
        if (patterns != null) {
            long[] p = patterns;
            while (i + 8 <= to) {
                long x = (long) LONGS.get(b, i);
                long hit = 0;
                for (long v : p) {
                    long y = x ^ v;
                    hit |= (y - ONES) & ~y & HIGHS;
                }
                if (hit != 0) {
                    break; // the hit is among these eight bytes; the loop below finds it exactly
                }
                i += 8;
            }
        }
        while (i < to && !set[b[i] & 0xff]) {
            i++;
        }
        return i;
    }
}
