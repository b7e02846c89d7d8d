package io.meshguard.dlp.detect;

/**
 * Which members of a JSON Web Key are private key material (RFC 7518 §6.2.2 EC {@code d}, §6.3.2 RSA {@code d p q dp
 * dq qi}, §6.4.1 oct {@code k}; RFC 8037 §2 OKP {@code d}; the AKP draft's {@code priv}; and the {@code r d t} of
 * each object in a multi-prime RSA key's {@code oth} array, §6.3.2.7, whatever the key's kty says). An object is a JWK when it
 * has a {@code kty} string member (RFC 7517 §4.1: required in every JWK); public members ({@code n e x y crv}) are
 * never findings, so a JWKS endpoint's answer passes.
 */
public final class JwkMembers {
    /** Shorter values are no key material (a 128-bit key is 22 base64url characters). */
    public static final int MIN_VALUE = 16;
    /** Longer values are no key member: the largest, an RSA-16384 {@code d}, is under 3 KB of base64url. */
    public static final int MAX_VALUE = 16 * 1024;

    private JwkMembers() {}

    /** Whether {@code member} is private in some key type (a value under it waits for the object's kty). */
    public static boolean mayBePrivate(String member) {
        return switch (member) {
            case "d", "p", "q", "dp", "dq", "qi", "k", "priv" -> true;
            default -> false;
        };
    }

    /**
     * Whether {@code member} of an object in an {@code oth} array is private: a multi-prime RSA key's other prime
     * ({@code r}), its CRT exponent ({@code d}) and coefficient ({@code t}), RFC 7518 §6.3.2.7.
     */
    public static boolean isOtherPrimeMember(String member) {
        return switch (member) {
            case "r", "d", "t" -> true;
            default -> false;
        };
    }

    /**
     * Whether {@code member} is private in a key of type {@code kty}. A type this list does not know makes every
     * name of {@link #mayBePrivate} private: an unknown key type fails towards a finding.
     */
    public static boolean isPrivate(String kty, String member) {
        return switch (kty) {
            case "RSA" ->
                switch (member) {
                    case "d", "p", "q", "dp", "dq", "qi" -> true;
                    default -> false;
                };
            case "EC", "OKP" -> member.equals("d");
            case "oct" -> member.equals("k");
            case "AKP" -> member.equals("priv");
            default -> mayBePrivate(member);
        };
    }

    /**
     * Whether a decoded value can be key material: {@value #MIN_VALUE} to {@value #MAX_VALUE} characters of the
     * base64url alphabet (also {@code + /} and trailing {@code =}, as a lenient producer writes them).
     */
    public static boolean keyMaterial(byte[] v, int off, int len) {
        if (len < MIN_VALUE || len > MAX_VALUE) {
            return false;
        }
        int end = off + len;
        while (end > off && v[end - 1] == '=') {
            end--;
        }
        for (int i = off; i < end; i++) {
            int c = v[i];
            if (!((c >= 'A' && c <= 'Z')
                    || (c >= 'a' && c <= 'z')
                    || (c >= '0' && c <= '9')
                    || c == '-'
                    || c == '_'
                    || c == '+'
                    || c == '/')) {
                return false;
            }
        }
        return end - off >= MIN_VALUE;
    }
}
