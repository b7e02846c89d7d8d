package io.meshguard.authz.mesh;

import java.util.Optional;

/**
 * Istio's string forms ({@code istio/api: security/v1beta1/authorization.proto}): exact, {@code prefix*},
 * {@code *suffix}, or {@code *} alone for "any value present". A {@code *} anywhere else is refused when the policy
 * loads rather than read as a literal star.
 */
public record NamePattern(String text, Kind kind, String part) {
    public enum Kind {
        EXACT,
        PREFIX,
        SUFFIX,
        ANY
    }

    /** The pattern, or empty when the star is misplaced. */
    public static Optional<NamePattern> parse(String text) {
        if (text.equals("*")) {
            return Optional.of(new NamePattern(text, Kind.ANY, ""));
        }
        int stars = (int) text.chars().filter(c -> c == '*').count();
        if (stars == 0) {
            return text.isEmpty() ? Optional.empty() : Optional.of(new NamePattern(text, Kind.EXACT, text));
        }
        if (stars > 1 || text.length() < 2) {
            return Optional.empty();
        }
        if (text.endsWith("*")) {
            return Optional.of(new NamePattern(text, Kind.PREFIX, text.substring(0, text.length() - 1)));
        }
        if (text.startsWith("*")) {
            return Optional.of(new NamePattern(text, Kind.SUFFIX, text.substring(1)));
        }
        return Optional.empty();
    }

    public boolean matches(String value) {
        return switch (kind) {
            case EXACT -> value.equals(part);
            case PREFIX -> value.startsWith(part);
            case SUFFIX -> value.endsWith(part);
            case ANY -> !value.isEmpty();
        };
    }

    @Override
    public String toString() {
        return text;
    }
}
