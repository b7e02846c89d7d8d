package io.meshguard.devstack.demo;

import io.meshguard.access.ClientCredentialsTokens;
import java.io.IOException;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;

/**
 * Where customers' OAuth2 clients get their access tokens in a local stack: the token endpoint of the realm
 * {@code up --idp keycloak} runs, in which the catalogue creates those clients (cli {@code ProductIdp}).
 *
 * @param tokenEndpoint Keycloak's OIDC token endpoint, {@code <issuer>/protocol/openid-connect/token} (the
 *     {@code token_endpoint} of the realm's discovery document)
 */
public record CustomerTokens(URI tokenEndpoint) {

    /** The token endpoint of the realm whose issuer is {@code issuer}. */
    public static CustomerTokens ofIssuer(String issuer) {
        return new CustomerTokens(ClientCredentialsTokens.keycloakTokenEndpoint(issuer));
    }

    /** A client-credentials grant (RFC 6749 §4.4) for a confidential client: its access token. */
    String clientCredentials(String clientId, String secret) throws IOException {
        return new ClientCredentialsTokens(
                        tokenEndpoint,
                        clientId,
                        () -> Optional.of(secret),
                        Duration.ZERO,
                        Duration.ofSeconds(10),
                        Clock.systemUTC(),
                        Optional.empty())
                .current();
    }
}
