package io.meshguard.access;

import java.time.Instant;

/** The tokens {@code meshguard login} keeps for the admin client: whose, for which client, and until when. */
public record SignedInToken(String issuer, String clientId, String accessToken, String refreshToken,
        Instant expiresAt) {
    /** Whether the access token is still good for {@code margin} seconds from {@code now}. */
    public boolean freshAt(Instant now, long marginSeconds) {
        return now.plusSeconds(marginSeconds).isBefore(expiresAt);
    }
}
