package io.meshguard.access;

/**
 * One role a caller holds at one scope ({@code system}, {@code tenant:acme}, {@code gateway:edge-prod}), and the
 * token claim value that granted it (for the audit trail: "role used").
 */
public record RoleGrant(String role, Scope scope, String grantedBy) {}
