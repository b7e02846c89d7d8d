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
        return Optional.ofNullable(index().groups().get(name));
    }

    public Optional<Api> api(String name) {
        return Optional.ofNullable(index().apis().get(name));
    }

    public Optional<Upstream> upstream(String name) {
        return Optional.ofNullable(index().upstreams().get(name));
    }

    /** The group's routes, in this configuration's order. */
    public List<Route> routesOf(String group) {
        return index().contents(group).routes();
    }

    /** The APIs the group's routes serve, in name order. */
    public List<Api> apisOf(String group) {
        return index().contents(group).apis();
    }

    /** The upstreams the group's routes send to, in name order. */
    public List<Upstream> upstreamsOf(String group) {
        return index().contents(group).upstreams();
    }

    /**
     * The objects by name (the first of duplicates, which the validator refuses) and each group's contents, worked
     * out once per configuration instance: a publish asks for them from the validator's checks, the slices and every
     * build, route by route, and each pass over a 2,000-route draft was paid again. Remembered weakly, by
     * identity: a configuration is immutable, so what is derived from it never goes stale.
     */
    private Index index() {
        Index known = INDEXES.get(this);
        if (known == null) {
            known = Index.derivedOrOf(this);
            INDEXES.put(this, known);
        }
        return known;
    }

    /** The objects of the last indexed configurations (not the configurations: they may go) and their indexes. */
    private record Indexed(
            List<GatewayGroup> groups, List<Upstream> upstreams, List<Api> apis, List<Route> routes, Index index) {}

    /**
     * The last indexes worked out, most recent first: a draft's next edit, and each of its slices, is derived from
     * the one before, a few routes apart. Bounded: a draft and the slices of the groups it publishes.
     */
    private static final java.util.Deque<Indexed> RECENT = new java.util.ArrayDeque<>();

    private static final int RECENT_INDEXES = 8;

    private static final java.util.concurrent.atomic.AtomicLong DERIVED = new java.util.concurrent.atomic.AtomicLong();

    /** How many indexes were derived from an earlier one rather than worked out whole, in this process (for tests). */
    static long indexesDerived() {
        return DERIVED.get();
    }

    /** {@code group}'s routes, APIs and upstreams as a whole index of this configuration has them (for tests). */
    List<List<?>> wholeIndexOf(String group) {
        GroupContents c = Index.of(this).contents(group);
        return List.of(c.routes(), c.apis(), c.upstreams());
    }

    private static final java.util.Map<GatewayConfig, Index> INDEXES = SameInstance.weaklyRemembered();

    /** A group's routes and the APIs and upstreams they use, also by name. */
    private record GroupContents(
            List<Route> routes,
            List<Api> apis,
            List<Upstream> upstreams,
            java.util.Set<String> apiNames,
            java.util.Set<String> upstreamNames) {
        static final GroupContents NONE =
                new GroupContents(List.of(), List.of(), List.of(), java.util.Set.of(), java.util.Set.of());

        /** This group's contents with {@code routes} instead, when they use the same APIs and upstreams; else null. */
        GroupContents withRoutes(
                List<Route> routes, java.util.Set<String> apisTouched, java.util.Set<String> upstreamsTouched) {
            for (String a : apisTouched) {
                if (apiNames.contains(a)
                        != routes.stream().anyMatch(r -> r.api().equals(a))) {
                    return null;
                }
            }
            for (String u : upstreamsTouched) {
                boolean is = routes.stream().anyMatch(r -> r.destinations().stream()
                        .anyMatch(d -> d.upstream().equals(u)));
                if (upstreamNames.contains(u) != is) {
                    return null;
                }
            }
            return new GroupContents(routes, apis, upstreams, apiNames, upstreamNames);
        }
    }

    private record Index(
            java.util.Map<String, GatewayGroup> groups,
            java.util.Map<String, Api> apis,
            java.util.Map<String, Upstream> upstreams,
            java.util.Map<String, GroupContents> contents,
            java.util.Map<String, GatewayConfig> slices,
            boolean apisInOrder,
            boolean upstreamsInOrder) {

        GroupContents contents(String group) {
            return contents.getOrDefault(group, GroupContents.NONE);
        }

        static Index of(GatewayConfig c) {
            java.util.Map<String, List<Route>> routes = new java.util.HashMap<>();
            for (Route r : c.routes) {
                routes.computeIfAbsent(r.group(), g -> new java.util.ArrayList<>())
                        .add(r);
            }
            Index index = new Index(
                    byName(c.groups, GatewayGroup::name),
                    byName(c.apis, Api::name),
                    byName(c.upstreams, Upstream::name),
                    new java.util.HashMap<>(),
                    new java.util.concurrent.ConcurrentHashMap<>(),
                    strictlyInNameOrder(c.apis, Api::name),
                    strictlyInNameOrder(c.upstreams, Upstream::name));
            routes.forEach((group, rs) -> index.contents.put(group, index.contentsOf(c, rs)));
            return index;
        }

        /** A group's contents from its routes, in this configuration's order. */
        private GroupContents contentsOf(GatewayConfig c, List<Route> rs) {
            java.util.Set<String> apiNames = new java.util.HashSet<>();
            java.util.Set<String> upstreamNames = new java.util.HashSet<>();
            for (Route r : rs) {
                apiNames.add(r.api());
                r.destinations().forEach(d -> upstreamNames.add(d.upstream()));
            }
            return new GroupContents(
                    List.copyOf(rs),
                    present(apiNames, apis, c.apis, apisInOrder, Api::name),
                    present(upstreamNames, upstreams, c.upstreams, upstreamsInOrder, Upstream::name),
                    apiNames,
                    upstreamNames);
        }

        /** {@code c}'s index, derived from a recent one of the same objects a few routes apart, else worked out whole. */
        static Index derivedOrOf(GatewayConfig c) {
            Indexed base = null;
            synchronized (RECENT) {
                for (Indexed r : RECENT) {
                    if (Math.abs(r.routes().size() - c.routes.size()) <= ChangedPlaces.FEW
                            && ChangedPlaces.sameInstances(r.groups(), c.groups)
                            && ChangedPlaces.sameInstances(r.apis(), c.apis)
                            && ChangedPlaces.sameInstances(r.upstreams(), c.upstreams)) {
                        base = r;
                        break;
                    }
                }
            }
            Index index = base == null ? null : base.index().derived(base.routes(), c);
            if (index == null) {
                index = of(c);
            } else {
                DERIVED.incrementAndGet();
            }
            synchronized (RECENT) {
                RECENT.addFirst(new Indexed(c.groups, c.upstreams, c.apis, c.routes, index));
                while (RECENT.size() > RECENT_INDEXES) {
                    RECENT.removeLast();
                }
            }
            return index;
        }

        /**
         * The index of {@code c}, whose groups, APIs and upstreams are this index's instances and whose routes are a few
         * changes from {@code before}: the groups the changed routes belong to get their routes again (a pass of
         * comparisons), and keep their APIs and upstreams unless a changed route's API or upstream came or went; the
         * other groups keep their contents and slices. Null when the change is too large.
         */
        Index derived(List<Route> before, GatewayConfig c) {
            List<ChangedPlaces.Span> changed = ChangedPlaces.between(before, c.routes);
            if (changed.isEmpty()) {
                return this;
            }
            if (ChangedPlaces.size(changed) > ChangedPlaces.FEW) {
                return null;
            }
            java.util.Map<String, java.util.Set<String>> apisTouched = new java.util.HashMap<>();
            java.util.Map<String, java.util.Set<String>> upstreamsTouched = new java.util.HashMap<>();
            for (ChangedPlaces.Span span : changed) {
                java.util.stream.Stream.concat(
                                before.subList(span.beforeFrom(), span.beforeTo()).stream(),
                                c.routes.subList(span.nowFrom(), span.nowTo()).stream())
                        .forEach(r -> {
                            apisTouched
                                    .computeIfAbsent(r.group(), g -> new java.util.HashSet<>())
                                    .add(r.api());
                            java.util.Set<String> ups =
                                    upstreamsTouched.computeIfAbsent(r.group(), g -> new java.util.HashSet<>());
                            r.destinations().forEach(d -> ups.add(d.upstream()));
                        });
            }
            Index index = new Index(
                    groups,
                    apis,
                    upstreams,
                    new java.util.HashMap<>(contents),
                    new java.util.concurrent.ConcurrentHashMap<>(),
                    apisInOrder,
                    upstreamsInOrder);
            slices.forEach((group, slice) -> {
                if (!apisTouched.containsKey(group)) {
                    index.slices.put(group, slice);
                }
            });
            // an edit in place (the common one) replaces routes where they stand, also in a group's list and slice
            java.util.Map<String, List<Route[]>> inPlace = new java.util.HashMap<>();
            if (before.size() == c.routes.size()) {
                for (ChangedPlaces.Span span : changed) {
                    Route is = c.routes.get(span.nowFrom());
                    inPlace.computeIfAbsent(is.group(), g -> new java.util.ArrayList<>())
                            .add(new Route[] {before.get(span.beforeFrom()), is});
                }
            }
            for (String group : apisTouched.keySet()) {
                List<Route[]> pairs = inPlace.get(group);
                List<Route> rs = pairs == null ? null : replaced(contents(group).routes(), pairs);
                if (rs == null) {
                    rs = c.routes.stream().filter(r -> r.group().equals(group)).toList();
                }
                if (rs.isEmpty()) {
                    index.contents.remove(group);
                    continue;
                }
                GroupContents kept =
                        contents(group).withRoutes(rs, apisTouched.get(group), upstreamsTouched.get(group));
                index.contents.put(group, kept != null ? kept : index.contentsOf(c, rs));
                GatewayConfig slice = slices.get(group);
                if (kept != null
                        && slice != null
                        && pairs != null
                        && pairs.stream().allMatch(p -> p[0].name().equals(p[1].name()))) {
                    // the slice lists routes by name: none renamed, each new route takes the old one's place there
                    List<Route> sliceRoutes = replaced(slice.routes(), pairs);
                    if (sliceRoutes != null) {
                        index.slices.put(
                                group, new GatewayConfig(slice.groups(), slice.upstreams(), slice.apis(), sliceRoutes));
                    }
                }
            }
            return index;
        }

        /**
         * {@code list} with each pair's first instance replaced by its second where it stands; null unless each is in
         * it exactly once (else the place is not known).
         */
        private static List<Route> replaced(List<Route> list, List<Route[]> pairs) {
            Route[] out = list.toArray(new Route[0]);
            int found = 0;
            for (int i = 0; i < out.length; i++) {
                for (Route[] p : pairs) {
                    if (out[i] == p[0]) {
                        out[i] = p[1];
                        found++;
                        break;
                    }
                }
            }
            return found == pairs.size() ? List.of(out) : null;
        }

        /** Whether each name is greater than the one before: no duplicates, and the list is already in name order. */
        private static <T> boolean strictlyInNameOrder(List<T> objects, java.util.function.Function<T, String> name) {
            for (int i = 1; i < objects.size(); i++) {
                if (name.apply(objects.get(i - 1)).compareTo(name.apply(objects.get(i))) >= 0) {
                    return false;
                }
            }
            return true;
        }

        private static <T> java.util.Map<String, T> byName(
                List<T> objects, java.util.function.Function<T, String> name) {
            java.util.Map<String, T> out = new java.util.HashMap<>(objects.size() * 2);
            objects.forEach(o -> out.putIfAbsent(name.apply(o), o));
            return out;
        }

        /**
         * The objects named, in name order. A draft is read in name order, so the list is filtered as it stands; a
         * tree of the names (as before) cost a 2,000-route group ~0.6 ms of every change's index.
         */
        private static <T> List<T> present(
                java.util.Set<String> names,
                java.util.Map<String, T> byName,
                List<T> all,
                boolean inNameOrder,
                java.util.function.Function<T, String> name) {
            if (inNameOrder) {
                return all.stream().filter(o -> names.contains(name.apply(o))).toList();
            }
            return names.stream()
                    .sorted()
                    .map(byName::get)
                    .filter(java.util.Objects::nonNull)
                    .toList();
        }
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
        java.util.Map<String, T> byName = null;
        List<T> out = new java.util.ArrayList<>(now.size());
        for (int i = 0; i < now.size(); i++) {
            T t = now.get(i);
            // a draft read again lists its objects as before: the object in the same place is the one of that name
            T same = i < before.size() ? before.get(i) : null;
            if (same != null && name.apply(same).equals(name.apply(t))) {
                out.add(same.equals(t) ? same : t);
                continue;
            }
            if (byName == null) {
                byName = new java.util.HashMap<>();
                for (T b : before) {
                    byName.putIfAbsent(name.apply(b), b);
                }
            }
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
        // asked for by the publish, the four-eyes authors of each change and the checks: worked out once per instance
        return index().slices().computeIfAbsent(group, this::sliceOf);
    }

    private GatewayConfig sliceOf(String group) {
        return new GatewayConfig(
                group(group).stream().toList(),
                upstreamsOf(group),
                apisOf(group),
                routesOf(group).stream()
                        .sorted(java.util.Comparator.comparing(Route::name))
                        .toList());
    }
}
