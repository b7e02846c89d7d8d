package io.meshguard.db;

import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The tenants one admin caller may see and change. {@link #ALL} is the operators' scope (every tenant); any other
 * scope is a closed list, possibly empty (a caller bound to no tenant sees no tenant row).
 */
public record TenantScope(boolean all, Set<String> tenants) {
    /** Tenant ids as migration V35 allows them: lower case, digits, '.', '_' and '-', never ',' (the setting's separator). */
    private static final Pattern TENANT_ID = Pattern.compile("[a-z0-9][a-z0-9._-]{0,199}");

    /** Every tenant: system-wide roles. */
    public static final TenantScope ALL = new TenantScope(true, Set.of());

    /** No tenant at all. */
    public static final TenantScope NONE = new TenantScope(false, Set.of());

    public TenantScope {
        tenants = Set.copyOf(new TreeSet<>(tenants));
        if (all && !tenants.isEmpty()) {
            throw new IllegalArgumentException("a scope of every tenant lists none");
        }
        for (String t : tenants) {
            if (!TENANT_ID.matcher(t).matches()) {
                throw new IllegalArgumentException(
                        "not a tenant id: '" + t + "' (lower-case letters, digits, '.', '_', '-')");
            }
        }
    }

    /** A scope of exactly these tenants. */
    public static TenantScope of(Set<String> tenants) {
        return new TenantScope(false, tenants);
    }

    /** Whether a row of {@code tenant} is in this scope. */
    public boolean includes(String tenant) {
        return all || tenants.contains(tenant);
    }

    /** Whether {@code id} is a valid tenant id. */
    public static boolean validId(String id) {
        return id != null && TENANT_ID.matcher(id).matches();
    }

    /** The value of the transaction setting {@code meshguard.tenants}: the ids, comma-separated and sorted. */
    String setting() {
        return String.join(",", new TreeSet<>(tenants));
    }
}
