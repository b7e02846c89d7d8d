package io.meshguard.xds.model;

import java.util.List;
import java.util.Optional;

/** Everything the controller turns into xDS: the objects of every gateway group. Immutable. */
public record GatewayConfig(List<GatewayGroup> groups, List<Upstream> upstreams, List<Api> apis,
        List<Route> routes) {

    public static final GatewayConfig EMPTY = new GatewayConfig(List.of(), List.of(), List.of(), List.of());

    public GatewayConfig {
        groups = groups == null ? List.of() : List.copyOf(groups);
        upstreams = upstreams == null ? List.of() : List.copyOf(upstreams);
        apis = apis == null ? List.of() : List.copyOf(apis);
        routes = routes == null ? List.of() : List.copyOf(routes);
    }

    public Optional<GatewayGroup> group(String name) {
        return groups.stream().filter(g -> g.name().equals(name)).findFirst();
    }

    public Optional<Api> api(String name) {
        return apis.stream().filter(a -> a.name().equals(name)).findFirst();
    }

    public Optional<Upstream> upstream(String group, String name) {
        return upstreams.stream().filter(u -> u.group().equals(group) && u.name().equals(name)).findFirst();
    }

    public List<Upstream> upstreamsOf(String group) {
        return upstreams.stream().filter(u -> u.group().equals(group)).toList();
    }

    public List<Api> apisOf(String group) {
        return apis.stream().filter(a -> a.group().equals(group)).toList();
    }

    public List<Route> routesOf(Api api) {
        return routes.stream().filter(r -> r.api().equals(api.name())).toList();
    }
}
