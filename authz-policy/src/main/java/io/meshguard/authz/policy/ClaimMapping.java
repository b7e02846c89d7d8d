package io.meshguard.authz.policy;

import java.util.Optional;

/**
 * Where an issuer keeps each identity attribute, as dotted claim paths ({@code realm_access.roles}). A path that
 * resolves to a string holding spaces is split (OAuth {@code scope}); arrays are taken as they are.
 */
public record ClaimMapping(
        String subject,
        Optional<String> tenant,
        Optional<String> roles,
        Optional<String> scopes,
        Optional<String> clientId,
        Optional<String> tier) {}
