package io.meshguard.audit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Keyed hash (HMAC-SHA256) of a sensitive value, so the audit log can show that the same card number appeared
 * twice without ever containing it. The key comes from a file or an environment variable, is never logged and
 * never leaves this object; {@link #keyId()} (a short hash of the key) is stored next to each HMAC so findings
 * hashed under different keys are not compared by mistake after a rotation.
 */
public final class FindingHasher {
    /** Shorter keys make the HMAC guessable for low-entropy values such as card numbers. */
    public static final int MIN_KEY_BYTES = 32;

    private static final String ALGORITHM = "HmacSHA256";

    private final SecretKeySpec key;
    private final String keyId;
    private final ThreadLocal<Mac> macs;

    private FindingHasher(byte[] keyBytes) {
        if (keyBytes.length < MIN_KEY_BYTES) {
            throw new IllegalArgumentException(
                    "the DLP finding HMAC key must be at least " + MIN_KEY_BYTES + " bytes, got " + keyBytes.length);
        }
        this.key = new SecretKeySpec(keyBytes, ALGORITHM);
        this.keyId = keyIdOf(keyBytes);
        this.macs = ThreadLocal.withInitial(this::newMac);
    }

    /** A hasher over the given key bytes. */
    public static FindingHasher ofKey(byte[] keyBytes) {
        return new FindingHasher(keyBytes.clone());
    }

    /** Reads the key from a file: its text content, surrounding whitespace removed, as UTF-8 bytes. */
    public static FindingHasher fromKeyFile(Path file) {
        try {
            String text = Files.readString(file, StandardCharsets.UTF_8).strip();
            if (text.isEmpty()) {
                throw new IllegalArgumentException("the DLP finding HMAC key file " + file + " is empty");
            }
            return new FindingHasher(text.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the DLP finding HMAC key file " + file + ": " + e, e);
        }
    }

    /** Reads the key from environment variable {@code name} of {@code env}. */
    public static FindingHasher fromEnvironment(Map<String, String> env, String name) {
        String text = env.get(name);
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("environment variable " + name + " (DLP finding HMAC key) is not set");
        }
        return new FindingHasher(text.strip().getBytes(StandardCharsets.UTF_8));
    }

    /** {@code hex(HMAC-SHA256(key, UTF-8(value)))}, 64 hex digits. */
    public String hmac(CharSequence value) {
        Mac mac = macs.get();
        byte[] digest = mac.doFinal(value.toString().getBytes(StandardCharsets.UTF_8));
        return HexFormat.of().formatHex(digest);
    }

    /** First 8 hex digits of SHA-256 over the key: identifies the key without revealing it. */
    public String keyId() {
        return keyId;
    }

    @Override
    public String toString() {
        return "FindingHasher[HmacSHA256, key_id=" + keyId + "]";
    }

    private Mac newMac() {
        try {
            Mac mac = Mac.getInstance(ALGORITHM);
            mac.init(key);
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available in this JVM", e);
        }
    }

    private static String keyIdOf(byte[] keyBytes) {
        try {
            byte[] sha = MessageDigest.getInstance("SHA-256").digest(keyBytes);
            return HexFormat.of().formatHex(sha, 0, 4);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 is not available in this JVM", e);
        }
    }
}
