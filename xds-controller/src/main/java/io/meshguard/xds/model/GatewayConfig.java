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
        java.util.Set<String> names = new java.util.HashSet<>();
        for (Route r : routes) {
            if (r.group().equals(group)) {
                r.destinations().forEach(d -> names.add(d.upstream()));
            }
        }
        java.util.Map<String, Upstream> byName = new java.util.HashMap<>();
        upstreams.forEach(u -> byName.putIfAbsent(u.name(), u));
        return names.stream()
                .sorted()
                .map(byName::get)
                .filter(java.util.Objects::nonNull)
                .toList();
    }

    /**
     * This configuration with each object equal to one of {@code earlier}'s (the same kind and name) replaced by that
     * instance. A draft read again after a change is otherwise all new instances, and what is remembered per object
     * (the snapshot's virtual hosts, {@code SnapshotBuilder}) finds the unchanged ones by identity, in O(1) each.
     */
    public GatewayConfig reusing(GatewayConfig earlier) {
        return new GatewayConfig(
                reusing(groups, earlier.groups, GatewayGroup::name),
                reusing(upstreams, earlier.upstreams, Upstream::name),
                reusing(apis, earlier.apis, Api::name),
                reusing(routes, earlier.routes, r -> r.group() + "\u0000" + r.name()));
    }

    private static <T> List<T> reusing(List<T> now, List<T> before, java.util.function.Function<T, String> name) {
        java.util.Map<String, T> byName = new java.util.HashMap<>();
        before.forEach(b -> byName.putIfAbsent(name.apply(b), b));
        List<T> out = new java.util.ArrayList<>(now.size());
        for (T t : now) {
            T b = byName.get(name.apply(t));
            out.add(b != null && b.equals(t) ? b : t);
        }
        return out;
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
