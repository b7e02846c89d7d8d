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
        int maskable = 0;
        int any = 0;
        for (int i = off; i < off + len; i++) {
            any |= b[i];
            maskable += MASKABLE_START[b[i] & 0xff];
        }
        if (any >= 0) {
            // ASCII only (most values): one byte per character, the result as long as the value. Without a branch
            // per byte: values mix digits and separators unpredictably.
            byte[] out = new byte[len];
            int masked = maskable - keepLast;
            for (int k = 0; k < len; k++) {
                byte x = b[off + k];
                int m = MASKABLE_START[x & 0xff];
                out[k] = (masked > 0) & (m != 0) ? (byte) maskChar : x;
                masked -= m;
            }
            return out;
        }
        // Each character becomes at most as many bytes as it had: the result is never longer than the value.
        byte[] out = new byte[len];
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
