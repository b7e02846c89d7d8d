package io.meshguard.devstack;

import io.meshguard.catalog.CatalogStore;
import io.meshguard.catalog.Tenant;
import io.meshguard.cli.idp.LocalRealm;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The tenants {@code meshguard up} creates at start, so nobody's first action in them meets a missing tenant: the
 * quickstart's ({@code t1}, README) always, and with {@code --idp keycloak} the local realm's demo tenants, which its
 * demo users' role bindings name. Creating is idempotent: a restart finds them and leaves them.
 */
final class UpTenants {
    /** The tenant the README's quickstart uses for its API key and tokens. */
    static final String QUICKSTART = "t1";

    private UpTenants() {}

    /** The tenants {@code up} seeds; {@code keycloak}: with the local realm's. */
    static List<String> of(boolean keycloak) {
        List<String> ids = new ArrayList<>();
        ids.add(QUICKSTART);
        if (keycloak) {
            ids.addAll(LocalRealm.TENANTS);
        }
        return List.copyOf(ids);
    }

    static void seed(CatalogStore store, boolean keycloak) {
        for (String id : of(keycloak)) {
            store.createTenant(new Tenant(id, Optional.empty()));
        }
    }
}
