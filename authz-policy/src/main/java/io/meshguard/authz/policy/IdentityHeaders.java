package io.meshguard.authz.policy;

/**
 * Names of the headers the upstream receives the verified identity in. Always overwritten, never appended. They are
 * also what the edge gateway hands the workload's sidecar check for its re-decision (the gateway hop), so every
 * attribute that decision needs has a header: issuer and API key id included.
 */
public record IdentityHeaders(
        String subject,
        String tenant,
        String roles,
        String scopes,
        String clientId,
        String authMethod,
        String issuer,
        String credentialId,
        String callerType,
        String callerPrincipal) {
    public IdentityHeaders(
            String subject, String tenant, String roles, String scopes, String clientId, String authMethod) {
        this(
                subject,
                tenant,
                roles,
                scopes,
                clientId,
                authMethod,
                "x-auth-issuer",
                "x-auth-credential-id",
                "x-caller-type",
                "x-caller-principal");
    }

    public java.util.List<String> all() {
        return java.util.List.of(
                subject,
                tenant,
                roles,
                scopes,
                clientId,
                authMethod,
                issuer,
                credentialId,
                callerType,
                callerPrincipal);
    }
}
