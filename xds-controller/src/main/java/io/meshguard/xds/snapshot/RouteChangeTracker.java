package io.meshguard.xds.snapshot;

import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.meshguard.xds.model.Api;
import io.meshguard.xds.model.ChangedPlaces;
import io.meshguard.xds.model.GatewayGroup;
import io.meshguard.xds.model.Route;
import io.meshguard.xds.model.Upstream;
import io.meshguard.xds.snapshot.GroupTranslator.Translation;
import io.meshguard.xds.snapshot.RouteTranslator.HostSlot;
import io.meshguard.xds.snapshot.RouteTranslator.Table;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What changed in a group since its last translation, and the next translation made from the last one when only its
 * routes changed: the virtual hosts serving a changed route's API are translated again ({@link RouteTranslator}), the
 * rest of the group's resources are the instances translated before. Everything else (the group, an API or an
 * upstream not the instance translated last, a first translation) is {@link GroupTranslator}'s whole translation.
 */
final class RouteChangeTracker {
    /** Groups whose last translation a tracker keeps to start the next one from, least recently translated out. */
    static final int REMEMBERED_GROUPS = 1_024;

    /** Each group's last translation, which the next one starts from ({@link #routesChanged}). */
    private final Map<String, Last> lastTranslations =
            Collections.synchronizedMap(new LinkedHashMap<>(16, 0.75f, true) {
                private static final long serialVersionUID = 1L;

                @Override
                protected boolean removeEldestEntry(Map.Entry<String, Last> eldest) {
                    return size() > REMEMBERED_GROUPS;
                }
            });

    private final RouteTranslator translator;

    RouteChangeTracker(RouteTranslator translator) {
        this.translator = translator;
    }

    /**
     * What a group's last translation was made from and what it made: the route tables with the place of each virtual
     * host built from the group's APIs, so the next translation can replace only the virtual hosts whose routes
     * changed.
     */
    private record Last(
            GatewayGroup group,
            List<Route> routes,
            List<Api> apis,
            List<Upstream> upstreams,
            Translation translation) {}

    /**
     * The group's translation from its last one, when only its routes changed since (or nothing did); empty when it
     * must be translated whole.
     */
    Optional<Translation> sinceLast(GatewayGroup group, List<Route> routes, List<Api> apis, List<Upstream> upstreams) {
        Last last = lastTranslations.get(group.name());
        return last == null
                ? Optional.empty()
                : Optional.ofNullable(routesChanged(last, group, routes, apis, upstreams));
    }

    /** Keeps {@code translation} as the group's last, made from these inputs. */
    void remember(
            GatewayGroup group, List<Route> routes, List<Api> apis, List<Upstream> upstreams, Translation translation) {
        lastTranslations.put(group.name(), new Last(group, routes, apis, upstreams, translation));
    }

    /**
     * The translation after {@code last} when only the group's routes changed (the group, its APIs and its upstreams are
     * the instances {@code last} was translated from), else null. A one-route change in a 2,000-route group regrouped
     * every route, looked up every virtual host and cluster, and sorted every list again, each publish and each
     * draft validation; now the listeners, clusters and load assignments are the lists built before (their checks then
     * answer by identity) and only the virtual hosts serving a changed route's API are built. A change that adds or
     * empties an API version (hostnames and listeners follow from which versions have routes) or touches a product
     * publish's routes builds the group whole.
     */
    private Translation routesChanged(
            Last last, GatewayGroup group, List<Route> routes, List<Api> apis, List<Upstream> upstreams) {
        if (last.group() != group
                || !ChangedPlaces.sameInstances(last.apis(), apis)
                || !ChangedPlaces.sameInstances(last.upstreams(), upstreams)) {
            return null;
        }
        RouteChanges changes = RouteChanges.between(last.routes(), routes);
        if (changes.none()) {
            return last.translation();
        }
        Map<String, List<Route>> routesByVersion =
                new HashMap<>(last.translation().routesByVersion());
        Set<String> copied = new HashSet<>();
        Set<String> changedApis = new HashSet<>();
        for (Route r : changes.removed()) {
            List<Route> list = ownCopy(routesByVersion, copied, r);
            if (list == null || !removeInstance(list, r) || list.isEmpty()) {
                return null;
            }
            changedApis.add(r.api());
        }
        for (Route r : changes.added()) {
            List<Route> list = ownCopy(routesByVersion, copied, r);
            if (list == null) {
                return null;
            }
            list.add(r);
            changedApis.add(r.api());
        }
        List<Table> tables = new ArrayList<>();
        for (Table t : last.translation().tables()) {
            RouteConfiguration.Builder rc = null;
            CorsPolicies cors = t.upstreams().cors();
            // by identity: a slot's record equality would hash its APIs whole
            Set<HostSlot> touched = Collections.newSetFromMap(new IdentityHashMap<>());
            changedApis.forEach(api -> touched.addAll(t.slotsByApi().getOrDefault(api, List.of())));
            for (HostSlot slot : touched) {
                rc = rc == null ? t.built().toBuilder() : rc;
                rc.setVirtualHosts(
                        slot.index(),
                        translator.virtualHost(
                                slot.hosts(), slot.apis(), routesByVersion, cors, t.upstreams(), t.forEnvoy()));
            }
            tables.add(rc == null ? t : t.with(rc.build()));
        }
        GroupResources before = last.translation().resources();
        return new Translation(
                routesByVersion,
                tables,
                new GroupResources(
                        before.group(),
                        before.listeners(),
                        RouteTranslator.sortedTables(tables),
                        before.clusters(),
                        before.endpoints()));
    }

    /**
     * The list of {@code r}'s API version in {@code routesByVersion}, copied once per build before it is changed;
     * null when the version has no routes yet or {@code r} belongs to a product publish (a whole build then).
     */
    private static List<Route> ownCopy(Map<String, List<Route>> routesByVersion, Set<String> copied, Route r) {
        String key = r.api() + "\u0000" + r.version();
        List<Route> list = routesByVersion.get(key);
        if (list == null || r.product().isPresent()) {
            return null;
        }
        if (copied.add(key)) {
            list = new ArrayList<>(list);
            routesByVersion.put(key, list);
        }
        return list;
    }

    private static boolean removeInstance(List<Route> list, Route r) {
        for (int i = 0; i < list.size(); i++) {
            if (list.get(i) == r) {
                list.remove(i);
                return true;
            }
        }
        return false;
    }

    /**
     * The routes of one build that are not the instances of the build before ({@code added}) and the other way round
     * ({@code removed}), where {@link ChangedPlaces} finds them: place by place for an edit in place, else the span
     * between the same-instance start and end, less the routes that are in it on both sides (they only moved).
     */
    record RouteChanges(List<Route> removed, List<Route> added) {
        boolean none() {
            return removed.isEmpty() && added.isEmpty();
        }

        static RouteChanges between(List<Route> before, List<Route> now) {
            List<Route> removed = new ArrayList<>();
            List<Route> added = new ArrayList<>();
            for (ChangedPlaces.Span span : ChangedPlaces.between(before, now)) {
                removed.addAll(before.subList(span.beforeFrom(), span.beforeTo()));
                added.addAll(now.subList(span.nowFrom(), span.nowTo()));
            }
            if (before.size() != now.size()) {
                Set<Route> was = Collections.newSetFromMap(new IdentityHashMap<>());
                was.addAll(removed);
                Set<Route> is = Collections.newSetFromMap(new IdentityHashMap<>());
                is.addAll(added);
                removed.removeIf(is::contains);
                added.removeIf(was::contains);
            }
            return new RouteChanges(removed, added);
        }
    }
}
