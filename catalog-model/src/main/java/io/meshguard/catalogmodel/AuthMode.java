package io.meshguard.catalogmodel;

/** How callers of a product publish prove who they are. */
public enum AuthMode {
    /** Open: no credential, no subscription (a public product; the security team's deny rules still apply). */
    NONE,
    /** An API key bound to the application (extauthz's api_keys table). */
    APIKEY,
    /** An access token Keycloak minted for the application's confidential client (client credentials). */
    OAUTH2
}
