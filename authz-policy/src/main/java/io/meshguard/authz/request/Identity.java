package io.meshguard.authz.request;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A verified caller. Built only from a verified token or a stored API key, never from request headers.
 *
 * @param authMethod {@code jwt} or {@code apikey}
 * @param issuer the issuer's policy name for tokens, {@code apikey} for keys
 * @param credentialId the API key id (never the secret) for keys; empty for tokens
 * @param claims the verified token's claims as CEL reads them ({@code when:}); empty for other credentials
 */
public record Identity(
        String subject,
        Optional<String> tenant,
        List<String> roles,
        List<String> scopes,
        Optional<String> clientId,
        String authMethod,
        String issuer,
        Optional<String> tier,
        Optional<String> credentialId,
        Map<String, Object> claims) {

    /** An identity without token claims (API keys, mesh peers, the gateway hop). */
    public Identity(
            String subject,
            Optional<String> tenant,
            List<String> roles,
            List<String> scopes,
            Optional<String> clientId,
            String authMethod,
            String issuer,
            Optional<String> tier,
            Optional<String> credentialId) {
        this(subject, tenant, roles, scopes, clientId, authMethod, issuer, tier, credentialId, Map.of());
    }
}
