package io.meshguard.authz.policy;

import com.nimbusds.jose.JWSAlgorithm;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * One trusted token issuer. Keys come only from {@code jwksUri} (or the {@code jwks_uri} its OIDC discovery
 * document names), never from the token.
 *
 * @param name short name used in metrics, readiness and {@code --jwks NAME=FILE}
 * @param issuer exact {@code iss} value
 * @param jwksUri key set location, when given directly
 * @param discoveryUri OIDC discovery document location, when the key set is found through it
 * @param audiences accepted {@code aud} values (a token must carry at least one); empty means "not checked"
 * @param algorithms accepted asymmetric JWS algorithms
 * @param requiredClaims claims that must be present besides {@code exp}
 * @param jwksCacheTtl how long a fetched key set is used before it is refreshed
 * @param jwksMaxStale how long the last good key set keeps serving while the IdP is unreachable
 * @param jwksRefetchMinInterval least time between two fetches caused by unknown {@code kid}s
 * @param requireAccessTokenType {@code require_typ: at+jwt}: the JOSE header {@code typ} must be {@code at+jwt} or
 *     {@code application/at+jwt} (RFC 9068 §4)
 * @param acceptIdTokens {@code accept_id_tokens: true}: tokens that look like OpenID Connect ID tokens are accepted
 *     as credentials (off by default: an ID token proves a login to a client, it does not authorise API calls)
 */
public record IssuerPolicy(
        String name,
        String issuer,
        Optional<URI> jwksUri,
        Optional<URI> discoveryUri,
        Set<String> audiences,
        Set<JWSAlgorithm> algorithms,
        Duration clockSkew,
        List<String> requiredClaims,
        ClaimMapping claims,
        Duration jwksCacheTtl,
        Duration jwksMaxStale,
        Duration jwksRefetchMinInterval,
        int line,
        boolean requireAccessTokenType,
        boolean acceptIdTokens) {
    /** {@code typ} values of an RFC 9068 access token, lowercase (media type comparison is case-insensitive). */
    public static final Set<String> ACCESS_TOKEN_TYPES = Set.of("at+jwt", "application/at+jwt");
}
