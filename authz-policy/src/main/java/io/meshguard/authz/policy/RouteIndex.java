package io.meshguard.authz.policy;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * Finds the route a request selects without scanning every rule: routes are filed by host (exact, {@code *.suffix},
 * or any), then by exact path and by path prefix; only {@code path_regex} and match-any-path routes are tried one by
 * one. The answer is exactly what a scan in file order gives (the first route whose {@link RouteMatch} fits): each
 * bucket keeps its routes in file order, every bucket that could hold a match is consulted, and the lowest position
 * that fully matches wins. Built once per policy; lookups allocate nothing beyond a host with a port.
 */
public final class RouteIndex {
    private final RoutePolicy[] routes;
    private final Map<String, RoutePolicy> byName;
    private final Paths anyHost;
    private final RegionTable<Paths> exactHosts;
    /** Keyed by the suffix with its leading dot ({@code *.example.com} → {@code .example.com}). */
    private final RegionTable<Paths> wildcardHosts;

    private final boolean hasHostRoutes;
    private final boolean hasWildcards;

    private RouteIndex(List<RoutePolicy> routes) {
        this.routes = routes.toArray(RoutePolicy[]::new);
        Map<String, RoutePolicy> names = new HashMap<>();
        Builder any = new Builder();
        Map<String, Builder> exact = new HashMap<>();
        Map<String, Builder> wildcard = new HashMap<>();
        for (int i = 0; i < this.routes.length; i++) {
            RoutePolicy r = this.routes[i];
            names.putIfAbsent(r.name(), r);
            RouteMatch m = r.match();
            if (m.hosts().isEmpty()) {
                any.add(i, m.path());
                continue;
            }
            for (String h : m.hosts()) {
                if (h.startsWith("*.")) {
                    wildcard.computeIfAbsent(h.substring(1), k -> new Builder()).add(i, m.path());
                } else {
                    exact.computeIfAbsent(h, k -> new Builder()).add(i, m.path());
                }
            }
        }
        this.byName = Map.copyOf(names);
        this.anyHost = any.build();
        this.exactHosts = new RegionTable<>(build(exact));
        this.wildcardHosts = new RegionTable<>(build(wildcard));
        this.hasHostRoutes = !exact.isEmpty() || !wildcard.isEmpty();
        this.hasWildcards = !wildcard.isEmpty();
    }

    public static RouteIndex of(List<RoutePolicy> routes) {
        return new RouteIndex(routes);
    }

    /** The route of this name (a route named by the proxy); names are unique in a valid policy. */
    public Optional<RoutePolicy> named(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    /** The first route, in file order, whose match fits the request. */
    public Optional<RoutePolicy> select(String host, String path, String method) {
        int best = anyHost.first(routes, host, path, method, Integer.MAX_VALUE);
        if (hasHostRoutes) {
            String bare = RouteMatch.stripPort(host).toLowerCase(Locale.ROOT);
            Paths p = exactHosts.get(bare, 0, bare.length());
            if (p != null) {
                best = p.first(routes, host, path, method, best);
            }
            if (hasWildcards) {
                // *.suffix matches one or more labels before the suffix: try every suffix that starts at a dot
                for (int i = bare.indexOf('.', 1); i > 0; i = bare.indexOf('.', i + 1)) {
                    Paths w = wildcardHosts.get(bare, i, bare.length());
                    if (w != null) {
                        best = w.first(routes, host, path, method, best);
                    }
                }
            }
        }
        return best == Integer.MAX_VALUE ? Optional.empty() : Optional.of(routes[best]);
    }

    private static Map<String, Paths> build(Map<String, Builder> builders) {
        Map<String, Paths> out = new HashMap<>();
        builders.forEach((k, b) -> out.put(k, b.build()));
        return out;
    }

    /** The routes of one host bucket, filed by path. Positions are file order, ascending in every list. */
    private static final class Paths {
        private final RegionTable<int[]> exact;
        private final RegionTable<int[]> prefixes;
        private final boolean hasExact;
        private final boolean hasPrefixes;
        private final int[] scanned;

        Paths(Map<String, int[]> exact, Map<String, int[]> prefixes, int[] scanned) {
            this.exact = new RegionTable<>(exact);
            this.prefixes = new RegionTable<>(prefixes);
            this.hasExact = !exact.isEmpty();
            this.hasPrefixes = !prefixes.isEmpty();
            this.scanned = scanned;
        }

        /** The lowest position below {@code best} whose route fully matches, else {@code best}. */
        int first(RoutePolicy[] routes, String host, String path, String method, int best) {
            best = firstIn(scanned, routes, host, path, method, best);
            if (hasExact) {
                best = firstIn(exact.get(path, 0, path.length()), routes, host, path, method, best);
            }
            if (hasPrefixes) {
                // a segment-aware prefix P matches when the path starts with P and P ends with '/', or the path ends
                // right after P, or a '/' follows P: so only prefixes ending at those positions can match
                int h = 0;
                int n = path.length();
                for (int i = 0; i < n; i++) {
                    char c = path.charAt(i);
                    if (c == '/' && i > 0) {
                        best = firstIn(prefixes.get(path, 0, i, h), routes, host, path, method, best);
                    }
                    h = 31 * h + c;
                    if (c == '/' || i == n - 1) {
                        best = firstIn(prefixes.get(path, 0, i + 1, h), routes, host, path, method, best);
                    }
                }
            }
            return best;
        }

        private static int firstIn(
                int[] positions, RoutePolicy[] routes, String host, String path, String method, int best) {
            if (positions == null) {
                return best;
            }
            for (int pos : positions) {
                if (pos >= best) {
                    return best;
                }
                if (routes[pos].match().matches(host, path, method)) {
                    return pos;
                }
            }
            return best;
        }
    }

    private static final class Builder {
        private final Map<String, TreeSet<Integer>> exact = new HashMap<>();
        private final Map<String, TreeSet<Integer>> prefixes = new HashMap<>();
        private final List<Integer> scanned = new ArrayList<>();

        void add(int position, PathMatch path) {
            switch (path) {
                case PathMatch.Exact e ->
                    exact.computeIfAbsent(e.path(), k -> new TreeSet<>()).add(position);
                case PathMatch.Prefix p ->
                    prefixes.computeIfAbsent(p.prefix(), k -> new TreeSet<>()).add(position);
                case PathMatch.Regex r -> scanned.add(position);
                case PathMatch.Any a -> scanned.add(position);
            }
        }

        Paths build() {
            return new Paths(
                    arrays(exact),
                    arrays(prefixes),
                    scanned.stream().mapToInt(Integer::intValue).toArray());
        }

        private static Map<String, int[]> arrays(Map<String, TreeSet<Integer>> m) {
            Map<String, int[]> out = new HashMap<>();
            m.forEach(
                    (k, v) -> out.put(k, v.stream().mapToInt(Integer::intValue).toArray()));
            return out;
        }
    }
}
