package io.meshguard.runtime.policy;

import java.time.Instant;
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

    /** The version string of a set of sources: the start of {@link PolicyReload#digestOf(List)}. */
    public static String versionOf(List<PolicySource> sources) {
        return PolicyReload.digestOf(sources).substring(0, VERSION_LENGTH);
    }
}
