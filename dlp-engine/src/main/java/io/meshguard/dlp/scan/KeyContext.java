package io.meshguard.dlp.scan;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * A JSON key (or field name) as context for its value. The key is read as words: camelCase and PascalCase humps,
 * snake_case, kebab-case, dots and any other ASCII punctuation separate words, and ASCII letters are compared in lower
 * case, so {@code cardNumber}, {@code card_number}, {@code Card-Number} and {@code CARD_NUMBER} all read as
 * {@code card number}, and {@code APIKey} as {@code api key}. Context words are read the same way ({@code api_key}
 * is {@code api key}), then matched as in text: ASCII words on word boundaries, other words (Korean) anywhere.
 */
public final class KeyContext {
    /** Keys longer than this (UTF-8 bytes, decoded) are no context: a label is short. */
    public static final int MAX_KEY_BYTES = 256;

    private KeyContext() {}

    /** The key as words: lower-case ASCII, one space between words, none at either end; empty when too long. */
    public static byte[] words(String key) {
        byte[] b = key.getBytes(StandardCharsets.UTF_8);
        if (b.length > MAX_KEY_BYTES) {
            return new byte[0];
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(b.length + 8);
        boolean space = false;
        for (int i = 0; i < b.length; i++) {
            int c = b[i] & 0xff;
            boolean upper = c >= 'A' && c <= 'Z';
            if (c < 0x80 && !upper && !(c >= 'a' && c <= 'z') && !(c >= '0' && c <= '9')) {
                space = out.size() > 0;
                continue;
            }
            if (upper && i > 0 && out.size() > 0) {
                int prev = b[i - 1] & 0xff;
                boolean prevLowerOrDigit = (prev >= 'a' && prev <= 'z') || (prev >= '0' && prev <= '9');
                boolean prevUpper = prev >= 'A' && prev <= 'Z';
                boolean nextLower = i + 1 < b.length && b[i + 1] >= 'a' && b[i + 1] <= 'z';
                // cardNumber: a hump after a lower-case letter; APIKey: the last capital of a run that starts a word.
                if (prevLowerOrDigit || (prevUpper && nextLower)) {
                    space = true;
                }
            }
            if (space) {
                out.write(' ');
                space = false;
            }
            out.write(upper ? c + 32 : c);
        }
        return out.toByteArray();
    }

    /** Whether {@code word} (already {@link #words}) occurs in {@code key}: on word boundaries when it is ASCII. */
    static boolean occurs(byte[] key, byte[] word) {
        if (word.length == 0 || word.length > key.length) {
            return false;
        }
        boolean ascii = word[0] >= 0 && word[word.length - 1] >= 0;
        for (int p = 0; p + word.length <= key.length; p++) {
            if (!java.util.Arrays.equals(key, p, p + word.length, word, 0, word.length)) {
                continue;
            }
            if (!ascii
                    || ((p == 0 || !letter(key[p - 1]))
                            && (p + word.length == key.length || !letter(key[p + word.length])))) {
                return true;
            }
        }
        return false;
    }

    private static boolean letter(byte x) {
        return x >= 'a' && x <= 'z';
    }
}
