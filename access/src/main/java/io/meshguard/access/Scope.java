package io.meshguard.access;

import java.util.Set;
import java.util.regex.Pattern;

/**
 * Where a role applies: {@code system} (everything), or one instance of a kind, {@code tenant:acme},
 * {@code gateway:edge-prod}. A grant covers a target scope when it is {@code system} or names exactly that scope;
 * nothing else is implied (a tenant grant does not reach a gateway group).
 */
public record Scope(String kind, String name) {
    // before SYSTEM: the constructor reads it
    public static final Set<String> KINDS = Set.of("system", "tenant", "gateway");
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,62}");
    public static final Scope SYSTEM = new Scope("system", "");
    /**
     * The target of an operation on tenant-owned objects (APIs, upstreams, routes, API keys): any tenant grant reaches
     * it, and the caller then sees and changes only the tenants of its grants ({@link AdminGate#tenantsOf}).
     */
    public static final Scope ANY_TENANT = new Scope("tenant", "*");

    public Scope {
        if (!KINDS.contains(kind)) {
            throw new IllegalArgumentException("unknown scope kind '" + kind + "' (system, tenant:NAME, gateway:NAME)");
        }
        if (kind.equals("system") != name.isEmpty()) {
            throw new IllegalArgumentException("'" + kind + "' needs " + (name.isEmpty() ? "a name" : "no name"));
        }
    }

    public static Scope gateway(String group) {
        return new Scope("gateway", group);
    }

    public static Scope tenant(String tenant) {
        return new Scope("tenant", tenant);
    }

    /** Parses {@code system}, {@code tenant:acme}, {@code gateway:edge-prod}. */
    public static Scope parse(String text) {
        if (text.equals("system")) {
            return SYSTEM;
        }
        int colon = text.indexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException(
                    "a scope is 'system', 'tenant:NAME' or 'gateway:NAME', got '" + text + "'");
        }
        String name = text.substring(colon + 1);
        // Names in the access file are checked strictly; a target scope from a request path is compared as is.
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException(
                    "invalid scope name '" + name + "' (lower case letters, digits, '.', " + "'_', '-')");
        }
        return new Scope(text.substring(0, colon), name);
    }

    /** Whether a grant at this scope reaches {@code target}. */
    public boolean covers(Scope target) {
        return kind.equals("system") || equals(target) || (target.equals(ANY_TENANT) && kind.equals("tenant"));
    }

    @Override
    public String toString() {
        return name.isEmpty() ? kind : kind + ":" + name;
    }
}
