package io.meshguard.cli.dev;

import com.nimbusds.jwt.JWTClaimsSet;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.UUID;

/**
 * What a development token says: the claims the dev policy maps ({@code sub}, {@code tenant}, {@code roles},
 * space-delimited {@code scope}) plus {@code iss}, {@code aud}, {@code iat}, {@code nbf}, {@code exp}, {@code jti}.
 *
 * @param ttl lifetime from {@code now}; between 1 second and {@link #MAX_TTL}
 */
public record DevToken(
        String subject, String tenant, List<String> roles, List<String> scopes, List<String> audiences, Duration ttl) {
    /** Longer-lived dev tokens are refused: a leaked one should be useless by tomorrow. */
    public static final Duration MAX_TTL = Duration.ofHours(24);

    public DevToken {
        if (subject.isBlank()) {
            throw new IllegalArgumentException("--sub must not be empty");
        }
        if (tenant.isBlank()) {
            throw new IllegalArgumentException("--tenant must not be empty (the dev issuer requires a tenant claim)");
        }
        if (audiences.isEmpty() || audiences.stream().anyMatch(String::isBlank)) {
            throw new IllegalArgumentException("--aud needs at least one non-empty audience");
        }
        if (ttl.compareTo(Duration.ofSeconds(1)) < 0 || ttl.compareTo(MAX_TTL) > 0) {
            throw new IllegalArgumentException("--ttl must be between 1s and 24h, got " + ttl);
        }
        roles = roles.stream().filter(r -> !r.isBlank()).toList();
        scopes = scopes.stream().filter(s -> !s.isBlank()).toList();
        audiences = List.copyOf(audiences);
    }

    /** The claims of a token issued at {@code now}. */
    public JWTClaimsSet claims(Instant now) {
        JWTClaimsSet.Builder claims = new JWTClaimsSet.Builder()
                .issuer(DevIssuer.ISSUER)
                .subject(subject)
                .claim("tenant", tenant)
                .claim("roles", roles)
                .issueTime(Date.from(now))
                .notBeforeTime(Date.from(now))
                .expirationTime(Date.from(now.plus(ttl)))
                .jwtID(UUID.randomUUID().toString());
        claims = audiences.size() == 1 ? claims.audience(audiences.getFirst()) : claims.audience(audiences);
        if (!scopes.isEmpty()) {
            claims.claim("scope", String.join(" ", scopes));
        }
        return claims.build();
    }
}
