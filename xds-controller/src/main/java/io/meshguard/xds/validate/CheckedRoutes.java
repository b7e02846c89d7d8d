package io.meshguard.xds.validate;

import io.meshguard.xds.model.Api;
import io.meshguard.xds.model.ChangedPlaces;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayGroup;
import io.meshguard.xds.model.HostnamePlan;
import io.meshguard.xds.model.Route;
import io.meshguard.xds.model.Upstream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What the validator's checks found in one configuration, kept with what each route contributed and how many routes
 * share each name, match and (group, API) pair, so that the next configuration, a few routes apart with the same
 * groups, upstreams and APIs, is checked only where its routes changed (on a 2,000-route draft, the checks
 * across routes hashed every route's name and match again for a one-route {@code PUT}).
 *
 * <p>A check carried over equals the check of the whole configuration: a route that did not change keeps what it
 * contributed, because it was worked out against the same groups, upstreams, APIs and owned headers; and the checks
 * across routes (a duplicate name, a shadowed match, the APIs a group serves) give the same answer for it as long as
 * no changed route shares its name or match with another route, before or after, and every (group, API) pair a changed
 * route had or has is still served or still unserved. Any other change is checked whole.
 */
final class CheckedRoutes {
    private static final java.util.concurrent.atomic.AtomicLong CARRIED = new java.util.concurrent.atomic.AtomicLong();

    /** How many checks were carried over rather than worked out whole, in this process (for tests). */
    static long carried() {
        return CARRIED.get();
    }

    /** What one route contributes, worked out against a check's groups, upstreams, APIs and owned headers. */
    interface RouteCheck {
        /** Its references (but a duplicate name: the carried check decides that) and its own problems. */
        List<Problem> own(Route route, CheckedRoutes against);

        /** Its destinations that proxyless clients calling its API's Service hostnames never reach. */
        List<Problem> services(Route route, CheckedRoutes against);
    }

    /** A route's identity in its configuration. */
    private record RouteName(String group, String name) {}

    /** An API a group serves, because one of its routes does. */
    private record GroupApi(String group, String api) {}

    /** What makes two routes' matches the same: the methods in any order, the headers in order. */
    private record MatchKey(
            String group,
            Optional<String> productHost,
            String api,
            String version,
            Optional<String> pathPrefix,
            Optional<String> pathExact,
            Optional<String> pathRegex,
            Set<String> methods,
            List<Route.HeaderMatch> headers) {

        static Optional<MatchKey> of(Route r) {
            if (r.match() == null) {
                return Optional.empty();
            }
            // a product publish's routes have a host of their own: the same match there shadows nothing
            return Optional.of(new MatchKey(
                    r.group(),
                    r.product().map(Route.ProductBinding::host),
                    r.api(),
                    r.version(),
                    r.match().pathPrefix(),
                    r.match().pathExact(),
                    r.match().pathRegex(),
                    Set.copyOf(r.match().methods()),
                    r.match().headers()));
        }
    }

    private final GatewayConfig config;
    private final Set<String> policyOwned;
    final Map<String, GatewayGroup> groups;
    final Set<String> upstreamNames;
    final Map<String, Api> apis;
    final Map<String, Upstream> upstreams;
    /** The hostnames of each (group, API) that are Kubernetes Service names, filled as routes ask. */
    final Map<GroupApi, List<String>> serviceHostnames;

    private final List<Problem> head;
    private final List<Problem> overlaps;
    private final List<Problem> clashes;
    private final List<Route> routes;
    private final List<Problem>[] byRoute;
    private final List<Problem>[] services;
    /** How many routes have each {@link RouteName}, {@link MatchKey} and {@link GroupApi}; changed in place. */
    private final Map<Object, Integer> counts;

    private CheckedRoutes(
            GatewayConfig config,
            Set<String> policyOwned,
            Named objects,
            List<Problem> head,
            List<Problem> overlaps,
            List<Problem> clashes,
            List<Problem>[] byRoute,
            List<Problem>[] services,
            Map<Object, Integer> counts) {
        this.config = config;
        this.policyOwned = policyOwned;
        this.groups = objects.groups();
        this.upstreamNames = objects.upstreamNames();
        this.apis = objects.apis();
        this.upstreams = objects.upstreams();
        this.serviceHostnames = objects.serviceHostnames();
        this.head = head;
        this.overlaps = overlaps;
        this.clashes = clashes;
        this.routes = config.routes();
        this.byRoute = byRoute;
        this.services = services;
        this.counts = counts;
    }

    /** The configuration's groups, upstreams and APIs by name, as its routes are checked against them. */
    record Named(
            Map<String, GatewayGroup> groups,
            Set<String> upstreamNames,
            Map<String, Api> apis,
            Map<String, Upstream> upstreams,
            Map<GroupApi, List<String>> serviceHostnames) {
        Named(
                Map<String, GatewayGroup> groups,
                Set<String> upstreamNames,
                Map<String, Api> apis,
                Map<String, Upstream> upstreams) {
            this(groups, upstreamNames, apis, upstreams, new java.util.concurrent.ConcurrentHashMap<>());
        }
    }

    /**
     * Checks every route of {@code config}. {@code head} is what its groups, upstreams and APIs have wrong, {@code
     * clashes} the hostname clashes among the APIs its groups serve: neither depends on the routes but through the
     * (group, API) pairs this check counts.
     */
    static CheckedRoutes whole(
            GatewayConfig config,
            Set<String> policyOwned,
            Named objects,
            List<Problem> head,
            List<Problem> clashes,
            RouteCheck check) {
        List<Route> routes = config.routes();
        @SuppressWarnings("unchecked")
        List<Problem>[] byRoute = new List[routes.size()];
        @SuppressWarnings("unchecked")
        List<Problem>[] services = new List[routes.size()];
        Map<Object, Integer> counts = new HashMap<>();
        Map<MatchKey, String> firstByMatch = new HashMap<>();
        List<Problem> overlaps = new ArrayList<>();
        CheckedRoutes checked =
                new CheckedRoutes(config, policyOwned, objects, head, overlaps, clashes, byRoute, services, counts);
        for (int i = 0; i < routes.size(); i++) {
            Route r = routes.get(i);
            List<Problem> own = check.own(r, checked);
            if (counts.merge(new RouteName(r.group(), r.name()), 1, Integer::sum) > 1) {
                List<Problem> withDuplicate = new ArrayList<>();
                withDuplicate.add(Problem.error(
                        ProblemCode.ROUTE_DUPLICATE,
                        "routes[" + r.group() + "/" + r.name() + "]",
                        "duplicate route name in group '" + r.group() + "'"));
                withDuplicate.addAll(own);
                own = List.copyOf(withDuplicate);
            }
            byRoute[i] = own;
            services[i] = check.services(r, checked);
            counts.merge(new GroupApi(r.group(), r.api()), 1, Integer::sum);
            Optional<MatchKey> key = MatchKey.of(r);
            if (key.isPresent()) {
                counts.merge(key.get(), 1, Integer::sum);
                String first = firstByMatch.putIfAbsent(key.get(), r.name());
                if (first != null) {
                    overlaps.add(Problem.warning(
                            ProblemCode.ROUTE_SHADOWED,
                            "routes[" + r.group() + "/" + r.name() + "].match",
                            "same match as route '" + first + "': only one of them is reachable"));
                }
            }
        }
        return checked;
    }

    /** Whether {@code next} has this check's groups, upstreams and APIs, the same instances, and the same owned headers. */
    boolean sameObjects(GatewayConfig next, Set<String> policyOwned) {
        return ChangedPlaces.sameInstances(config.groups(), next.groups())
                && ChangedPlaces.sameInstances(config.upstreams(), next.upstreams())
                && ChangedPlaces.sameInstances(config.apis(), next.apis())
                && this.policyOwned.equals(policyOwned);
    }

    /**
     * This check carried over to {@code next}; empty when {@code next} is not a few route changes from it with the same
     * groups, upstreams, APIs and owned headers. The counts move to the check returned, so this one must not be used
     * again either way.
     */
    Optional<CheckedRoutes> changedTo(GatewayConfig next, Set<String> policyOwned, RouteCheck check) {
        if (!sameObjects(next, policyOwned)) {
            return Optional.empty();
        }
        List<Route> now = next.routes();
        List<ChangedPlaces.Span> changed = ChangedPlaces.between(routes, now);
        if (ChangedPlaces.size(changed) > ChangedPlaces.FEW) {
            return Optional.empty();
        }
        Map<Object, Integer> delta = new HashMap<>();
        for (ChangedPlaces.Span place : changed) {
            for (Route r : routes.subList(place.beforeFrom(), place.beforeTo())) {
                keys(r).forEach(k -> delta.merge(k, -1, Integer::sum));
            }
            for (Route r : now.subList(place.nowFrom(), place.nowTo())) {
                keys(r).forEach(k -> delta.merge(k, 1, Integer::sum));
            }
        }
        for (Map.Entry<Object, Integer> d : delta.entrySet()) {
            int was = counts.getOrDefault(d.getKey(), 0);
            int is = was + d.getValue();
            boolean unchanged = d.getKey() instanceof GroupApi ? (was > 0) == (is > 0) : was <= 1 && is <= 1;
            if (!unchanged) {
                return Optional.empty();
            }
        }
        delta.forEach((k, d) -> {
            if (counts.merge(k, d, Integer::sum) == 0) {
                counts.remove(k);
            }
        });
        @SuppressWarnings("unchecked")
        List<Problem>[] nextByRoute = new List[now.size()];
        @SuppressWarnings("unchecked")
        List<Problem>[] nextServices = new List[now.size()];
        CheckedRoutes carried = new CheckedRoutes(
                next,
                policyOwned,
                new Named(groups, upstreamNames, apis, upstreams, serviceHostnames),
                head,
                overlaps,
                clashes,
                nextByRoute,
                nextServices,
                counts);
        int from = 0; // the first place of this check's routes not yet carried
        int to = 0; // and of the next one's
        for (ChangedPlaces.Span place : changed) {
            System.arraycopy(byRoute, from, nextByRoute, to, place.beforeFrom() - from);
            System.arraycopy(services, from, nextServices, to, place.beforeFrom() - from);
            for (int i = place.nowFrom(); i < place.nowTo(); i++) {
                nextByRoute[i] = check.own(now.get(i), carried);
                nextServices[i] = check.services(now.get(i), carried);
            }
            from = place.beforeTo();
            to = place.nowTo();
        }
        System.arraycopy(byRoute, from, nextByRoute, to, routes.size() - from);
        System.arraycopy(services, from, nextServices, to, routes.size() - from);
        CARRIED.incrementAndGet();
        return Optional.of(carried);
    }

    private static List<Object> keys(Route r) {
        List<Object> keys = new ArrayList<>(3);
        keys.add(new RouteName(r.group(), r.name()));
        keys.add(new GroupApi(r.group(), r.api()));
        MatchKey.of(r).ifPresent(keys::add);
        return keys;
    }

    /** The hostnames {@code api} is served on in {@code group} that match {@code serviceName}, worked out once. */
    List<String> serviceHostnames(GatewayGroup group, Api api, java.util.function.Predicate<String> serviceName) {
        return serviceHostnames.computeIfAbsent(
                new GroupApi(group.name(), api.name()), k -> HostnamePlan.hostnames(group, api).stream()
                        .filter(serviceName)
                        .toList());
    }

    /** The headers the policies owned when the routes were checked. */
    Set<String> policyOwned() {
        return policyOwned;
    }

    /**
     * Every problem found, in the order of a whole check: the groups', upstreams' and APIs', each route's, the
     * shadowed matches, the hostname clashes, the Service hostnames.
     */
    List<Problem> problems() {
        List<Problem> out = new ArrayList<>(head);
        for (List<Problem> p : byRoute) {
            if (!p.isEmpty()) {
                out.addAll(p);
            }
        }
        out.addAll(overlaps);
        out.addAll(clashes);
        for (List<Problem> p : services) {
            if (!p.isEmpty()) {
                out.addAll(p);
            }
        }
        return out;
    }
}
