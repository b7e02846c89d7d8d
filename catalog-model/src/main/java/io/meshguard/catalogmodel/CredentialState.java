package io.meshguard.catalogmodel;

/**
 * A credential's life. Rotating means a successor exists and this one still works until its overlap window ends;
 * after that it answers {@code credential_rotated_out}, distinct from revoked and expired so a customer knows which
 * mistake it made.
 */
public enum CredentialState {
    ACTIVE,
    ROTATING,
    REVOKED,
    EXPIRED;

    public static final Lifecycle<CredentialState> LIFECYCLE = Lifecycle.of("credential", CredentialState.class)
            .from(ACTIVE, ROTATING, REVOKED, EXPIRED)
            .from(ROTATING, REVOKED, EXPIRED)
            .build();
}
