package io.meshguard.extauthz.exchange;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * A token the identity provider issued for an MCP server in exchange for a caller's.
 *
 * @param token the access token, sent upstream in {@code Authorization}
 * @param expires its {@code exp}
 * @param audience the audience asked for, which its {@code aud} names
 * @param subject its {@code sub}
 * @param azp its {@code azp}, when it has one (Keycloak: the exchange client)
 * @param act its {@code act} claim (RFC 8693 §4.1), when the identity provider wrote one
 * @param reusableUntil when a cache stops handing it out: shortly before {@code expires}, never past the caller's
 *     token's {@code exp}
 */
public record IssuedToken(
        String token,
        Instant expires,
        String audience,
        String subject,
        Optional<String> azp,
        Optional<Map<String, Object>> act,
        Instant reusableUntil) {
    @Override
    public String toString() {
        // never the token itself: this record may end up in a log line
        return "IssuedToken[aud=" + audience + ", sub=" + subject + ", exp=" + expires + "]";
    }
}
