package io.meshguard.dlp.detect;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Finds where a match could start: a byte of the first set followed by a byte of the second set (a keyword's or a
 * pattern literal's first two bytes). When both sets are small (up to three byte values each, e.g. {@code c C} then
 * {@code o O}) the search runs eight positions at a time with word arithmetic, so text without such a pair costs a
 * few operations per eight bytes instead of a table lookup per byte; otherwise it uses the tables.
 */
final class ByteFinder {
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class,
            ByteOrder.LITTLE_ENDIAN);
    private static final long ONES = 0x0101010101010101L;
    private static final long HIGHS = 0x8080808080808080L;
    private static final int MAX_VALUES = 3;

    private final boolean[] first;
    private final boolean[] second;
    private final boolean swar;
    private final boolean anySecond;
    // Up to three broadcast byte values per set; a smaller set repeats its last value.
    private final long f0;
    private final long f1;
    private final long f2;
    private final long s0;
    private final long s1;
    private final long s2;

    /** @param second bytes that may follow; null when any byte may */
    ByteFinder(boolean[] first, boolean[] second) {
        this.first = first.clone();
        this.second = second == null ? all() : second.clone();
        long[] f = words(first);
        long[] s = second == null ? new long[0] : words(second);
        this.swar = f != null && f.length > 0 && s != null;
        this.anySecond = s == null || s.length == 0;
        long[] ff = padded(f);
        long[] ss = padded(s);
        f0 = ff[0];
        f1 = ff[1];
        f2 = ff[2];
        s0 = ss[0];
        s1 = ss[1];
        s2 = ss[2];
    }

    private static long[] padded(long[] w) {
        long[] out = new long[MAX_VALUES];
        for (int k = 0; k < MAX_VALUES; k++) {
            out[k] = w == null || w.length == 0 ? 0 : w[Math.min(k, w.length - 1)];
        }
        return out;
    }

    private static boolean[] all() {
        boolean[] a = new boolean[256];
        java.util.Arrays.fill(a, true);
        return a;
    }

    /** The set as broadcast words, or null when it is too large for word arithmetic. */
    private static long[] words(boolean[] set) {
        int count = 0;
        for (boolean b : set) {
            count += b ? 1 : 0;
        }
        if (count > MAX_VALUES) {
            return null;
        }
        long[] out = new long[count];
        int k = 0;
        for (int c = 0; c < 256; c++) {
            if (set[c]) {
                out[k++] = ONES * c;
            }
        }
        return out;
    }

    /** High bit set in each byte of {@code x} equal to a, b or c (and possibly in bytes above such a byte). */
    private static long matches(long x, long a, long b, long c) {
        long ya = x ^ a;
        long yb = x ^ b;
        long yc = x ^ c;
        return ((ya - ONES) & ~ya | (yb - ONES) & ~yb | (yc - ONES) & ~yc) & HIGHS;
    }

    /**
     * The first index {@code i} in {@code [from, to)} with {@code b[i]} in the first set and {@code b[i + 1]} in the
     * second (or {@code i + 1 == to}: the next byte is not known yet), or {@code to}.
     */
    int next(byte[] b, int from, int to) {
        int i = from;
        if (swar) {
            while (i + 9 <= to) {
                long hit = matches((long) LONGS.get(b, i), f0, f1, f2);
                if (hit != 0 && !anySecond) {
                    hit &= matches((long) LONGS.get(b, i + 1), s0, s1, s2);
                }
                if (hit != 0) {
                    break; // a candidate among these eight positions (a superset is flagged): check them one by one
                }
                i += 8;
            }
        }
        while (i < to && !(first[b[i] & 0xff] && (i + 1 == to || second[b[i + 1] & 0xff]))) {
            i++;
        }
        return i;
    }
}
