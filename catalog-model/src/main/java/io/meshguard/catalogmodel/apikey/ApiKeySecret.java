package io.meshguard.catalogmodel.apikey;

import io.meshguard.runtime.logging.SensitiveText;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The API key text format {@code mgk_<16 hex key id>_<43 chars base64url secret>}. The key id is a lookup handle (not
 * secret); the secret carries 256 random bits, so a plain SHA-256 is a safe stored form.
 *
 * <p>A key id is never one the audit's masking would touch: 16 random hex digits hold a run of 13 decimal digits
 * that reads as a card or registration number about once in a thousand ids ({@code e0d8907161402088}: "8907161402088"
 * is a date of birth and a gender digit), and masked, the key's rows in the audit log, the admin trail and the
 * access log could no longer be found by its id.
 */
public final class ApiKeySecret {
    static final String PREFIX = "mgk_";
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final HexFormat HEX = HexFormat.of();

    /** A presented key split into its parts. */
    public record Parsed(String keyId, byte[] secretHash) {}

    /** A newly made key: the full text (shown once) and what is stored. */
    public record Minted(String text, String keyId, byte[] secretHash) {}

    private ApiKeySecret() {}

    public static Minted mint() {
        return mint(RANDOM::nextBytes);
    }

    /**
     * Whether {@code keyId} reads the same in the audit log, the admin trail and the access log: an id that
     * {@link SensitiveText#mask} would change (it spells a card or registration number) is masked there and cannot be
     * searched for. Such ids are no longer issued; a key issued with one before gets a clean id when it is rotated.
     */
    public static boolean readableInLogs(String keyId) {
        return SensitiveText.mask(keyId).equals(keyId);
    }

    /** A key from {@code randomBytes}; ids not {@linkplain #readableInLogs readable in logs} are drawn again. */
    static Minted mint(Consumer<byte[]> randomBytes) {
        byte[] id = new byte[8];
        String keyId;
        do {
            randomBytes.accept(id);
            keyId = HEX.formatHex(id);
        } while (!readableInLogs(keyId));
        byte[] secret = new byte[32];
        randomBytes.accept(secret);
        String secretText = Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
        return new Minted(PREFIX + keyId + "_" + secretText, keyId, sha256(secretText));
    }

    /** Whether {@code text} has a key id's shape: 16 lower-case hex digits, what a presented key can name. */
    public static boolean isKeyId(String text) {
        if (text.length() != 16) {
            return false;
        }
        for (int i = 0; i < 16; i++) {
            char c = text.charAt(i);
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
                return false;
            }
        }
        return true;
    }

    /** Splits a presented key; anything not of the exact shape is empty (and denied without a store lookup). */
    public static Optional<Parsed> parse(String text) {
        if (text.length() != PREFIX.length() + 16 + 1 + 43
                || !text.startsWith(PREFIX)
                || text.charAt(PREFIX.length() + 16) != '_') {
            return Optional.empty();
        }
        String keyId = text.substring(PREFIX.length(), PREFIX.length() + 16);
        if (!isKeyId(keyId)) {
            return Optional.empty();
        }
        String secret = text.substring(PREFIX.length() + 17);
        for (int i = 0; i < secret.length(); i++) {
            char c = secret.charAt(i);
            if (!(Character.isLetterOrDigit(c) && c < 128) && c != '-' && c != '_') {
                return Optional.empty();
            }
        }
        return Optional.of(new Parsed(keyId, sha256(secret)));
    }

    /** Constant-time: the comparison takes as long whatever prefix of the hash matches. */
    public static boolean matches(byte[] presentedHash, byte[] storedHash) {
        return MessageDigest.isEqual(presentedHash, storedHash);
    }

    static byte[] sha256(String secret) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.US_ASCII));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
