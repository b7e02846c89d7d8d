package io.meshguard.xds.store;

import io.meshguard.db.TenantScope;
import io.meshguard.xds.model.GatewayConfig;
import java.util.Map;

/**
 * Which tenant owns each API, upstream and route a caller may see (keys: API and upstream names, {@code group/route}
 * for routes). What the caller may not see is absent, never marked.
 */
public record Ownership(Map<String, String> apis, Map<String, String> upstreams, Map<String, String> routes) {
    public Ownership {
        apis = Map.copyOf(apis);
        upstreams = Map.copyOf(upstreams);
        routes = Map.copyOf(routes);
    }

    /** The key of a route in {@link #routes()}. */
    public static String routeKey(String group, String name) {
        return group + "/" + name;
    }

    /**
     * {@code config} as a caller confined to {@code scope} sees it: every gateway group (operators' objects, which
     * tenants route through), and only the APIs, upstreams and routes owned by one of its tenants. The admin API and the
     * console's screens confine with this one rule.
     */
    public GatewayConfig visibleIn(GatewayConfig config, TenantScope scope) {
        return new GatewayConfig(
                config.groups(),
                config.upstreams().stream()
                        .filter(u -> ownedBy(upstreams.get(u.name()), scope))
                        .toList(),
                config.apis().stream()
                        .filter(a -> ownedBy(apis.get(a.name()), scope))
                        .toList(),
                config.routes().stream()
                        .filter(r -> ownedBy(routes.get(routeKey(r.group(), r.name())), scope))
                        .toList());
    }

    /** Whether an object of {@code owner} (null: one the caller may not see) is one of {@code scope}'s tenants'. */
    public static boolean ownedBy(String owner, TenantScope scope) {
        return owner != null && scope.includes(owner);
    }
}
