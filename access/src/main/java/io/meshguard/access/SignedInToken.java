package io.meshguard.access;

import java.time.Instant;

/**
 * The tokens {@code meshguard login} and the console keep for the admin client: whose, for which client, and until
 * when.
 *
 * @param idToken the OpenID Connect id token of the sign-in, empty when none came: what RP-initiated logout sends as
 *     {@code id_token_hint}, so the issuer ends its session without asking (never stored by the CLI)
 */
public record SignedInToken(
        String issuer, String clientId, String accessToken, String refreshToken, Instant expiresAt, String idToken) {

    /** Tokens without an id token (the CLI's store, the token file). */
    public SignedInToken(String issuer, String clientId, String accessToken, String refreshToken, Instant expiresAt) {
        this(issuer, clientId, accessToken, refreshToken, expiresAt, "");
    }

    /** Whether the access token is still good for {@code margin} seconds from {@code now}. */
    public boolean freshAt(Instant now, long marginSeconds) {
        return now.plusSeconds(marginSeconds).isBefore(expiresAt);
    }
}
