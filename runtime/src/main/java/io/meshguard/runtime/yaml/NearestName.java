package io.meshguard.runtime.yaml;

import java.util.Collection;
import java.util.Optional;

/**
 * Finds the known name closest to a misspelled one, for "did you mean" hints in error messages.
 * Uses the optimal-string-alignment distance, so a swapped pair of letters counts as one edit.
 */
public final class NearestName {
    private NearestName() {}

    /**
     * The candidate closest to {@code given}, if it is close enough to be a plausible typo: at most
     * two edits, or a quarter of the name's length for long names.
     */
    public static Optional<String> suggest(String given, Collection<String> candidates) {
        int allowed = Math.max(2, given.length() / 4);
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String candidate : candidates) {
            int distance = distance(given, candidate);
            if (distance < bestDistance) {
                bestDistance = distance;
                best = candidate;
            }
        }
        return best != null && bestDistance <= allowed && bestDistance > 0 ? Optional.of(best) : Optional.empty();
    }

    /** " (did you mean 'x'?)" or an empty string, ready to append to a message. */
    public static String hint(String given, Collection<String> candidates) {
        return suggest(given, candidates)
                .map(s -> " (did you mean '" + s + "'?)")
                .orElse("");
    }

    static int distance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                int value = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    value = Math.min(value, d[i - 2][j - 2] + 1);
                }
                d[i][j] = value;
            }
        }
        return d[a.length()][b.length()];
    }
}
