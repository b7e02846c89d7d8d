package io.meshguard.dlp.scan;

/**
 * A decided finding. Carries no raw value: only where, how long, how sure, what was done, and a keyed hash of the
 * value (HMAC-SHA256 with the tenant's key, hex) so repeated leaks of the same value can be correlated.
 *
 * @param detector detector name
 * @param action action taken
 * @param start absolute start offset in the scanned text
 * @param end absolute end offset (exclusive)
 * @param confidence final confidence
 * @param valueHmac hex HMAC of the value
 * @param chars length of the value in Unicode code points (what audit events, {@code dlp scan} and the docs call
 *     "length"; offsets are UTF-8 byte offsets, so {@code end - start} would count 3 per Korean syllable)
 */
public record Finding(
        String detector, ActionKind action, long start, long end, double confidence, String valueHmac, long chars) {
    /** Length of the matched value in Unicode code points. */
    public long length() {
        return chars;
    }

    /** Length of the matched value in UTF-8 bytes (offsets are byte offsets). */
    public long byteLength() {
        return end - start;
    }

    /**
     * Code points in {@code b[off..off+len)}, UTF-8: every byte that is not a continuation byte starts one. Counted
     * eight bytes at a time (every finding is counted for its audit record): a continuation byte has its top bit
     * set and the next one clear. The bytes after the last whole word, when {@code len >= 8}, are the top of the word
     * that ends the value (read inside it), its lower bytes counted already and left out.
     */
    public static long codePoints(byte[] b, int off, int len) {
        long n = len;
        int i = off;
        int end = off + len;
        if (len < 8) {
            for (; i < end; i++) {
                if ((b[i] & 0xC0) == 0x80) {
                    n--;
                }
            }
            return n;
        }
        if (len <= 24) {
            // The first, middle and last words cover the value (ValueHasher.middleWord), each byte counted once:
            // the middle word's bytes below 8 and the last word's below the middle word's end are left out. No loop
            // whose round count changes with the kind of value from one finding to the next.
            int m = ValueHasher.middleWord(len);
            return n
                    - Long.bitCount(continuations((long) LONGS.get(b, off)))
                    - Long.bitCount(continuations((long) LONGS.get(b, off + m)) & bytesFrom(8 - m))
                    - Long.bitCount(continuations((long) LONGS.get(b, end - 8)) & bytesFrom(m + 16 - len));
        }
        for (; i + 8 <= end; i += 8) {
            n -= Long.bitCount(continuations((long) LONGS.get(b, i)));
        }
        if (i < end) {
            int counted = 8 - (end - i); // 1 to 7 low bytes of the last word
            n -= Long.bitCount(continuations((long) LONGS.get(b, end - 8)) & -1L << (counted << 3));
        }
        return n;
    }

    /** Every bit of bytes {@code k} to 7 of a word, {@code 0 <= k <= 8} (none for 8: two shifts, as 64 is 0). */
    private static long bytesFrom(int k) {
        return -1L << (k << 2) << (k << 2);
    }

    /** The high bit of each continuation byte of {@code x}. */
    private static long continuations(long x) {
        return x & ~(x << 1) & 0x8080808080808080L;
    }

    private static final java.lang.invoke.VarHandle LONGS =
            java.lang.invoke.MethodHandles.byteArrayViewVarHandle(long[].class, java.nio.ByteOrder.LITTLE_ENDIAN);
}
