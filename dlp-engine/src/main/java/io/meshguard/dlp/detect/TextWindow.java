package io.meshguard.dlp.detect;

/**
 * The bytes of one text stream that a scan round may look at: a slice of the stream starting at absolute offset
 * {@link #base()}, plus whether the stream has ended. Recognizers read through {@link #at(int)}, which refuses to
 * guess about bytes that have not arrived yet; that is what makes every decision independent of how the stream
 * was cut into chunks.
 */
public final class TextWindow {
    private byte[] bytes = new byte[256];
    private long base;
    private int length;
    private boolean complete;
    /**
     * The start map of this round ({@link #mapStarts}): per 8-byte word from buffer index {@link #mapFrom}, the
     * searches that may find a start in it; {@link #mapWords} 0 when there is none (it is dropped whenever the bytes
     * move or grow).
     */
    private byte[] map = new byte[0];

    private int mapFrom;
    private int mapWords;

    /** The raw array; valid indexes are {@code [0, length())}. */
    public byte[] bytes() {
        return bytes;
    }

    /** Absolute stream offset of {@code bytes()[0]}. */
    public long base() {
        return base;
    }

    /** Number of valid bytes. */
    public int length() {
        return length;
    }

    /** True once no more bytes will follow. */
    public boolean complete() {
        return complete;
    }

    /**
     * The byte at buffer index {@code i} as 0..255, or -1 before the start of the stream and after its end.
     *
     * @throws NeedMore when {@code i} is past the bytes received so far and the stream has not ended
     */
    public int at(int i) {
        // One unsigned test for the common case, 0 <= i < length (a negative i compares as a huge one): the
        // recognizers' walks read through here byte by byte.
        if (Integer.compareUnsigned(i, length) < 0) {
            return bytes[i] & 0xff;
        }
        if (i < 0) {
            if (base + i < 0) {
                return -1;
            }
            throw new IllegalStateException("read before the retained context at " + (base + i));
        }
        if (complete) {
            return -1;
        }
        throw NeedMore.INSTANCE;
    }

    /** Buffer index of an absolute offset. */
    public int index(long absolute) {
        return (int) (absolute - base);
    }

    public void append(byte[] data, int off, int len) {
        if (complete) {
            throw new IllegalStateException("text already complete");
        }
        ensure(length + len);
        System.arraycopy(data, off, bytes, length, len);
        length += len;
        mapWords = 0;
    }

    /**
     * Classifies the words of {@code [from, length())} once for every search of {@code table} ({@link
     * StartTable#classify}), for this round's {@link #skip}s: the words up to the last one whose next byte has
     * arrived. Positions before {@code from} and after those words are not mapped; {@link #skip} moves over none.
     */
    public void mapStarts(StartTable table, int from) {
        int words = Math.max(0, (length - 1 - from) / 8);
        if (map.length < words + 8) {
            map = new byte[Math.max(words + 8, map.length * 2)];
        }
        if (words > 0) {
            table.classify(bytes, from, words, map);
        }
        java.util.Arrays.fill(map, words, Math.min(map.length, words + 8), (byte) 0);
        mapFrom = from;
        mapWords = words;
    }

    /** Whether this round's words are mapped ({@link #mapStarts}). */
    boolean mapped() {
        return mapWords > 0;
    }

    private static final java.lang.invoke.VarHandle LONGS =
            java.lang.invoke.MethodHandles.byteArrayViewVarHandle(long[].class, java.nio.ByteOrder.LITTLE_ENDIAN);
    private static final long ONES = 0x0101010101010101L;
    private static final long HIGHS = 0x8080808080808080L;

    /**
     * The first buffer index from {@code from} holding {@code v}, or {@link #length()}: over the words this round's
     * map clears for search {@code bit} (whose starts are {@code v} alone), eight bytes a step through the others.
     */
    int indexOf(int from, byte v, int bit) {
        return mapped() ? indexOfMapped(from, v, bit) : Simd.indexOf(bytes, from, length, v);
    }

    private int indexOfMapped(int from, byte v, int bit) {
        int i = from;
        long pattern = ONES * (v & 0xff);
        while (true) {
            i = skip(i, bit);
            if (i + 8 > length) {
                return Simd.indexOf(bytes, i, length, v);
            }
            long x = (long) LONGS.get(bytes, i) ^ pattern;
            long hit = (x - ONES) & ~x & HIGHS;
            if (hit != 0) {
                return i + (Long.numberOfTrailingZeros(hit) >>> 3);
            }
            i += 8;
        }
    }

    /**
     * The first index from {@code i} at which search {@code bit} of the mapped table may find a start, as far as the
     * map tells: {@code i} itself when its word may hold one or is not mapped, else the start of the next word that
     * may, or the end of the mapped words. No start of that search lies in {@code [i, skip(i))}; eight words are
     * looked at a step.
     */
    int skip(int i, int bit) {
        int k = (i - mapFrom) >> 3;
        if (i < mapFrom || k >= mapWords || (map[k] & bit) != 0) {
            return i;
        }
        final byte[] m = map;
        final long mask = ONES * (bit & 0xff);
        k++;
        // The map has eight zero bytes after its last word, so a long read there is allowed and finds nothing.
        while (k < mapWords) {
            long hit = (long) LONGS.get(m, k) & mask;
            if (hit != 0) {
                k += Long.numberOfTrailingZeros(hit) >>> 3;
                return mapFrom + 8 * Math.min(k, mapWords);
            }
            k += 8;
        }
        return mapFrom + 8 * mapWords;
    }

    /** Empties the window for a new stream starting at offset 0. */
    public void reset() {
        base = 0;
        length = 0;
        complete = false;
        mapWords = 0;
        if (bytes.length > 64 * 1024) {
            bytes = new byte[256];
        }
        if (map.length > 8 * 1024) {
            map = new byte[0]; // the map of a window as large as the one just dropped
        }
    }

    public void markComplete() {
        complete = true;
    }

    /** Drops every byte before absolute offset {@code keepFrom}. */
    public void discardBefore(long keepFrom) {
        int drop = (int) (keepFrom - base);
        if (drop <= 0) {
            return;
        }
        System.arraycopy(bytes, drop, bytes, 0, length - drop);
        length -= drop;
        base = keepFrom;
        mapWords = 0;
    }

    private void ensure(int capacity) {
        if (capacity > bytes.length) {
            bytes = java.util.Arrays.copyOf(bytes, Math.max(capacity, bytes.length * 2));
        }
    }
}
