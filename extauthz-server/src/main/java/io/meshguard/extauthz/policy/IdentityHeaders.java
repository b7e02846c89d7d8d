package io.meshguard.extauthz.policy;

/** Names of the headers the upstream receives the verified identity in. Always overwritten, never appended. */
public record IdentityHeaders(
        String subject, String tenant, String roles, String scopes, String clientId, String authMethod) {
    public java.util.List<String> all() {
        return java.util.List.of(subject, tenant, roles, scopes, clientId, authMethod);
    }
}
