package io.meshguard.dlp.policy;

import java.util.Objects;

/**
 * {@code identity_headers:} in dlp.yaml: the request headers extauthz hands the verified caller over in, as authz.yaml's
 * {@code settings.identity_headers} names them (same keys, same defaults). The DLP server binds a tool call held for
 * approval to them, so an operator who renames them in authz.yaml renames them here too ({@code meshguard policy
 * check} warns when the two files disagree).
 *
 * @param subject the caller's subject ({@code x-user-id})
 * @param issuer the issuer that vouched for it ({@code x-auth-issuer})
 * @param clientId the OAuth client (the agent) or API key id ({@code x-client-id})
 */
public record IdentityHeaderNames(String subject, String issuer, String clientId) {
    public static final IdentityHeaderNames DEFAULTS =
            new IdentityHeaderNames("x-user-id", "x-auth-issuer", "x-client-id");

    public IdentityHeaderNames {
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(issuer, "issuer");
        Objects.requireNonNull(clientId, "clientId");
    }
}
