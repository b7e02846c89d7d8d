package io.meshguard.xds.server;

import com.google.protobuf.InvalidProtocolBufferException;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.meshguard.xds.snapshot.GroupResources;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Listener → route configuration → cluster → load assignment: every name a resource refers to must be in the same
 * snapshot. java-control-plane's ADS answers nothing at all when one requested name is missing, and clients then wait
 * out a 15 s does-not-exist timer with the whole type stalled — so a broken snapshot is never set.
 */
public final class ReferenceCheck {
    private ReferenceCheck() {}

    /** The dangling references, empty when the snapshot is consistent. */
    public static List<String> danglingReferences(GroupResources r) {
        List<String> problems = new ArrayList<>();
        Set<String> routeNames = new HashSet<>();
        r.routes().forEach(rc -> routeNames.add(rc.getName()));
        Set<String> clusterNames = CLUSTER_NAMES.computeIfAbsent(r.clusters(), ReferenceCheck::namesOf);

        for (Listener l : r.listeners()) {
            for (String routeName : routeNamesOf(l, problems)) {
                if (!routeNames.contains(routeName)) {
                    problems.add("listener " + l.getName() + " → missing route configuration " + routeName);
                }
            }
        }
        for (RouteConfiguration rc : r.routes()) {
            java.util.Optional<RouteConfiguration> last =
                    COMPLETE_TABLES.closest(rc, t -> COMPLETE_WITHIN.get(t) == clusterNames);
            List<VirtualHost> lastHosts =
                    last.map(RouteConfiguration::getVirtualHostsList).orElse(List.of());
            int before = problems.size();
            List<VirtualHost> hosts = rc.getVirtualHostsList();
            for (int i = 0; i < hosts.size(); i++) {
                VirtualHost vh = hosts.get(i);
                // the host in the same place of the last table found complete within these clusters
                if (i < lastHosts.size() && lastHosts.get(i) == vh || COMPLETE_WITHIN.get(vh) == clusterNames) {
                    continue;
                }
                if (clusterNames.containsAll(rememberedClustersOf(vh))) {
                    COMPLETE_WITHIN.put(vh, clusterNames);
                    continue;
                }
                for (Route route : vh.getRoutesList()) {
                    for (String t : clustersOf(route)) {
                        if (!clusterNames.contains(t)) {
                            problems.add("route " + rc.getName() + "/" + route.getName() + " → missing cluster " + t);
                        }
                    }
                }
            }
            if (problems.size() == before) {
                COMPLETE_WITHIN.put(rc, clusterNames);
                COMPLETE_TABLES.remember(rc);
            }
        }
        Assignments checked = ASSIGNMENTS.get(r.clusters());
        if (checked == null || checked.endpoints() != r.endpoints()) {
            checked = new Assignments(r.endpoints(), assignmentProblems(r.clusters(), clusterNames, r.endpoints()));
            ASSIGNMENTS.put(r.clusters(), checked);
        }
        problems.addAll(checked.problems());
        return problems;
    }

    /** Every EDS cluster has its load assignment and every load assignment its cluster. */
    private static List<String> assignmentProblems(
            List<Cluster> clusters, Set<String> clusterNames, List<ClusterLoadAssignment> endpoints) {
        List<String> problems = new ArrayList<>();
        Set<String> claNames = new HashSet<>();
        endpoints.forEach(e -> claNames.add(e.getClusterName()));
        for (Cluster c : clusters) {
            if (c.getType() == Cluster.DiscoveryType.EDS) {
                String service = c.getEdsClusterConfig().getServiceName().isEmpty()
                        ? c.getName()
                        : c.getEdsClusterConfig().getServiceName();
                if (!claNames.contains(service)) {
                    problems.add("cluster " + c.getName() + " → missing load assignment " + service);
                }
            }
        }
        for (ClusterLoadAssignment cla : endpoints) {
            if (!clusterNames.contains(cla.getClusterName())) {
                problems.add("load assignment " + cla.getClusterName() + " has no cluster");
            }
        }
        return List.copyOf(problems);
    }

    private static Set<String> namesOf(List<Cluster> clusters) {
        Set<String> names = new HashSet<>();
        clusters.forEach(c -> names.add(c.getName()));
        return java.util.Collections.unmodifiableSet(names);
    }

    /**
     * The names of a group's cluster list, and what its load assignments were found to lack, remembered per list
     * instance (weakly; the lists are immutable): a one-route change keeps its group's clusters and load assignments
     * as the lists built before, so a thousand of each are not hashed again.
     */
    private static final Map<List<Cluster>, Set<String>> CLUSTER_NAMES =
            io.meshguard.xds.model.SameInstance.weaklyRemembered();

    private record Assignments(List<ClusterLoadAssignment> endpoints, List<String> problems) {}

    private static final Map<List<Cluster>, Assignments> ASSIGNMENTS =
            io.meshguard.xds.model.SameInstance.weaklyRemembered();

    /**
     * Each virtual host or route table and the cluster names (the set instance of one cluster list, {@link
     * #CLUSTER_NAMES}) that were found to hold every cluster it names, by identity (weakly): a new route table of a group whose clusters did not
     * change checks only its changed virtual hosts.
     */
    private static final Map<com.google.protobuf.Message, Set<String>> COMPLETE_WITHIN =
            io.meshguard.xds.model.SameInstance.weaklyRemembered();

    /**
     * The last route tables of each name found complete: a one-route change's new table is one of them with a virtual
     * host or two replaced, so the others are passed by a comparison of references in place, not a look-up each (issue
     * 48). {@link #COMPLETE_WITHIN} says within which clusters each was complete.
     */
    private static final io.meshguard.xds.snapshot.RecentTables COMPLETE_TABLES =
            new io.meshguard.xds.snapshot.RecentTables();

    /** The clusters a virtual host's routes send to by name: what a node must hold before it accepts it. */
    public static Set<String> clustersOf(VirtualHost vh) {
        Set<String> clusters = new TreeSet<>();
        vh.getRoutesList().forEach(route -> clusters.addAll(clustersOf(route)));
        return Set.copyOf(clusters);
    }

    /**
     * {@link #clustersOf(VirtualHost)}, remembered: a publish's virtual hosts are mostly the instances built before
     * ({@code SnapshotBuilder}), whose protobuf hash is kept, so an unchanged one is looked up, not walked.
     */
    private static Set<String> rememberedClustersOf(VirtualHost vh) {
        Set<String> known = CLUSTERS_OF_HOST.get(vh);
        if (known != null) {
            return known;
        }
        Set<String> clusters = clustersOf(vh);
        CLUSTERS_OF_HOST.put(vh, clusters);
        return clusters;
    }

    /** Virtual hosts whose clusters are remembered: every host of a few large groups, least recently used out. */
    static final int REMEMBERED_HOSTS = 16_384;

    private static final Map<VirtualHost, Set<String>> CLUSTERS_OF_HOST =
            io.meshguard.xds.model.SameInstance.recentlyUsed(REMEMBERED_HOSTS);

    /** The clusters a route sends to by name: what a node must hold before it accepts the route. */
    public static List<String> clustersOf(Route route) {
        if (!route.hasRoute()) {
            return List.of();
        }
        List<String> targets = new ArrayList<>();
        if (!route.getRoute().getCluster().isEmpty()) {
            targets.add(route.getRoute().getCluster());
        }
        route.getRoute().getWeightedClusters().getClustersList().forEach(w -> targets.add(w.getName()));
        return targets;
    }

    /**
     * The route configurations a listener's connection managers name over RDS. Remembered per listener instance
     * (weakly): a publish takes its unchanged listeners from the builds before, and unpacking a group's hundreds of
     * proxyless listeners again on every publish cost more than the check.
     */
    private static List<String> routeNamesOf(Listener l, List<String> problems) {
        List<String> known = ROUTE_NAMES.get(l);
        if (known != null) {
            return known;
        }
        List<String> names = new ArrayList<>();
        try {
            if (l.hasApiListener()) {
                rds(l.getApiListener().getApiListener().unpack(HttpConnectionManager.class), names);
            }
            for (var chain : l.getFilterChainsList()) {
                for (var f : chain.getFiltersList()) {
                    if (f.getTypedConfig().is(HttpConnectionManager.class)) {
                        rds(f.getTypedConfig().unpack(HttpConnectionManager.class), names);
                    }
                }
            }
        } catch (InvalidProtocolBufferException e) {
            problems.add("listener " + l.getName() + " has an unreadable connection manager: " + e.getMessage());
            return names; // not remembered: the problem is reported on every check
        }
        List<String> found = List.copyOf(names);
        ROUTE_NAMES.put(l, found);
        return found;
    }

    private static void rds(HttpConnectionManager hcm, List<String> names) {
        if (hcm.hasRds()) {
            names.add(hcm.getRds().getRouteConfigName());
        }
    }

    private static final Map<Listener, List<String>> ROUTE_NAMES =
            io.meshguard.xds.model.SameInstance.weaklyRemembered();
}
