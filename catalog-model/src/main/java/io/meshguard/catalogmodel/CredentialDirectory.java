package io.meshguard.catalogmodel;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Which tenant holds each credential, by kind and id: how a Check finds the tenant's holdings. Copy-on-write in
 * shards, so a change copies the shards of the credentials it adds or removes, never the whole directory (a
 * suspension, which adds and removes none, copies nothing).
 */
final class CredentialDirectory {
    private static final int SHARDS = 1024;
    private static final AuthMode[] KINDS = AuthMode.values();

    /** [kind ordinal][shard]: credential id to tenant. */
    private final Map<String, String>[][] shards;

    private CredentialDirectory(Map<String, String>[][] shards) {
        this.shards = shards;
    }

    @SuppressWarnings("unchecked")
    static CredentialDirectory empty() {
        Map<String, String>[][] shards = new Map[KINDS.length][SHARDS];
        for (Map<String, String>[] ofKind : shards) {
            Arrays.fill(ofKind, Map.of());
        }
        return new CredentialDirectory(shards);
    }

    /** The tenant holding the credential, or null: the Check's path, so no Optional. */
    String tenantOf(AuthMode kind, String id) {
        return shards[kind.ordinal()][shard(id)].get(id);
    }

    /**
     * This directory with {@code before}'s credentials replaced by {@code after}'s (each may be empty: a tenant
     * appearing or going).
     *
     * @throws IllegalArgumentException when a credential would belong to two tenants
     */
    CredentialDirectory with(String tenant, Optional<TenantHoldings> before, Optional<TenantHoldings> after) {
        return with(tenant, before, after, true, true);
    }

    /**
     * Several tenants changed at once: every credential they no longer hold goes first, then the ones they gained
     * come in, so a credential moving from one changed tenant to another is no duplicate.
     */
    CredentialDirectory with(
            Map<String, Optional<TenantHoldings>> before, Map<String, Optional<TenantHoldings>> after) {
        CredentialDirectory d = this;
        for (Map.Entry<String, Optional<TenantHoldings>> e : after.entrySet()) {
            d = d.with(e.getKey(), before.get(e.getKey()), e.getValue(), true, false);
        }
        for (Map.Entry<String, Optional<TenantHoldings>> e : after.entrySet()) {
            d = d.with(e.getKey(), before.get(e.getKey()), e.getValue(), false, true);
        }
        return d;
    }

    private CredentialDirectory with(
            String tenant,
            Optional<TenantHoldings> before,
            Optional<TenantHoldings> after,
            boolean removals,
            boolean additions) {
        Map<String, Credential> old = new HashMap<>();
        before.ifPresent(b -> b.credentials().forEach(c -> old.put(c.kind() + "/" + c.id(), c)));
        Map<String, Credential> now = new HashMap<>();
        after.ifPresent(a -> a.credentials().forEach(c -> now.put(c.kind() + "/" + c.id(), c)));
        Map<String, String>[][] next = null;
        boolean[][] copied = new boolean[KINDS.length][SHARDS];
        for (Map.Entry<String, Credential> e : old.entrySet()) {
            if (removals && !now.containsKey(e.getKey())) {
                next = next == null ? copyTop() : next;
                edit(next, copied, e.getValue()).remove(e.getValue().id());
            }
        }
        for (Map.Entry<String, Credential> e : now.entrySet()) {
            if (!additions || old.containsKey(e.getKey())) {
                continue;
            }
            Credential c = e.getValue();
            String holder = (next == null ? shards : next)[c.kind().ordinal()][shard(c.id())].get(c.id());
            if (holder != null && !holder.equals(tenant)) {
                throw new IllegalArgumentException(
                        "duplicate credential " + e.getKey() + " in tenants " + holder + " and " + tenant);
            }
            next = next == null ? copyTop() : next;
            edit(next, copied, c).put(c.id(), tenant);
        }
        return next == null ? this : new CredentialDirectory(next);
    }

    private Map<String, String> edit(Map<String, String>[][] next, boolean[][] copied, Credential c) {
        int k = c.kind().ordinal();
        int s = shard(c.id());
        if (!copied[k][s]) {
            next[k][s] = new HashMap<>(next[k][s]);
            copied[k][s] = true;
        }
        return next[k][s];
    }

    private Map<String, String>[][] copyTop() {
        Map<String, String>[][] next = shards.clone();
        for (int k = 0; k < next.length; k++) {
            next[k] = shards[k].clone();
        }
        return next;
    }

    private static int shard(String id) {
        int h = id.hashCode();
        return (h ^ (h >>> 16)) & (SHARDS - 1);
    }
}
