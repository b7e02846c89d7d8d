package io.meshguard.access;

/**
 * The one permission check of the admin plane. Deny by default: a caller is allowed only when one of its grants
 * names a role whose permissions include the permission asked, at a scope covering the target. The token-file
 * callers (local mode, break-glass) are system-admin by definition: that is what the file is for.
 */
public final class PermissionCheck {
    private final RoleBindings bindings;

    public PermissionCheck(RoleBindings bindings) {
        this.bindings = bindings;
    }

    public Decision decide(AdminCaller caller, String permission, Scope scope) {
        if (caller.method() != AuthMethod.OIDC) {
            return new Decision(true, caller.method().label() + " token file holder", "system-admin@system");
        }
        for (RoleGrant g : caller.grants()) {
            if (g.scope().covers(scope) && bindings.permissionsOf(g.role()).contains(permission)) {
                return new Decision(
                        true,
                        "role " + g.role() + " at " + g.scope() + " (from " + g.grantedBy() + ")",
                        g.role() + "@" + g.scope());
            }
        }
        return Decision.deny(
                caller.grants().isEmpty()
                        ? "the token carries no group or role bound in the access file"
                        : "none of the caller's roles grants " + permission + " at " + scope);
    }
}
