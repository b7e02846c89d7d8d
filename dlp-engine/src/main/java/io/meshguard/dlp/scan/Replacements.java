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
    // finding out. On ASCII bytes whether a byte is masked depends only on its index: every letter and digit is,
    // but the last keepLast of them. Those are nearly always in the value's last eight bytes (a card's or phone's last
    // four digits), so every word is masked whole, the last one (overlapping the one before it when the length is no
    // multiple of eight, and written after it) with the last keepLast letters and digits left out: no per-byte branch
    // and no search for where the masking stops. Words are read only inside the value.

    private static final java.lang.invoke.VarHandle LONGS =
            java.lang.invoke.MethodHandles.byteArrayViewVarHandle(long[].class, java.nio.ByteOrder.LITTLE_ENDIAN);
    private static final long ONES = 0x0101010101010101L;
    private static final long HIGH = 0x8080808080808080L;

    /**
     * Writes the masked ASCII value {@code b[off, off + len)}, {@code len >= 8}, to {@code out[0, len)}; false, with
     * {@code out} left unfinished, when the value is not ASCII or its last eight bytes hold fewer than {@code
     * keepLast} letters and digits (the byte loops then do it).
     */
    private static boolean maskAscii(byte[] b, int off, int len, int keepLast, char maskChar, byte[] out) {
        long fill = ONES * (maskChar & 0xff);
        int last = len - 8;
        long any;
        if (len <= 24) {
            // The first, middle and last words cover the value (ValueHasher.middleWord; overlapping words write the
            // same bytes): no loop whose round count changes with the kind of value from one finding to the next.
            any = maskWord(b, off, 0, fill, out) | maskWord(b, off, ValueHasher.middleWord(len), fill, out);
        } else {
            any = 0;
            for (int q = 0; q < last; q += 8) {
                any |= maskWord(b, off, q, fill, out);
            }
        }
        long x = (long) LONGS.get(b, off + last);
        long flags = maskableAscii(x);
        int keep = Math.max(0, keepLast);
        int total = Long.bitCount(flags);
        if (((any | x) & HIGH) != 0 || total < keep) {
            return false;
        }
        // Kept: the flags whose count from the word's low end, themselves included, is above total - keep (each
        // byte of upTo holds that count, at most 8: adding 0x80 - (total - keep + 1) carries into no other byte).
        long upTo = (flags >>> 7) * ONES;
        long kept = (upTo + ONES * (0x80 - (total - keep + 1))) & flags;
        long m = ((flags & ~kept) >>> 7) * 0xff;
        LONGS.set(out, last, x & ~m | fill & m);
        return true;
    }

    /** Writes word {@code b[off + q, off + q + 8)} to {@code out[q, q + 8)}, every letter and digit masked; returns it. */
    private static long maskWord(byte[] b, int off, int q, long fill, byte[] out) {
        long x = (long) LONGS.get(b, off + q);
        long m = (maskableAscii(x) >>> 7) * 0xff;
        LONGS.set(out, q, x & ~m | fill & m);
        return x;
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
