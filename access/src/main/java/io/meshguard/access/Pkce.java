package io.meshguard.access;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Proof Key for Code Exchange (RFC 7636) with the {@code S256} method: a fresh {@code code_verifier} of 48 random bytes
 * (64 base64url characters, within §4.1's 43–128) and its {@code code_challenge}, BASE64URL(SHA-256(verifier)) (§4.2).
 * The verifier stays with the client; only the challenge goes out with the first request.
 */
public record Pkce(String verifier, String challenge) {
    /** The only method meshguard sends: {@code plain} would hand the verifier to whoever sees the first request. */
    public static final String METHOD = "S256";

    /** A fresh verifier from {@link java.security.SecureRandom} and its S256 challenge. */
    public static Pkce generate() {
        String verifier = CodeFlowClient.random(48);
        return new Pkce(verifier, challenge(verifier));
    }

    /** BASE64URL-ENCODE(SHA256(ASCII(verifier))), RFC 7636 §4.2. */
    public static String challenge(String verifier) {
        try {
            return java.util.Base64.getUrlEncoder()
                    .withoutPadding()
                    .encodeToString(
                            MessageDigest.getInstance("SHA-256").digest(verifier.getBytes(StandardCharsets.US_ASCII)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from the JDK", e);
        }
    }
}
