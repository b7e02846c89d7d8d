package io.meshguard.access;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.KeySourceException;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.DefaultJOSEObjectTypeVerifier;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import io.meshguard.runtime.http.OidcDiscovery;
import java.io.IOException;
import java.net.URL;
import java.net.http.HttpClient;
import java.text.ParseException;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Verifies admin bearer access tokens from the one configured OIDC issuer, with nimbus-jose-jwt as extauthz does
 * (extauthz-server {@code jwt/JwtAuthenticator}): keys only from the issuer's JWKS (found by discovery, never from
 * the token's {@code jwk}/{@code jku}/{@code x5u}/{@code x5c} headers, which are refused outright), asymmetric
 * algorithms from an allow-list only ({@code none} and HS* can never verify), {@code iss} exact, {@code aud} must
 * contain the admin audience, {@code exp} required and {@code nbf}/{@code iat} checked with a small skew, and only
 * access tokens: a JOSE {@code typ} other than JWT/at+jwt is refused, and so is Keycloak's {@code typ} claim when it
 * is anything but {@code Bearer} (its ID tokens say {@code ID}, its refresh tokens {@code Refresh}).
 */
public final class AdminTokenVerifier {
    /**
     * How long discovery and a key fetch may take. A fetch happens only for the first token and for a key id not seen
     * yet, and an identity provider slower than this is answered 503, never let through; nimbus's default of 500 ms
     * would refuse every admin whenever the identity provider pauses for half a second.
     */
    private static final Duration IDP_TIMEOUT = Duration.ofSeconds(5);

    /** The asymmetric algorithms an admin token may use. */
    public static final Set<JWSAlgorithm> ALGORITHMS = Set.of(
            JWSAlgorithm.RS256,
            JWSAlgorithm.RS384,
            JWSAlgorithm.RS512,
            JWSAlgorithm.PS256,
            JWSAlgorithm.PS384,
            JWSAlgorithm.PS512,
            JWSAlgorithm.ES256,
            JWSAlgorithm.ES384,
            JWSAlgorithm.EdDSA);

    /** The configured issuer, the audience admin tokens must carry, and the clock skew allowed on exp/nbf/iat. */
    public record Settings(String issuer, String audience, Duration clockSkew) {
        public Settings {
            if (issuer.isBlank() || audience.isBlank()) {
                throw new IllegalArgumentException("admin OIDC needs an issuer and an audience");
            }
        }
    }

    /** The outcome of one verification. */
    public sealed interface Result permits Verified, Rejected {}

    /** A valid access token: its claims (nested objects as maps, arrays as lists). */
    public record Verified(Map<String, Object> claims) implements Result {}

    /** Refused; {@code unavailable} when the issuer's keys could not be fetched (fail closed, 503 not 401). */
    public record Rejected(String reason, boolean unavailable) implements Result {}

    private final Settings settings;
    private final HttpClient http;
    private volatile DefaultJWTProcessor<SecurityContext> processor;

    public AdminTokenVerifier(Settings settings) {
        this(settings, HttpClient.newBuilder().connectTimeout(IDP_TIMEOUT).build());
    }

    /** @param http the client of discovery and key fetches (its TLS trust: {@code admin.oidc.tls_ca_file}) */
    public AdminTokenVerifier(Settings settings, HttpClient http) {
        this.settings = settings;
        this.http = http;
    }

    /** The client of every call to the issuer, for the console's sign-in at the same issuer. */
    public HttpClient identityProviderClient() {
        return http;
    }

    public Settings settings() {
        return settings;
    }

    public Result verify(String token) {
        SignedJWT jwt;
        try {
            jwt = SignedJWT.parse(token);
        } catch (ParseException e) {
            return new Rejected("not a signed JWT", false);
        }
        JWSHeader h = jwt.getHeader();
        // The key comes from the issuer's JWKS only; a token naming its own key is an attack or a mistake.
        if (h.getJWK() != null || h.getJWKURL() != null || h.getX509CertURL() != null || h.getX509CertChain() != null) {
            return new Rejected("the token names its own key (jwk/jku/x5u/x5c); keys come from the issuer only", false);
        }
        if (!ALGORITHMS.contains(h.getAlgorithm())) {
            return new Rejected("algorithm " + h.getAlgorithm() + " is not accepted", false);
        }
        DefaultJWTProcessor<SecurityContext> p;
        try {
            p = processor();
        } catch (IOException | IllegalArgumentException | IllegalStateException e) {
            return new Rejected("the issuer's discovery document is unavailable: " + e.getMessage(), true);
        }
        JWTClaimsSet claims;
        try {
            claims = p.process(jwt, null);
        } catch (KeySourceException e) {
            return new Rejected("the issuer's keys are unavailable: " + e.getMessage(), true);
        } catch (BadJOSEException | JOSEException e) {
            return new Rejected(e.getMessage(), false);
        }
        Object typ = claims.getClaim("typ");
        if (typ != null && !"Bearer".equals(typ)) {
            return new Rejected("not an access token (typ " + typ + "): ID and refresh tokens are refused", false);
        }
        return new Verified(claims.toJSONObject());
    }

    private DefaultJWTProcessor<SecurityContext> processor() throws IOException {
        DefaultJWTProcessor<SecurityContext> p = processor;
        if (p != null) {
            return p;
        }
        // discovery outside any lock: concurrent first tokens may each read it once, and the first processor stays
        DefaultJWTProcessor<SecurityContext> built = build(new OidcDiscovery(settings.issuer(), http, IDP_TIMEOUT)
                .jwksUri()
                .toURL());
        synchronized (this) {
            if (processor == null) {
                processor = built;
            }
            return processor;
        }
    }

    private DefaultJWTProcessor<SecurityContext> build(URL jwksUri) {
        // the keys over the same TLS trust and time limit as discovery (admin.oidc.tls_ca_file), nimbus's size limit
        JWKSource<SecurityContext> keys = JWKSourceBuilder.create(
                        jwksUri,
                        new com.nimbusds.jose.util.DefaultResourceRetriever(
                                (int) IDP_TIMEOUT.toMillis(),
                                (int) IDP_TIMEOUT.toMillis(),
                                JWKSourceBuilder.DEFAULT_HTTP_SIZE_LIMIT,
                                true,
                                http.sslContext().getSocketFactory()))
                .retrying(true)
                .build();
        DefaultJWTProcessor<SecurityContext> p = new DefaultJWTProcessor<>();
        p.setJWSTypeVerifier(new DefaultJOSEObjectTypeVerifier<>(
                JOSEObjectType.JWT, new JOSEObjectType("at+jwt"), new JOSEObjectType("application/at+jwt"), null));
        p.setJWSKeySelector(new JWSVerificationKeySelector<>(ALGORITHMS, keys));
        // mutable sets: nimbus asks them contains(null), which Set.of answers with an NPE
        DefaultJWTClaimsVerifier<SecurityContext> claims = new DefaultJWTClaimsVerifier<>(
                new HashSet<>(List.of(settings.audience())),
                new JWTClaimsSet.Builder().issuer(settings.issuer()).build(),
                new HashSet<>(List.of("sub", "exp", "iat")),
                new HashSet<>());
        claims.setMaxClockSkew((int) settings.clockSkew().toSeconds());
        p.setJWTClaimsSetVerifier(claims);
        return p;
    }
}
