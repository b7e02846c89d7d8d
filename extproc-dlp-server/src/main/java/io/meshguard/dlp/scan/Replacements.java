package io.meshguard.dlp.scan;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds the bytes that replace one rule's findings. The rule's fixed text (the redaction, the parts of a hash
 * template around the hash) is encoded once: dense text redacts or hashes a value every few dozen bytes.
 */
final class Replacements {
    private static final String HASH = "{hash}";
    private static final int HASH_CHARS = 16;

    private final Action action;
    /** REDACT: the whole replacement. HASH: the template's text between (and around) its hash places. */
    private final byte[][] parts;

    Replacements(Action action, String detector) {
        this.action = action;
        String text = action.template().replace("{detector}", detector);
        List<byte[]> between = new ArrayList<>();
        if (action.kind() == ActionKind.HASH) {
            int from = 0;
            for (int at = text.indexOf(HASH); at >= 0; at = text.indexOf(HASH, from)) {
                between.add(text.substring(from, at).getBytes(StandardCharsets.UTF_8));
                from = at + HASH.length();
            }
            between.add(text.substring(from).getBytes(StandardCharsets.UTF_8));
        } else {
            between.add(text.getBytes(StandardCharsets.UTF_8));
        }
        this.parts = between.toArray(byte[][]::new);
    }

    /**
     * The replacement of the value {@code b[off, off + len)} whose HMAC is {@code hmacHex}. A redaction is the same
     * shared array every time: {@link ScanOutput#replace} reads it during the call only.
     */
    byte[] of(byte[] b, int off, int len, String hmacHex) {
        return switch (action.kind()) {
            case MASK -> mask(b, off, len, action.keepLast(), action.maskChar());
            case REDACT -> parts[0];
            case HASH -> withHash(hmacHex);
            case ALERT, BLOCK -> java.util.Arrays.copyOfRange(b, off, off + len);
        };
    }

    private byte[] withHash(String hmacHex) {
        int len = (parts.length - 1) * HASH_CHARS;
        for (byte[] p : parts) {
            len += p.length;
        }
        byte[] out = new byte[len];
        int n = 0;
        for (int k = 0; k < parts.length; k++) {
            if (k > 0) {
                for (int c = 0; c < HASH_CHARS; c++) {
                    out[n++] = (byte) hmacHex.charAt(c);
                }
            }
            System.arraycopy(parts[k], 0, out, n, parts[k].length);
            n += parts[k].length;
        }
        return out;
    }

    /**
     * Masks letters, digits and any non-ASCII character, keeping the last {@code keepLast} of them and every ASCII
     * separator, so {@code 4111-1111-1111-1111} becomes {@code ****-****-****-1111}.
     */
    static byte[] mask(byte[] b, int off, int len, int keepLast, char maskChar) {
        // The result is never longer than the value (see below).
        byte[] out = new byte[len];
        if (len >= 8 && maskAscii(b, off, len, keepLast, maskChar, out)) {
            return out;
        }
        int maskable = 0;
        int any = 0;
        for (int i = off; i < off + len; i++) {
            any |= b[i];
            maskable += MASKABLE_START[b[i] & 0xff];
        }
        if (any >= 0) {
            // ASCII values shorter than a word: one byte per character, the result as long as the value. Without a
            // branch per byte: values mix digits and separators unpredictably.
            int masked = maskable - keepLast;
            for (int k = 0; k < len; k++) {
                byte x = b[off + k];
                int m = MASKABLE_START[x & 0xff];
                out[k] = (masked > 0) & (m != 0) ? (byte) maskChar : x;
                masked -= m;
            }
            return out;
        }
        // Each character becomes at most as many bytes as it had: the result is never longer than the value. (What
        // maskAscii wrote before it met a non-ASCII byte is overwritten or cut off.)
        int n = 0;
        int seen = 0;
        int i = off;
        while (i < off + len) {
            int cpLen = Math.min(codePointLength(b[i]), off + len - i);
            if (isMaskableStart(b[i])) {
                seen++;
                if (seen <= maskable - keepLast) {
                    out[n++] = (byte) maskChar; // the mask is written as one byte (an ASCII character)
                    i += cpLen;
                    continue;
                }
            }
            System.arraycopy(b, i, out, n, cpLen);
            n += cpLen;
            i += cpLen;
        }
        return n == len ? out : java.util.Arrays.copyOf(out, n);
    }

    // ---- ASCII values of eight bytes or more, eight bytes at a time ----
    //
    // Every finding of a masking rule is masked, and the per-byte loops above cost as much as the rest of writing a
    // finding out. On ASCII bytes whether a byte is masked depends only on its index: it is a letter or digit before
    // the "cut", the index just after the last one masked. The words are read from the end, where the cut is found
    // (past the last keepLast letters and digits), each masked and written as soon as it is read; a value whose length
    // is no multiple of eight starts with a word that overlaps the one after it instead of a loop over the first
    // bytes, and the bytes in both are masked alike both times (by index). Words are read only inside the value.

    private static final java.lang.invoke.VarHandle LONGS = java.lang.invoke.MethodHandles.byteArrayViewVarHandle(
            long[].class, java.nio.ByteOrder.LITTLE_ENDIAN);
    private static final long ONES = 0x0101010101010101L;
    private static final long HIGH = 0x8080808080808080L;

    /**
     * Writes the masked ASCII value {@code b[off, off + len)}, {@code len >= 8}, to {@code out[0, len)}; false, with
     * {@code out} left unfinished, when the value is not ASCII.
     */
    private static boolean maskAscii(byte[] b, int off, int len, int keepLast, char maskChar, byte[] out) {
        long fill = ONES * (maskChar & 0xff);
        int toKeep = Math.max(0, keepLast); // letters and digits still to pass, from the end, before the last masked
        int cut = 0; // 0 until found: the words after the cut, read first, have nothing masked
        boolean found = false;
        for (int q = len - 8; q > -8; q -= 8) {
            int at = Math.max(q, 0);
            long x = (long) LONGS.get(b, off + at);
            if ((x & HIGH) != 0) {
                return false;
            }
            long flags = maskableAscii(x);
            if (!found) {
                long valid = q >= 0 ? -1L : -1L >>> (-q << 3); // the first word: its low q + 8 bytes are new
                long own = flags & valid;
                int count = Long.bitCount(own);
                if (count > toKeep) {
                    // The last masked one is the (toKeep + 1)-th highest flag: drop the toKeep above it (< 8).
                    for (int k = 0; k < toKeep; k++) {
                        own &= ~Long.highestOneBit(own);
                    }
                    cut = at + ((63 - Long.numberOfLeadingZeros(own)) >>> 3) + 1;
                    found = true;
                } else {
                    toKeep -= count;
                }
            }
            int before = Math.max(0, Math.min(8, cut - at)); // bytes of this word before the cut
            long inCut = before == 8 ? -1L : (1L << (before << 3)) - 1;
            long m = (flags >>> 7) * 0xff & inCut; // the masked bytes, all ones
            LONGS.set(out, at, x & ~m | fill & m);
        }
        return true;
    }

    /**
     * The high bit of each byte of {@code x} (all below 0x80) that is a letter or digit: in {@code '0'..'9'}, or
     * with the 0x20 bit set in {@code 'a'..'z'} (upper and lower case alike, and nothing else). A range test per
     * byte without carries between bytes: a 7-bit value plus at most 0x80 stays below 0x100.
     */
    static long maskableAscii(long x) {
        long letters = x | ONES * 0x20;
        long digit = (x + ONES * (0x80 - '0')) & ~(x + ONES * (0x7F - '9'));
        long letter = (letters + ONES * (0x80 - 'a')) & ~(letters + ONES * (0x7F - 'z'));
        return (digit | letter) & HIGH;
    }

    /** 1 for the bytes {@link #isMaskableStart} accepts, else 0. */
    private static final byte[] MASKABLE_START = new byte[256];

    static {
        for (int c = 0; c < 256; c++) {
            MASKABLE_START[c] = (byte) (isMaskableStart((byte) c) ? 1 : 0);
        }
    }

    private static boolean isMaskableStart(byte x) {
        int c = x & 0xff;
        if (c >= 0x80) {
            return (c & 0xC0) != 0x80; // a lead byte: one non-ASCII character
        }
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }

    private static int codePointLength(byte x) {
        int c = x & 0xff;
        if (c < 0x80 || (c & 0xC0) == 0x80) {
            return 1;
        }
        return c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    }
}
