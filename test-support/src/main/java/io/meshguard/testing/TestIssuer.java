package io.meshguard.testing;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;

/**
 * An OIDC issuer for tests that need many tokens of many shapes fast: an RSA key published by a real HTTP discovery
 * and JWKS server ({@link JwksServer}, issuer = its own URL), and access tokens minted with the claims a test asks
 * for. Flows that must run against the real identity provider use the Keycloak fixture.
 */
public final class TestIssuer implements AutoCloseable {
    private final RSAKey key;
    private final JwksServer server;

    public TestIssuer() throws IOException {
        try {
            key = new RSAKeyGenerator(2048).keyID("test-" + System.nanoTime()).generate();
        } catch (com.nimbusds.jose.JOSEException e) {
            throw new IOException(e);
        }
        server = JwksServer.selfIssued(new JWKSet(key));
    }

    /** The issuer URL tokens carry and discovery is served under. */
    public String issuer() {
        return server.issuer();
    }

    /** An access token ({@code typ: Bearer}) for {@code subject} in {@code groups}, valid for five minutes. */
    public String accessToken(String subject, String audience, List<String> groups) {
        return token(
                Map.of(
                        "sub",
                        subject,
                        "aud",
                        audience,
                        "typ",
                        "Bearer",
                        "preferred_username",
                        subject,
                        "groups",
                        groups),
                Duration.ofMinutes(5));
    }

    /** A token with exactly these claims plus {@code iss}, {@code iat} and {@code exp}. */
    public String token(Map<String, Object> claims, Duration validFor) {
        JWTClaimsSet.Builder b = new JWTClaimsSet.Builder()
                .issuer(issuer())
                .issueTime(new Date())
                .expirationTime(Date.from(Instant.now().plus(validFor)));
        claims.forEach(b::claim);
        SignedJWT jwt = new SignedJWT(
                new JWSHeader.Builder(JWSAlgorithm.RS256)
                        .type(JOSEObjectType.JWT)
                        .keyID(key.getKeyID())
                        .build(),
                b.build());
        try {
            jwt.sign(new RSASSASigner(key));
        } catch (com.nimbusds.jose.JOSEException e) {
            throw new IllegalStateException(e);
        }
        return jwt.serialize();
    }

    @Override
    public void close() {
        server.close();
    }
}
