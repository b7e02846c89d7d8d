package io.meshguard.access;

import java.util.List;
import java.util.function.Function;

/**
 * One admin operation: method, path template ({@code /routes/{group}/{name}}), the permission it needs and how
 * the target's scope follows from the path. Routes without a permission must say so with {@link #open}; the
 * coverage test of each server fails on a route that names neither.
 */
public record AdminRoute(String method, String path, String permission, Function<List<String>, Scope> scope) {
    /** The permission of a route anyone may call (the OpenAPI document). */
    public static final String OPEN = "none";

    public AdminRoute {
        if (!permission.equals(OPEN) && !Permissions.ALL.contains(permission)) {
            throw new IllegalArgumentException(method + " " + path + ": permission '" + permission
                    + "' is not in io.meshguard.access.Permissions");
        }
    }

    /** A route at system scope. */
    public static AdminRoute system(String method, String path, String permission) {
        return new AdminRoute(method, path, permission, segments -> Scope.SYSTEM);
    }

    /** A route whose scope is the gateway group named by path segment {@code index}. */
    public static AdminRoute gateway(String method, String path, String permission, int index) {
        return new AdminRoute(method, path, permission, segments -> Scope.gateway(segments.get(index)));
    }

    /**
     * A route on tenant-owned objects: a system grant or any tenant grant carrying the permission admits the call, and
     * the server confines it to the tenants {@link AdminGate#tenantsOf} gives.
     */
    public static AdminRoute tenant(String method, String path, String permission) {
        return new AdminRoute(method, path, permission, segments -> Scope.ANY_TENANT);
    }

    public static AdminRoute open(String method, String path) {
        return new AdminRoute(method, path, OPEN, segments -> Scope.SYSTEM);
    }

    public boolean isOpen() {
        return permission.equals(OPEN);
    }

    /** Whether this route serves {@code method} on the decoded path {@code segments}. */
    public boolean matches(String requestMethod, List<String> segments) {
        List<String> template = templateSegments();
        if (!method.equals(requestMethod) || template.size() != segments.size()) {
            return false;
        }
        for (int i = 0; i < template.size(); i++) {
            String t = template.get(i);
            if (!(t.startsWith("{") && t.endsWith("}")) && !t.equals(segments.get(i))) {
                return false;
            }
        }
        return true;
    }

    private List<String> templateSegments() {
        return List.of(path.substring(1).split("/"));
    }
}
