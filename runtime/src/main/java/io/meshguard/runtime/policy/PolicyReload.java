package io.meshguard.runtime.policy;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * A server re-read its policy files after they changed, and took them or refused them: an admin event (the admin
 * trail records it). The load at start is not one: it is in the log and {@code /readyz}.
 *
 * @param policy {@code authz}, {@code dlp}
 * @param location the watched file or directory
 * @param digestBefore SHA-256 (hex) of the files in force before; empty when none was
 * @param digestAfter SHA-256 (hex) of the files read; empty when they could not be read
 * @param accepted whether they are in force now
 * @param detail for a refusal, why ({@code authz.yaml:3: unknown key 'rulez'}); empty when accepted
 */
public record PolicyReload(
        Instant at,
        String policy,
        String location,
        Optional<String> digestBefore,
        Optional<String> digestAfter,
        boolean accepted,
        String detail) {

    /** SHA-256 (hex) of policy files, names and contents: the same files give the same digest on every replica. */
    public static String digestOf(List<PolicySource> sources) {
        MessageDigest sha256 = sha256();
        for (PolicySource source : sources) {
            // Names are hashed too, and each field is terminated, so moving text between files changes the digest.
            sha256.update(source.fileName().getBytes(StandardCharsets.UTF_8));
            sha256.update((byte) 0);
            sha256.update(source.text().getBytes(StandardCharsets.UTF_8));
            sha256.update((byte) 0);
        }
        return HexFormat.of().formatHex(sha256.digest());
    }

    /** SHA-256 (hex) of one file's bytes. */
    public static String digestOf(byte[] content) {
        return HexFormat.of().formatHex(sha256().digest(content));
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM provides SHA-256", e);
        }
    }
}
