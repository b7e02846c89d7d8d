package io.meshguard.dlp.detect;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Finds where a match could start: a byte of the first set followed by a byte of the second set (a keyword's or a
 * pattern literal's first two bytes). When both sets are small (up to three byte values each, an ASCII letter in
 * both cases counting once, e.g. {@code c C} then {@code o O}) the search runs eight positions at a time with word
 * arithmetic, so text without such a pair costs a few operations per eight bytes instead of a table lookup per
 * byte; otherwise it uses the tables.
 */
final class ByteFinder {
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class,
            ByteOrder.LITTLE_ENDIAN);
    private static final long ONES = 0x0101010101010101L;
    private static final long HIGHS = 0x8080808080808080L;
    private static final long CASE = ONES * 0x20;
    private static final int MAX_VALUES = 3;

    private final boolean[] first;
    private final boolean[] second;
    private final boolean swar;
    private final boolean anySecond;
    // Up to three tests per set: byte | or == value; a smaller set repeats its last test.
    private final long f0;
    private final long f1;
    private final long f2;
    private final long fo0;
    private final long fo1;
    private final long fo2;
    private final long s0;
    private final long s1;
    private final long s2;
    private final long so0;
    private final long so1;
    private final long so2;

    /** @param second bytes that may follow; null when any byte may */
    ByteFinder(boolean[] first, boolean[] second) {
        this.first = first.clone();
        this.second = second == null ? all() : second.clone();
        long[][] f = tests(first);
        long[][] s = second == null ? new long[][] {{}, {}} : tests(second);
        this.swar = f != null && f[0].length > 0 && s != null;
        this.anySecond = s == null || s[0].length == 0;
        long[][] ff = padded(f);
        long[][] ss = padded(s);
        f0 = ff[0][0];
        f1 = ff[0][1];
        f2 = ff[0][2];
        fo0 = ff[1][0];
        fo1 = ff[1][1];
        fo2 = ff[1][2];
        s0 = ss[0][0];
        s1 = ss[0][1];
        s2 = ss[0][2];
        so0 = ss[1][0];
        so1 = ss[1][1];
        so2 = ss[1][2];
    }

    private static boolean[] all() {
        boolean[] a = new boolean[256];
        java.util.Arrays.fill(a, true);
        return a;
    }

    /**
     * The set as {values, or-masks} of broadcast words (a letter in both cases is one test: byte | 0x20 == lower
     * case), or null when it needs more than three tests.
     */
    private static long[][] tests(boolean[] set) {
        List<long[]> out = new ArrayList<>();
        for (int c = 0; c < 256; c++) {
            if (!set[c]) {
                continue;
            }
            if (c >= 'A' && c <= 'Z' && set[c + 32]) {
                continue; // tested with its lower-case form
            }
            boolean both = c >= 'a' && c <= 'z' && set[c - 32];
            out.add(new long[] {ONES * c, both ? CASE : 0});
        }
        if (out.size() > MAX_VALUES) {
            return null;
        }
        long[][] t = new long[2][out.size()];
        for (int k = 0; k < out.size(); k++) {
            t[0][k] = out.get(k)[0];
            t[1][k] = out.get(k)[1];
        }
        return t;
    }

    private static long[][] padded(long[][] t) {
        long[][] out = new long[2][MAX_VALUES];
        for (int k = 0; k < MAX_VALUES; k++) {
            for (int r = 0; r < 2; r++) {
                out[r][k] = t == null || t[0].length == 0 ? 0 : t[r][Math.min(k, t[0].length - 1)];
            }
        }
        return out;
    }

    /**
     * High bit set in each byte of {@code x} that passes one of the tests (and possibly in bytes above such a
     * byte: a superset, exact about whether there is one).
     */
    private static long matches(long x, long a, long ao, long b, long bo, long c, long co) {
        long ya = (x | ao) ^ a;
        long yb = (x | bo) ^ b;
        long yc = (x | co) ^ c;
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
                long hit = matches((long) LONGS.get(b, i), f0, fo0, f1, fo1, f2, fo2);
                if (hit != 0 && !anySecond) {
                    hit &= matches((long) LONGS.get(b, i + 1), s0, so0, s1, so1, s2, so2);
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
