package io.meshguard.dlp.detect;

/**
 * Whether the scan's byte searches (the keyword and pattern start search, the built-in pass's quiet-byte skip, the
 * context index's word starts) run a whole vector of bytes a step, through the JDK's Vector API. That API is an
 * incubator module, so it is used only when the JVM was started with {@code --add-modules jdk.incubator.vector}
 * (the launcher and the manifests do) and the CPU's preferred vectors hold at least 32 bytes; otherwise, or with
 * {@code -Dmeshguard.dlp.simd=false}, every search takes its portable path, eight bytes a step in a {@code long}.
 * Both paths give the same answers (the tests compare them on random bytes).
 */
public final class Simd {
    /** Bytes per step of the vector paths (32 or 64), or 0 when the portable paths run. */
    public static final int LANES = lanes();

    private Simd() {}

    private static int lanes() {
        if (!Boolean.parseBoolean(System.getProperty("meshguard.dlp.simd", "true"))
                || ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            return 0; // SimdKernels, which needs the module, is never loaded
        }
        return SimdKernels.LANES >= 32 ? SimdKernels.LANES : 0;
    }

    /** Bit k set where {@code b[i + k]} is an ASCII letter; only when {@link #LANES} is not 0. */
    public static long asciiLetters(byte[] b, int i) {
        return SimdKernels.asciiLetters(b, i);
    }

    /** Bit k set where {@code b[i + k]} is a UTF-8 lead byte; only when {@link #LANES} is not 0. */
    public static long leadBytes(byte[] b, int i) {
        return SimdKernels.leadBytes(b, i);
    }

    /**
     * Bit k set where {@code b[i + k]} starts a UTF-8 character (is no continuation byte); only when {@link #LANES} is
     * not 0.
     */
    public static long charStarts(byte[] b, int i) {
        return SimdKernels.charStarts(b, i);
    }

    /**
     * Bit k set where {@code b[i + k]} is one of {@code \n \r , [ ] { }}, the bytes that may cut a context window; only
     * when {@link #LANES} is not 0.
     */
    public static long windowCuts(byte[] b, int i) {
        return SimdKernels.windowCuts(b, i);
    }

    /**
     * {@link TriggerTable}'s candidate starts in {@code b[i, i + LANES)} (reads one byte more); only when
     * {@link #LANES} is not 0.
     */
    static long triggerStarts(byte[] b, int i, byte[] tables) {
        return SimdKernels.triggerStarts(b, i, tables);
    }

    /** {@link TriggerTable}'s token bytes in {@code b[i, i + LANES)}; only when {@link #LANES} is not 0. */
    static long triggerTokens(byte[] b, int i, byte[] tables) {
        return SimdKernels.triggerTokens(b, i, tables);
    }

    private static final java.lang.invoke.VarHandle LONGS =
            java.lang.invoke.MethodHandles.byteArrayViewVarHandle(long[].class, java.nio.ByteOrder.LITTLE_ENDIAN);
    private static final long ONES = 0x0101010101010101L;
    private static final long HIGHS = 0x8080808080808080L;
    private static final long QUOTES = ONES * '"';
    private static final long BACKSLASHES = ONES * '\\';

    /**
     * The first index in {@code [from, to)} holding {@code "} or {@code \}, or {@code to}: a JSON string's plain
     * run, the first eight bytes in a {@code long}, then a vector a step (or eight bytes a step in a {@code long} on the
     * portable path), then byte by byte.
     */
    public static int quoteOrBackslash(byte[] b, int from, int to) {
        int i = from;
        if (i + 8 <= to) {
            // Most JSON keys and short values end within eight bytes: one word answers before any vector is loaded.
            int k = quoteOrBackslashIn((long) LONGS.get(b, i));
            if (k < 8) {
                return i + k;
            }
            i += 8;
        }
        if (LANES > 0) {
            for (; i + LANES <= to; i += LANES) {
                long hit = SimdKernels.quotesOrBackslashes(b, i);
                if (hit != 0) {
                    return i + Long.numberOfTrailingZeros(hit);
                }
            }
        }
        for (; i + 8 <= to; i += 8) {
            int k = quoteOrBackslashIn((long) LONGS.get(b, i));
            if (k < 8) {
                return i + k;
            }
        }
        while (i < to && b[i] != '"' && b[i] != '\\') {
            i++;
        }
        return i;
    }

    /** The index of the first {@code "} or {@code \} among the eight bytes of {@code x} (little-endian), else 8. */
    private static int quoteOrBackslashIn(long x) {
        return firstOfTwo(x, QUOTES, BACKSLASHES);
    }

    /**
     * The index of the first byte of {@code x} (little-endian) equal to a byte of {@code a} or of {@code b} (each a
     * byte repeated eight times), else 8.
     */
    private static int firstOfTwo(long x, long a, long b) {
        long p = x ^ a;
        long q = x ^ b;
        // a zero byte in p or q (the classic has-zero test; exact for the lowest one, which is all we use)
        long hit = ((p - ONES) & ~p | (q - ONES) & ~q) & HIGHS;
        return Long.numberOfTrailingZeros(hit) >>> 3;
    }

    private static final long LFS = ONES * '\n';
    private static final long CRS = ONES * '\r';

    /**
     * The first index in {@code [from, to)} holding a line feed or a carriage return, or {@code to}: an event stream's
     * line (an LLM stream's {@code data:} lines are a hundred bytes and more), a vector a step (or eight bytes a step
     * in a {@code long} on the portable path), then byte by byte.
     */
    public static int lineEnd(byte[] b, int from, int to) {
        int i = from;
        if (LANES > 0) {
            for (; i + LANES <= to; i += LANES) {
                long hit = SimdKernels.lineEnds(b, i);
                if (hit != 0) {
                    return i + Long.numberOfTrailingZeros(hit);
                }
            }
        }
        for (; i + 8 <= to; i += 8) {
            int k = firstOfTwo((long) LONGS.get(b, i), LFS, CRS);
            if (k < 8) {
                return i + k;
            }
        }
        while (i < to && b[i] != '\n' && b[i] != '\r') {
            i++;
        }
        return i;
    }

    /**
     * The first index in {@code [from, to)} holding {@code v}, or {@code to}: a vector a step (or eight bytes a step
     * in a {@code long}), then byte by byte.
     */
    public static int indexOf(byte[] b, int from, int to, byte v) {
        int i = from;
        if (LANES > 0) {
            for (; i + LANES <= to; i += LANES) {
                long hit = SimdKernels.equal(b, i, v);
                if (hit != 0) {
                    return i + Long.numberOfTrailingZeros(hit);
                }
            }
        }
        long pattern = ONES * (v & 0xff);
        for (; i + 8 <= to; i += 8) {
            long x = (long) LONGS.get(b, i) ^ pattern;
            long hit = (x - ONES) & ~x & HIGHS;
            if (hit != 0) {
                return i + (Long.numberOfTrailingZeros(hit) >>> 3);
            }
        }
        while (i < to && b[i] != v) {
            i++;
        }
        return i;
    }

    /** How the searches run, for the startup log: "64-byte vectors" or "portable (...)". */
    public static String describe() {
        if (LANES > 0) {
            return LANES + "-byte vectors";
        }
        return ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()
                ? "portable (start the JVM with --add-modules jdk.incubator.vector for vector searches)"
                : "portable";
    }
}
