package io.meshguard.catalogmodel;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * What a caller presents, bound to one application.
 *
 * @param id              the API key's id (never its secret) or the OAuth2 client id in Keycloak
 * @param kind            {@link AuthMode#APIKEY} or {@link AuthMode#OAUTH2}
 * @param applicationId   the application it belongs to
 * @param state           where it is in its life
 * @param expiresAt       when it stops working on its own, if ever
 * @param overlapEndsAt   for a {@link CredentialState#ROTATING} credential: the end of its predecessor window
 * @param subscriptionIds the subscriptions it may be used on; empty means every subscription of its application
 */
public record Credential(
        String id,
        AuthMode kind,
        String applicationId,
        CredentialState state,
        Optional<Instant> expiresAt,
        Optional<Instant> overlapEndsAt,
        Set<String> subscriptionIds) {

    public Credential {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(applicationId, "applicationId");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(expiresAt, "expiresAt");
        Objects.requireNonNull(overlapEndsAt, "overlapEndsAt");
        subscriptionIds = Set.copyOf(subscriptionIds);
        if (kind == AuthMode.NONE) {
            throw new IllegalArgumentException("credential " + id + ": kind none is not a credential");
        }
        if (state == CredentialState.ROTATING && overlapEndsAt.isEmpty()) {
            throw new IllegalArgumentException("credential " + id + ": rotating without the end of its overlap window");
        }
    }

    /** Why this credential cannot be used at {@code now}, if it cannot. */
    public Optional<DenyReason> unusableAt(Instant now) {
        if (state == CredentialState.REVOKED) {
            return Optional.of(DenyReason.CREDENTIAL_REVOKED);
        }
        if (state == CredentialState.EXPIRED
                || expiresAt.filter(t -> !now.isBefore(t)).isPresent()) {
            return Optional.of(DenyReason.CREDENTIAL_EXPIRED);
        }
        if (state == CredentialState.ROTATING && !now.isBefore(overlapEndsAt.orElseThrow())) {
            return Optional.of(DenyReason.CREDENTIAL_ROTATED_OUT);
        }
        return Optional.empty();
    }

    /** The same credential bound to another application (before it is stored). */
    public Credential withApplication(String application) {
        return new Credential(id, kind, application, state, expiresAt, overlapEndsAt, subscriptionIds);
    }
}
