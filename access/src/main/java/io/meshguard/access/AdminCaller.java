package io.meshguard.access;

import java.util.List;

/**
 * Who is calling the admin plane, for one request only: the grants are read from the credential on every call and
 * never stored, so a group removed in the IdP is gone at the caller's next token.
 *
 * @param subject the token's {@code sub} (or the token file entry's name)
 * @param displayName {@code preferred_username} / {@code name} when the token has one, else the subject
 * @param method how the caller authenticated
 * @param grants the roles the caller holds, at their scopes
 * @param source the peer address the request came from
 * @param requestId the request's {@code x-request-id}
 * @param issuer the token's {@code iss} (empty for the token file)
 */
public record AdminCaller(
        String subject,
        String displayName,
        AuthMethod method,
        List<RoleGrant> grants,
        String source,
        String requestId,
        String issuer) {
    public AdminCaller {
        grants = List.copyOf(grants);
    }

    /** A caller from the token file, which has no issuer. */
    public AdminCaller(
            String subject,
            String displayName,
            AuthMethod method,
            List<RoleGrant> grants,
            String source,
            String requestId) {
        this(subject, displayName, method, grants, source, requestId, "");
    }

    /** Who this caller is for separation of duties: issuer and subject, not the display name. */
    public Person person() {
        String id =
                switch (method) {
                    case OIDC -> "oidc " + issuer + " " + subject;
                    case BREAK_GLASS -> "break-glass " + subject;
                    case LOCAL -> "token " + subject;
                };
        return new Person(id, actor(), method);
    }

    /** The name the audit trail and change records carry. */
    public String actor() {
        return switch (method) {
            case OIDC -> displayName + " (" + subject + ")";
            case BREAK_GLASS -> "break-glass:" + subject;
            case LOCAL -> subject;
        };
    }
}
