package io.meshguard.xds.model;

import java.util.List;
import java.util.Optional;

/** Everything the controller turns into xDS: the objects of every gateway group. Immutable. */
public record GatewayConfig(List<GatewayGroup> groups, List<Upstream> upstreams, List<Api> apis, List<Route> routes) {

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

    public Optional<Upstream> upstream(String name) {
        return upstreams.stream().filter(u -> u.name().equals(name)).findFirst();
    }

    public List<Route> routesOf(String group) {
        return routes.stream().filter(r -> r.group().equals(group)).toList();
    }

    /** The APIs the group's routes serve, in name order. */
    public List<Api> apisOf(String group) {
        java.util.Set<String> names = new java.util.TreeSet<>();
        routesOf(group).forEach(r -> names.add(r.api()));
        java.util.Map<String, Api> byName = new java.util.HashMap<>();
        apis.forEach(a -> byName.putIfAbsent(a.name(), a));
        return names.stream()
                .map(byName::get)
                .filter(java.util.Objects::nonNull)
                .toList();
    }

    /** The upstreams the group's routes send to, in name order. */
    public List<Upstream> upstreamsOf(String group) {
        java.util.Set<String> names = new java.util.TreeSet<>();
        routesOf(group).forEach(r -> r.destinations().forEach(d -> names.add(d.upstream())));
        java.util.Map<String, Upstream> byName = new java.util.HashMap<>();
        upstreams.forEach(u -> byName.putIfAbsent(u.name(), u));
        return names.stream()
                .map(byName::get)
                .filter(java.util.Objects::nonNull)
                .toList();
    }

    /**
     * What one group's revision holds: the group, its routes, and the APIs and upstreams they use. Self-contained,
     * so a revision can be rendered or rolled back without the rest of the configuration. Everything is in name
     * order: the draft tables give routes back in name order, so a slice of a YAML file and of the same draft compare
     * equal and an unchanged configuration publishes no revision (review IC-07). Route order carries no meaning: the
     * snapshot orders routes by their match.
     */
    public GatewayConfig slice(String group) {
        return new GatewayConfig(
                group(group).stream().toList(),
                upstreamsOf(group),
                apisOf(group),
                routesOf(group).stream()
                        .sorted(java.util.Comparator.comparing(Route::name))
                        .toList());
    }
}
