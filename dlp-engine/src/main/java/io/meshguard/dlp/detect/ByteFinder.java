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
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long ONES = 0x0101010101010101L;
    private static final long HIGHS = 0x8080808080808080L;
    private static final int MAX_VALUES = 3;

    private final boolean[] first;
    private final boolean[] second;
    /** Bytes that may come third, or null when any may (see {@link #withThird}). */
    private final boolean[] third;

    private final boolean swar;
    private final boolean anySecond;
    /** How many of the three tests each set really needs (1-3); the others repeat the last and are skipped. */
    private final int firstTests;

    private final int secondTests;
    private final long[][] firstTestsArray;
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
    /**
     * This search's bit in a {@link StartTable} ({@link #onBit}); two finders on one bit stop at each other's starts
     * too, which is never wrong, only slower.
     */
    private final int bit;

    /** Adds this finder's starts to {@code table}: what {@link #next} stops at, as a pair of byte sets. */
    void describeTo(TriggerTable table) {
        table.pair(first, second);
    }

    /**
     * Adds this finder to {@code table}, so that {@link #next(TextWindow, int)} skips the words the window's map
     * clears. A finder without word tests (sets too wide for them) takes no part: it would clear few words.
     */
    void describeTo(StartTable table) {
        if (swar) {
            table.add(bit, first, anySecond ? null : second);
        }
    }

    /** @param second bytes that may follow; null when any byte may */
    ByteFinder(boolean[] first, boolean[] second) {
        this(first, second, tests(first), null, StartTable.policySearch(0));
    }

    /**
     * This finder that also skips positions whose third byte is known and not in {@code third}: for a keyword
     * list whose first pair is common in prose ({@code co} in "account" and "records" for "confidential"), most
     * pair positions end there, inside the word loop, instead of in a return to the caller and a look at the
     * keywords. Every position a word of the list can start at still passes.
     */
    ByteFinder withThird(boolean[] third) {
        return new ByteFinder(first, anySecond ? null : second, firstTestsArray, third, bit);
    }

    /**
     * Finds single bytes {@code x} with {@code (x | ors[k]) == values[k]} for some {@code k} (at most three tests):
     * for sets wider than pairs of values one bit apart, e.g. every byte 0xC0-0xDF is one test (or-mask 0x1F).
     */
    static ByteFinder ofTests(int[] values, int[] ors) {
        boolean[] set = new boolean[256];
        long[][] t = new long[2][values.length];
        for (int k = 0; k < values.length; k++) {
            for (int x = 0; x < 256; x++) {
                set[x] |= (x | ors[k]) == values[k];
            }
            t[0][k] = ONES * values[k];
            t[1][k] = ONES * ors[k];
        }
        if (values.length == 0 || values.length > MAX_VALUES) {
            throw new IllegalArgumentException("one to three tests");
        }
        return new ByteFinder(set, null, t, null, StartTable.policySearch(0));
    }

    /** This finder on bit {@code bit} of a {@link StartTable} (its searches' own, to skip only its own words). */
    ByteFinder onBit(int bit) {
        // no second set stays none (a set of every byte has no word tests)
        return new ByteFinder(first, anySecond ? null : second, firstTestsArray, third, bit);
    }

    private ByteFinder(boolean[] first, boolean[] second, long[][] f, boolean[] third, int bit) {
        this.first = first.clone();
        this.second = second == null ? all() : second.clone();
        this.third = third == null ? null : third.clone();
        this.firstTestsArray = f;
        long[][] s = second == null ? new long[][] {{}, {}} : tests(second);
        this.swar = f != null && f[0].length > 0 && s != null;
        this.anySecond = s == null || s[0].length == 0;
        this.firstTests = f == null ? 0 : f[0].length;
        this.secondTests = s == null ? 0 : s[0].length;
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
        this.bit = bit;
    }

    private static boolean[] all() {
        boolean[] a = new boolean[256];
        java.util.Arrays.fill(a, true);
        return a;
    }

    /**
     * The set as {values, or-masks} of broadcast words (a letter in both cases is one test: byte | 0x20 == lower
     * case; so is any pair of values one bit apart), or null when it needs more than three tests.
     */
    private static long[][] tests(boolean[] set) {
        List<long[]> out = new ArrayList<>();
        boolean[] tested = new boolean[256];
        for (int c = 0; c < 256; c++) {
            if (!set[c] || tested[c]) {
                continue;
            }
            tested[c] = true;
            // Two values that differ in one bit are one test with that bit set in the or-mask: a letter's two cases
            // first (bit 0x20), then any other pair, e.g. the UTF-8 lead bytes 0xC2 and 0xE2.
            int bit = c >= 'A' && c <= 'Z' && set[c + 32] ? 0x20 : 0;
            for (int k = 0; bit == 0 && k < 8; k++) {
                int partner = c ^ 1 << k;
                if (set[partner] && !tested[partner] && !bothCases(set, partner)) {
                    bit = 1 << k;
                }
            }
            tested[c ^ bit] = true;
            out.add(new long[] {ONES * (c | bit), ONES * bit});
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

    /** Whether {@code v} is a letter whose other case is in the set too (the two are tested together). */
    private static boolean bothCases(boolean[] set, int v) {
        return (v >= 'a' && v <= 'z' && set[v - 32]) || (v >= 'A' && v <= 'Z' && set[v + 32]);
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

    private static final long LOW7 = 0x7F7F7F7F7F7F7F7FL;

    /**
     * High bit set in exactly the bytes of {@code x} that pass one of the first {@code tests} tests. A byte of
     * {@code y} is zero iff {@code ((y & 0x7F) + 0x7F) | y} has its high bit clear; the sum stays inside its byte,
     * so no byte disturbs its neighbours and the lowest set bit is the first match.
     */
    private static long matches(long x, int tests, long a, long ao, long b, long bo, long c, long co) {
        long ya = (x | ao) ^ a;
        long t = ((ya & LOW7) + LOW7) | ya;
        if (tests > 1) {
            long yb = (x | bo) ^ b;
            t &= ((yb & LOW7) + LOW7) | yb;
        }
        if (tests > 2) {
            long yc = (x | co) ^ c;
            t &= ((yc & LOW7) + LOW7) | yc;
        }
        return ~t & HIGHS;
    }

    /**
     * The first index {@code i} in {@code [from, to)} with {@code b[i]} in the first set and {@code b[i + 1]} in the
     * second (or {@code i + 1 == to}: the next byte is not known yet) and, for a finder {@link #withThird}, {@code
     * b[i + 2]} in the third (or {@code i + 2 >= to}), or {@code to}.
     */
    int next(byte[] b, int from, int to) {
        int i = from;
        if (swar && Simd.LANES > 0) {
            // Only where a vector and the byte after it fit: C2 inlines nextByVectors' kernel calls only while its
            // profile says they run at least about once a call, and JSON's short strings, calling it for nothing,
            // made them look cold, for prose too once both had run in one JVM (then a call per vector).
            while (i + Simd.LANES + 1 <= to) {
                i = nextByVectors(b, i, to);
                if (i + Simd.LANES + 1 > to) {
                    break; // near the end, the word loop finishes (and finds the same first position)
                }
                if (thirdFits(b, i, to)) {
                    return i;
                }
                i++;
            }
        }
        return nextByWords(b, i, to);
    }

    /**
     * {@link #next} in the window {@code t} from buffer index {@code from} to its end, moving over the words its start
     * map clears for this finder ({@link TextWindow#skip}) and testing only the others, eight positions at a time.
     * The same answer as {@code next(t.bytes(), from, t.length())}.
     */
    int next(TextWindow t, int from) {
        // small, so that it inlines into the recognizers' loops; the map's walk is a call of its own
        return swar && t.mapped() ? nextMapped(t, from) : next(t.bytes(), from, t.length());
    }

    private int nextMapped(TextWindow t, int from) {
        byte[] b = t.bytes();
        int to = t.length();
        int i = from;
        while (true) {
            i = t.skip(i, bit);
            if (i + 9 > to) {
                return nextByWords(b, i, to);
            }
            long hit = matches((long) LONGS.get(b, i), firstTests, f0, fo0, f1, fo1, f2, fo2);
            if (!anySecond) {
                hit &= matches((long) LONGS.get(b, i + 1), secondTests, s0, so0, s1, so1, s2, so2);
            }
            while (hit != 0) {
                int p = i + (Long.numberOfTrailingZeros(hit) >>> 3);
                if (thirdFits(b, p, to)) {
                    return p;
                }
                hit &= hit - 1;
            }
            i += 8;
        }
    }

    /** {@link #next} eight positions at a time, without vectors. */
    int nextByWords(byte[] b, int from, int to) {
        int i = from;
        if (swar) {
            // Fields in locals: the loop's tests are invariant, so the JIT keeps them in registers.
            final int nf = firstTests;
            final int ns = secondTests;
            final boolean any = anySecond;
            final long a0 = f0;
            final long a1 = f1;
            final long a2 = f2;
            final long ao0 = fo0;
            final long ao1 = fo1;
            final long ao2 = fo2;
            while (i + 9 <= to) {
                long hit = matches((long) LONGS.get(b, i), nf, a0, ao0, a1, ao1, a2, ao2);
                if (!any) {
                    // Always both tests: in prose a first byte ('c', a Hangul lead byte) is in most words, and a
                    // branch on it would be mispredicted about as often as taken.
                    hit &= matches((long) LONGS.get(b, i + 1), ns, s0, so0, s1, so1, s2, so2);
                }
                while (hit != 0) {
                    int p = i + (Long.numberOfTrailingZeros(hit) >>> 3); // exact: the first pair
                    if (thirdFits(b, p, to)) {
                        return p;
                    }
                    hit &= hit - 1;
                }
                i += 8;
            }
        }
        while (i < to && !(first[b[i] & 0xff] && (i + 1 == to || second[b[i + 1] & 0xff]) && thirdFits(b, i, to))) {
            i++;
        }
        return i;
    }

    /** Whether the byte two after {@code i} is unknown yet or may come third. */
    private boolean thirdFits(byte[] b, int i, int to) {
        return third == null || i + 2 >= to || third[b[i + 2] & 0xff];
    }

    /**
     * {@link #next} a vector of positions at a time (see {@link Simd}): the first pair position, or the first index
     * from which fewer than a vector of positions and the byte after them are left.
     */
    int nextByVectors(byte[] b, int from, int to) {
        final int lanes = Simd.LANES;
        int i = from;
        while (i + lanes + 1 <= to) {
            long hit = SimdKernels.anyOf(b, i, (byte) fo0, (byte) f0, (byte) fo1, (byte) f1, (byte) fo2, (byte) f2);
            if (!anySecond) {
                hit &= SimdKernels.anyOf(b, i + 1, (byte) so0, (byte) s0, (byte) so1, (byte) s1, (byte) so2, (byte) s2);
            }
            if (hit != 0) {
                return i + Long.numberOfTrailingZeros(hit);
            }
            i += lanes;
        }
        return i;
    }
}
