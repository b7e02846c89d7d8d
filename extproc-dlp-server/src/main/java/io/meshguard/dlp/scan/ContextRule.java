package io.meshguard.dlp.scan;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Words near a match that change its confidence: any boost word within {@code within} characters before or after
 * adds {@code boost}; any penalty word subtracts {@code penalty}. ASCII words match case-insensitively on word
 * boundaries; other words (Korean) match anywhere, since particles attach to them.
 */
public record ContextRule(List<String> boostWords, List<String> penaltyWords, int within, double boost,
        double penalty) {
    public static final ContextRule NONE = new ContextRule(List.of(), List.of(), 0, 0, 0);

    private static final Map<List<String>, Needles> CACHE = new java.util.concurrent.ConcurrentHashMap<>();

    public ContextRule {
        boostWords = List.copyOf(boostWords);
        penaltyWords = List.copyOf(penaltyWords);
    }

    boolean isEmpty() {
        return boostWords.isEmpty() && penaltyWords.isEmpty();
    }

    /** Confidence change for a lower-cased context window. */
    double adjust(byte[] window, int len) {
        double delta = 0;
        if (!boostWords.isEmpty() && anyPresent(CACHE.computeIfAbsent(boostWords, Needles::new), window, len)) {
            delta += boost;
        }
        if (!penaltyWords.isEmpty()
                && anyPresent(CACHE.computeIfAbsent(penaltyWords, Needles::new), window, len)) {
            delta -= penalty;
        }
        return delta;
    }

    /** Lower-cased UTF-8 words grouped by first byte, built once per word list. */
    private static final class Needles {
        final byte[][][] byFirst = new byte[256][][];

        Needles(List<String> words) {
            Map<Integer, List<byte[]>> m = new HashMap<>();
            for (String w : words) {
                byte[] b = w.toLowerCase(Locale.ROOT).getBytes(StandardCharsets.UTF_8);
                if (b.length > 0) {
                    m.computeIfAbsent(b[0] & 0xff, k -> new ArrayList<>()).add(b);
                }
            }
            m.forEach((k, v) -> byFirst[k] = v.toArray(byte[][]::new));
        }
    }

    /** One pass over the window; words are compared only where their first byte occurs. */
    private static boolean anyPresent(Needles needles, byte[] w, int len) {
        for (int i = 0; i < len; i++) {
            byte[][] candidates = needles.byFirst[w[i] & 0xff];
            if (candidates == null) {
                continue;
            }
            outer:
            for (byte[] needle : candidates) {
                if (i + needle.length > len) {
                    continue;
                }
                for (int k = 1; k < needle.length; k++) {
                    if (w[i + k] != needle[k]) {
                        continue outer;
                    }
                }
                boolean ascii = needle[0] >= 0 && needle[needle.length - 1] >= 0;
                if (ascii && ((i > 0 && letter(w[i - 1]))
                        || (i + needle.length < len && letter(w[i + needle.length])))) {
                    continue;
                }
                return true;
            }
        }
        return false;
    }

    private static boolean letter(byte b) {
        return b >= 'a' && b <= 'z';
    }
}
