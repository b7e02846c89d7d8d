package io.meshguard.dlp.scan;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;

/**
 * Words near a match that change its confidence: any boost word within {@code within} characters before or after
 * adds {@code boost}; any penalty word subtracts {@code penalty}. ASCII words match case-insensitively on word
 * boundaries; other words (Korean) match anywhere, since particles attach to them.
 */
public record ContextRule(List<String> boostWords, List<String> penaltyWords, int within, double boost,
        double penalty) {
    public static final ContextRule NONE = new ContextRule(List.of(), List.of(), 0, 0, 0);

    public ContextRule {
        boostWords = List.copyOf(boostWords);
        penaltyWords = List.copyOf(penaltyWords);
    }

    private static final java.util.Map<String, byte[]> NEEDLES = new java.util.concurrent.ConcurrentHashMap<>();

    private static byte[] needle(String word) {
        return NEEDLES.computeIfAbsent(word, w -> w.toLowerCase(Locale.ROOT).getBytes(StandardCharsets.UTF_8));
    }

    boolean isEmpty() {
        return boostWords.isEmpty() && penaltyWords.isEmpty();
    }

    /** Confidence change for a lower-cased context window. */
    double adjust(byte[] window, int len) {
        double delta = 0;
        if (anyPresent(boostWords, window, len)) {
            delta += boost;
        }
        if (anyPresent(penaltyWords, window, len)) {
            delta -= penalty;
        }
        return delta;
    }

    private static boolean anyPresent(List<String> words, byte[] w, int len) {
        for (String word : words) {
            byte[] needle = needle(word);
            boolean ascii = needle[0] >= 0 && needle[needle.length - 1] >= 0;
            outer:
            for (int i = 0; i + needle.length <= len; i++) {
                for (int k = 0; k < needle.length; k++) {
                    if (w[i + k] != needle[k]) {
                        continue outer;
                    }
                }
                if (ascii && ((i > 0 && letter(w[i - 1])) || (i + needle.length < len && letter(w[i + needle.length])))) {
                    continue;
                }
                return true;
            }
        }
        return false;
    }

    private static boolean letter(byte b) {
        return (b >= 'a' && b <= 'z');
    }
}
