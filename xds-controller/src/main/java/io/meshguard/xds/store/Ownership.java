package io.meshguard.xds.store;

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
}
