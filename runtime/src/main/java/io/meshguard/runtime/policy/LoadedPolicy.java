package io.meshguard.runtime.policy;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;

/**
 * A policy in force.
 *
 * @param value the parsed policy
 * @param version first 12 hex digits of the SHA-256 of the sources (names and contents), so the same files
 *     give the same version on every replica
 * @param loadedAt when it replaced the previous one
 * @param sources the files it was parsed from
 */
public record LoadedPolicy<T>(T value, String version, Instant loadedAt, List<PolicySource> sources) {
    /** Hex digits kept of the SHA-256. */
    public static final int VERSION_LENGTH = 12;

    public LoadedPolicy {
        sources = List.copyOf(sources);
    }

    /** The version string of a set of sources. */
    public static String versionOf(List<PolicySource> sources) {
        MessageDigest sha256;
        try {
            sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM provides SHA-256", e);
        }
        for (PolicySource source : sources) {
            // Names are hashed too, and each field is terminated, so moving text between files changes the version.
            sha256.update(source.fileName().getBytes(StandardCharsets.UTF_8));
            sha256.update((byte) 0);
            sha256.update(source.text().getBytes(StandardCharsets.UTF_8));
            sha256.update((byte) 0);
        }
        return HexFormat.of().formatHex(sha256.digest()).substring(0, VERSION_LENGTH);
    }
}
