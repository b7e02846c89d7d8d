package io.meshguard.cli.idp;

/**
 * A person of the local {@code meshguard} realm of {@code up --idp keycloak}: one per role, in the group
 * policies/access.yaml binds to that role (and tenant). Its password is generated at each start and exists in that
 * local realm only.
 *
 * @param username the login name
 * @param password the password of this local realm
 * @param role the meshguard role the group grants
 * @param scope what the role covers: {@code system}, {@code tenant:acme}, {@code gateway:local}
 * @param group the Keycloak group (and so the {@code groups} claim) that carries it
 */
public record DemoUser(String username, String password, String role, String scope, String group) {}
