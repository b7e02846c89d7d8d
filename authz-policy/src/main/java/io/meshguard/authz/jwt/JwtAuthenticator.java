package io.meshguard.authz.jwt;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.KeySourceException;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKMatcher;
import com.nimbusds.jose.jwk.JWKSelector;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWT;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.JWTParser;
import com.nimbusds.jwt.SignedJWT;
import io.meshguard.authz.policy.ClaimMapping;
import io.meshguard.authz.policy.IssuerPolicy;
import io.meshguard.authz.request.AuthResult;
import io.meshguard.authz.request.Identity;
import io.meshguard.authz.request.Reason;
import java.nio.ByteBuffer;
import java.security.Provider;
import java.text.ParseException;
import java.time.Clock;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.bouncycastle.jce.provider.BouncyCastleProvider;

/**
 * Verifies bearer JWTs against the configured issuers: asymmetric algorithms from the issuer's allow-list only,
 * keys only from the issuer's key set (never {@code jwk}/{@code jku}/{@code x5u}/{@code x5c} from the token),
 * {@code exp} required, {@code nbf}/{@code iat} checked with the issuer's clock skew, audience and required
 * claims enforced. Verified tokens are remembered in a {@link TokenCache}.
 */
public final class JwtAuthenticator {
    /** ECDSA on BouncyCastle: several times cheaper than the JDK's SunEC for ES256 verification. */
    private static final Provider BC = new BouncyCastleProvider();

    private final Map<String, IssuerPolicy> issuersByIss;
    private final Map<String, IssuerKeys> keys;
    private final TokenCache cache;
    private final Clock clock;

    public JwtAuthenticator(List<IssuerPolicy> issuers, Map<String, IssuerKeys> keys, TokenCache cache, Clock clock) {
        this.issuersByIss = new java.util.HashMap<>();
        issuers.forEach(i -> issuersByIss.put(i.issuer(), i));
        this.keys = Map.copyOf(keys);
        this.cache = cache;
        this.clock = clock;
    }

    public AuthResult authenticate(String token) {
        ByteBuffer cacheKey = TokenCache.key(token);
        Optional<TokenCache.Entry> cached = cache.get(cacheKey);
        if (cached.isPresent()) {
            Optional<AuthResult.Rejected> distrust = stillTrusted(cached.get());
            if (distrust.isEmpty()) {
                cache.hit();
                return new AuthResult.Authenticated(cached.get().identity(), true);
            }
            // the key was rotated out or its set went stale: refused exactly as a fresh token with that key is
            cache.evict(cacheKey);
            cache.miss();
            return distrust.get();
        }
        cache.miss();
        return verify(token, cacheKey);
    }

    /**
     * Whether the key that verified a cached token is still trusted: the same key lookup a fresh token with that
     * key makes, with the same outcomes — once the set is older than {@code jwks_max_stale} (503
     * {@code jwks_unavailable}) or no longer holds the key (401 {@code unknown_key}) the cached token is refused
     * with the fresh one.
     */
    private Optional<AuthResult.Rejected> stillTrusted(TokenCache.Entry entry) {
        IssuerKeys issuerKeys = keys.get(entry.issuerName());
        if (issuerKeys == null) {
            return Optional.of(reject(Reason.UNKNOWN_ISSUER, "issuer is not trusted"));
        }
        JWKMatcher.Builder matcher =
                new JWKMatcher.Builder().keyType(entry.key().getKeyType());
        if (entry.key().getKeyID() != null) {
            matcher.keyID(entry.key().getKeyID());
        }
        KeyLookup found = lookup(issuerKeys, new JWKSelector(matcher.build()));
        if (found.rejected().isPresent()) {
            return found.rejected();
        }
        return found.keys().contains(entry.key())
                ? Optional.empty()
                : Optional.of(reject(Reason.UNKNOWN_KEY, "signing key not found"));
    }

    /** Candidate keys, or why there are none; one mapping for fresh and cached tokens. */
    private record KeyLookup(List<JWK> keys, Optional<AuthResult.Rejected> rejected) {}

    private static KeyLookup lookup(IssuerKeys issuerKeys, JWKSelector selector) {
        try {
            List<JWK> keys = issuerKeys.keys(selector);
            return keys.isEmpty()
                    ? new KeyLookup(keys, Optional.of(reject(Reason.UNKNOWN_KEY, "signing key not found")))
                    : new KeyLookup(keys, Optional.empty());
        } catch (com.nimbusds.jose.jwk.source.RateLimitReachedException e) {
            // this interval's refetches are spent (KeySetFetchLimit): the key is not in a set fetched moments ago
            return new KeyLookup(List.of(), Optional.of(reject(Reason.UNKNOWN_KEY, "signing key not found")));
        } catch (KeySourceException e) {
            return new KeyLookup(List.of(), Optional.of(reject(Reason.JWKS_UNAVAILABLE, "signing keys unavailable")));
        }
    }

    private AuthResult verify(String token, ByteBuffer cacheKey) {
        JWT jwt;
        try {
            jwt = JWTParser.parse(token);
        } catch (ParseException e) {
            return reject(Reason.INVALID_TOKEN, "malformed token");
        }
        if (!(jwt instanceof SignedJWT signed)) {
            return reject(Reason.INVALID_TOKEN, "token is not signed");
        }
        JWSHeader header = signed.getHeader();
        if (header.getJWK() != null
                || header.getJWKURL() != null
                || header.getX509CertURL() != null
                || header.getX509CertChain() != null) {
            return reject(Reason.INVALID_TOKEN, "token names its own keys (jwk, jku, x5u or x5c)");
        }
        if (header.getCriticalParams() != null && !header.getCriticalParams().isEmpty()) {
            return reject(Reason.INVALID_TOKEN, "token has critical header parameters");
        }
        JWTClaimsSet claims;
        try {
            claims = signed.getJWTClaimsSet();
        } catch (ParseException e) {
            return reject(Reason.INVALID_TOKEN, "malformed claims");
        }
        IssuerPolicy issuer = claims.getIssuer() == null ? null : issuersByIss.get(claims.getIssuer());
        if (issuer == null) {
            return reject(Reason.UNKNOWN_ISSUER, "issuer is not trusted");
        }
        if (!issuer.algorithms().contains(header.getAlgorithm())) {
            return reject(Reason.INVALID_TOKEN, "algorithm not allowed");
        }
        IssuerKeys issuerKeys = keys.get(issuer.name());
        KeyLookup found = lookup(issuerKeys, new JWKSelector(JWKMatcher.forJWSHeader(header)));
        if (found.rejected().isPresent()) {
            return found.rejected().get();
        }
        Optional<JWK> verifiedBy = verifyingKey(signed, header, found.keys());
        if (verifiedBy.isEmpty()) {
            return reject(Reason.BAD_SIGNATURE, "signature invalid");
        }
        return checkClaims(issuer, header, claims, cacheKey, verifiedBy.get());
    }

    private static Optional<JWK> verifyingKey(SignedJWT signed, JWSHeader header, List<JWK> candidates) {
        for (JWK jwk : candidates) {
            try {
                JWSVerifier verifier = verifierFor(jwk, header);
                if (verifier != null && signed.verify(verifier)) {
                    return Optional.of(jwk);
                }
            } catch (JOSEException | IllegalStateException e) {
                // a key of the wrong shape or a malformed signature: try the next candidate, deny if none verifies
            }
        }
        return Optional.empty();
    }

    private static JWSVerifier verifierFor(JWK jwk, JWSHeader header) throws JOSEException {
        if (jwk instanceof RSAKey rsa && JWSVerifierAlgorithms.RSA.contains(header.getAlgorithm())) {
            return new RSASSAVerifier(rsa);
        }
        if (jwk instanceof ECKey ec && JWSVerifierAlgorithms.EC.contains(header.getAlgorithm())) {
            ECDSAVerifier v = new ECDSAVerifier(ec);
            v.getJCAContext().setProvider(BC);
            return v;
        }
        return null;
    }

    private AuthResult checkClaims(
            IssuerPolicy issuer, JWSHeader header, JWTClaimsSet claims, ByteBuffer cacheKey, JWK verifiedBy) {
        Instant now = clock.instant();
        long skew = issuer.clockSkew().toSeconds();
        Date exp = claims.getExpirationTime();
        if (exp == null) {
            return reject(Reason.INVALID_TOKEN, "token has no exp");
        }
        if (!exp.toInstant().plusSeconds(skew).isAfter(now)) {
            return reject(Reason.TOKEN_EXPIRED, "token expired");
        }
        Date nbf = claims.getNotBeforeTime();
        if (nbf != null && nbf.toInstant().isAfter(now.plusSeconds(skew))) {
            return reject(Reason.INVALID_TOKEN, "token not valid yet");
        }
        Date iat = claims.getIssueTime();
        if (iat != null && iat.toInstant().isAfter(now.plusSeconds(skew))) {
            return reject(Reason.INVALID_TOKEN, "token issued in the future");
        }
        if (!issuer.audiences().isEmpty()) {
            List<String> aud = claims.getAudience();
            if (aud == null || aud.stream().noneMatch(issuer.audiences()::contains)) {
                return reject(Reason.INVALID_TOKEN, "audience not accepted");
            }
        }
        Map<String, Object> all = claims.toJSONObject();
        Optional<String> wrongType = TokenTypes.problem(issuer, header, all);
        if (wrongType.isPresent()) {
            return reject(Reason.WRONG_TOKEN_TYPE, wrongType.get());
        }
        for (String required : issuer.requiredClaims()) {
            if (ClaimPaths.get(all, required).isEmpty()) {
                return reject(Reason.INVALID_TOKEN, "required claim missing: " + required);
            }
        }
        ClaimMapping map = issuer.claims();
        Optional<String> subject = ClaimPaths.string(all, map.subject());
        if (subject.isEmpty()) {
            return reject(Reason.INVALID_TOKEN, "token has no subject");
        }
        Optional<String> tenant = map.tenant().flatMap(p -> ClaimPaths.string(all, p));
        if (map.tenant().isPresent() && tenant.isEmpty()) {
            return reject(Reason.INVALID_TOKEN, "token has no tenant");
        }
        Identity identity = new Identity(
                subject.get(),
                tenant,
                map.roles().map(p -> List.copyOf(ClaimPaths.strings(all, p))).orElse(List.of()),
                map.scopes().map(p -> List.copyOf(ClaimPaths.strings(all, p))).orElse(List.of()),
                map.clientId().flatMap(p -> ClaimPaths.string(all, p)),
                "jwt",
                issuer.name(),
                map.tier().flatMap(p -> ClaimPaths.string(all, p)),
                Optional.empty(),
                io.meshguard.authz.condition.ClaimValues.of(all));
        // the skew lets a token be accepted slightly past exp; the cache must not stretch that further
        cache.put(cacheKey, identity, issuer.name(), verifiedBy, exp.toInstant().plusSeconds(skew));
        return new AuthResult.Authenticated(identity, false);
    }

    private static AuthResult.Rejected reject(Reason reason, String description) {
        return new AuthResult.Rejected(reason, description);
    }

    /** Algorithm families, so an RSA key is never asked to check an ECDSA signature and vice versa. */
    private static final class JWSVerifierAlgorithms {
        static final java.util.Set<com.nimbusds.jose.JWSAlgorithm> RSA = java.util.Set.of(
                com.nimbusds.jose.JWSAlgorithm.RS256,
                com.nimbusds.jose.JWSAlgorithm.RS384,
                com.nimbusds.jose.JWSAlgorithm.RS512,
                com.nimbusds.jose.JWSAlgorithm.PS256,
                com.nimbusds.jose.JWSAlgorithm.PS384,
                com.nimbusds.jose.JWSAlgorithm.PS512);
        static final java.util.Set<com.nimbusds.jose.JWSAlgorithm> EC = java.util.Set.of(
                com.nimbusds.jose.JWSAlgorithm.ES256,
                com.nimbusds.jose.JWSAlgorithm.ES384,
                com.nimbusds.jose.JWSAlgorithm.ES512);
    }
}
