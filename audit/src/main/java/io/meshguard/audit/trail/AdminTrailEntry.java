package io.meshguard.audit.trail;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * One event of the admin plane: a sign-in, a refused call, a change.
 *
 * @param authMethod how the actor proved who it is: {@code oidc}, {@code token-file}, {@code break-glass}, {@code cli}
 * @param outcome e.g. {@code done}, {@code 403: none of your roles carries route:update}
 * @param beforeDigest SHA-256 (hex) of the object before a change, when there was one
 * @param details further facts; never a secret
 */
public record AdminTrailEntry(
        Instant occurredAt,
        String actor,
        String authMethod,
        Optional<String> tenant,
        Optional<String> roleUsed,
        Optional<String> sourceAddress,
        Optional<String> requestId,
        String action,
        String target,
        String outcome,
        Optional<String> beforeDigest,
        Optional<String> afterDigest,
        Map<String, String> details) {
    public AdminTrailEntry {
        // PostgreSQL keeps microseconds: the canonical form must be of what is stored
        occurredAt = occurredAt.truncatedTo(ChronoUnit.MICROS);
        details = java.util.Collections.unmodifiableMap(new TreeMap<>(details));
    }

    /** An entry at the current time with only the fields every event has. */
    public static AdminTrailEntry of(
            String actor, String authMethod, String action, String target, String outcome, Optional<String> requestId) {
        return new AdminTrailEntry(
                Instant.now(),
                actor,
                authMethod,
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                requestId,
                action,
                target,
                outcome,
                Optional.empty(),
                Optional.empty(),
                Map.of());
    }
}
