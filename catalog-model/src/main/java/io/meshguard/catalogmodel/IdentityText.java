package io.meshguard.catalogmodel;

import java.util.Optional;

/**
 * The rule for one identity value (subject, tenant, role, scope) that travels to upstreams in headers: visible ASCII
 * without {@code ,} and whitespace, at most {@value #MAX_LENGTH} characters. The catalogue refuses such a value when
 * an API key is created, the decision engine ({@code IdentityValues}) when a request carries it; why each character
 * class is refused is explained there.
 */
public final class IdentityText {
    /** Longest value accepted per item; Envoy's whole request header block is bounded (60 KiB by default). */
    public static final int MAX_LENGTH = 1024;

    private IdentityText() {}

    /** The problem of one value headed for a header ({@code what} names it in the message); empty when fine. */
    public static Optional<String> problem(String what, String value) {
        if (value.isEmpty() || value.length() > MAX_LENGTH) {
            return Optional.of(what + " claim is empty or longer than " + MAX_LENGTH + " characters");
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == ',') {
                return Optional.of(what + " claim holds a ',' (a list delimiter in headers)");
            }
            if (c == ' ' || c == '\t') {
                return Optional.of(what + " claim holds whitespace");
            }
            if (c < 0x20 || c == 0x7f) {
                return Optional.of(what + " claim holds a control character");
            }
            if (c > 0x7e) {
                return Optional.of(what + " claim holds non-ASCII characters");
            }
        }
        return Optional.empty();
    }
}
