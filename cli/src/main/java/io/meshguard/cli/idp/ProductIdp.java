package io.meshguard.cli.idp;

import io.meshguard.access.KeycloakClients;
import java.net.URI;

/**
 * Where the customers' OAuth2 clients of a local stack live ({@code up --idp keycloak}): the issuer extauthz trusts on
 * product routes, and the provisioning client the catalogue creates those clients with. Tokens of this issuer name
 * their client in {@code azp}, the id a credential binds (Keycloak sets it on every access token it issues).
 *
 * @param issuer   the realm's issuer ({@code iss})
 * @param audience what the created clients' access tokens carry ({@code aud}, their audience mapper)
 * @param clients  creates, re-secrets and disables those clients
 */
public record ProductIdp(String issuer, String audience, KeycloakClients clients) {
    /** The issuer's name in the local stack's authz policy. */
    public static final String POLICY_NAME = "local-keycloak-customers";

    /** The realm's keys (Keycloak's OIDC certs endpoint, as its discovery document names it). */
    public URI jwksUri() {
        return URI.create(issuer + "/protocol/openid-connect/certs");
    }

    /** The local realm of {@code up --idp keycloak} at {@code baseUrl}. */
    public static ProductIdp of(String baseUrl, LocalRealm realm) {
        return new ProductIdp(
                baseUrl.replaceAll("/+$", "") + "/realms/" + realm.name(),
                LocalRealm.PRODUCTS_AUDIENCE,
                new KeycloakClients(
                        baseUrl,
                        realm.name(),
                        LocalRealm.PROVISIONER_CLIENT,
                        realm.provisionerSecret(),
                        LocalRealm.PRODUCTS_AUDIENCE));
    }
}
