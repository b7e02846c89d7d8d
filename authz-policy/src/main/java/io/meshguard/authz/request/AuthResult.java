package io.meshguard.authz.request;

/** What an authenticator concluded about one credential. */
public sealed interface AuthResult {
    record Authenticated(Identity identity, boolean fromCache) implements AuthResult {}

    /** @param description short, safe to show the client (never echoes token content) */
    record Rejected(Reason reason, String description) implements AuthResult {}
}
