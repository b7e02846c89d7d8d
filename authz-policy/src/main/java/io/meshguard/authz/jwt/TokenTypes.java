package io.meshguard.authz.jwt;

import com.nimbusds.jose.JWSHeader;
import io.meshguard.authz.policy.IssuerPolicy;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Tells access tokens from the other JWTs an IdP signs with the same keys, so none of those can be replayed as an
 * API credential:
 * <ul>
 *   <li>a JOSE {@code typ} other than {@code JWT}, {@code at+jwt} or {@code application/at+jwt} names another kind
 *       of token (logout tokens {@code logout+jwt}, DPoP proofs {@code dpop+jwt}, security events
 *       {@code secevent+jwt}; RFC 8725 §3.11 explicit typing) and is always refused;</li>
 *   <li>with {@code require_typ: at+jwt} the {@code typ} must say access token (RFC 9068 §4: resource servers MUST
 *       check it) — for IdPs that type their access tokens;</li>
 *   <li>otherwise, unless the issuer sets {@code accept_id_tokens: true}, a token that carries an ID token's
 *       tell-tales is refused: Keycloak's {@code "typ": "ID"} claim, or {@code nonce}, {@code at_hash} or
 *       {@code c_hash} (OpenID Connect Core §2, §3.1.3.6, §3.3.2.11) without any {@code scope}/{@code scp} claim.</li>
 * </ul>
 */
final class TokenTypes {
    private TokenTypes() {}

    static Optional<String> problem(IssuerPolicy issuer, JWSHeader header, Map<String, Object> claims) {
        String typ =
                header.getType() == null ? null : header.getType().toString().toLowerCase(Locale.ROOT);
        boolean accessTyped = typ != null && IssuerPolicy.ACCESS_TOKEN_TYPES.contains(typ);
        if (issuer.requireAccessTokenType() && !accessTyped) {
            return Optional.of("not an access token: typ must be at+jwt");
        }
        if (typ != null && !accessTyped && !typ.equals("jwt") && !typ.equals("application/jwt")) {
            return Optional.of("not an access token: the token is typed as another kind of JWT");
        }
        if (!issuer.acceptIdTokens() && !accessTyped && looksLikeIdToken(claims)) {
            return Optional.of("ID tokens are not accepted as credentials; send an access token");
        }
        return Optional.empty();
    }

    private static boolean looksLikeIdToken(Map<String, Object> claims) {
        if (claims.get("typ") instanceof String t && t.equalsIgnoreCase("ID")) {
            return true;
        }
        boolean oidcOnly = claims.containsKey("nonce") || claims.containsKey("at_hash") || claims.containsKey("c_hash");
        return oidcOnly && !claims.containsKey("scope") && !claims.containsKey("scp");
    }
}
