package io.meshguard.authz.policy;

import java.util.Collection;
import java.util.Set;

/** Roles a caller must hold: at least one of {@code anyOf} (when not empty) and every one of {@code allOf}. */
public record RoleRequirement(Set<String> anyOf, Set<String> allOf) {
    public static final RoleRequirement NONE = new RoleRequirement(Set.of(), Set.of());

    public boolean satisfiedBy(Collection<String> roles) {
        boolean any = anyOf.isEmpty() || anyOf.stream().anyMatch(roles::contains);
        return any && roles.containsAll(allOf);
    }
}
