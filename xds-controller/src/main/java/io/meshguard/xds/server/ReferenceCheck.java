package io.meshguard.xds.server;

import com.google.protobuf.InvalidProtocolBufferException;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.meshguard.xds.snapshot.GroupResources;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

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
        Set<String> clusterNames = new HashSet<>();
        r.clusters().forEach(c -> clusterNames.add(c.getName()));
        Set<String> claNames = new HashSet<>();
        r.endpoints().forEach(e -> claNames.add(e.getClusterName()));

        for (Listener l : r.listeners()) {
            for (HttpConnectionManager hcm : connectionManagers(l, problems)) {
                if (hcm.hasRds() && !routeNames.contains(hcm.getRds().getRouteConfigName())) {
                    problems.add("listener " + l.getName() + " → missing route configuration "
                            + hcm.getRds().getRouteConfigName());
                }
            }
        }
        for (RouteConfiguration rc : r.routes()) {
            rc.getVirtualHostsList().forEach(vh -> vh.getRoutesList().forEach(route -> {
                for (String t : clustersOf(route)) {
                    if (!clusterNames.contains(t)) {
                        problems.add("route " + rc.getName() + "/" + route.getName() + " → missing cluster " + t);
                    }
                }
            }));
        }
        for (Cluster c : r.clusters()) {
            if (c.getType() == Cluster.DiscoveryType.EDS) {
                String service = c.getEdsClusterConfig().getServiceName().isEmpty()
                        ? c.getName()
                        : c.getEdsClusterConfig().getServiceName();
                if (!claNames.contains(service)) {
                    problems.add("cluster " + c.getName() + " → missing load assignment " + service);
                }
            }
        }
        for (ClusterLoadAssignment cla : r.endpoints()) {
            if (!clusterNames.contains(cla.getClusterName())) {
                problems.add("load assignment " + cla.getClusterName() + " has no cluster");
            }
        }
        return problems;
    }

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

    private static List<HttpConnectionManager> connectionManagers(Listener l, List<String> problems) {
        List<HttpConnectionManager> out = new ArrayList<>();
        try {
            if (l.hasApiListener()) {
                out.add(l.getApiListener().getApiListener().unpack(HttpConnectionManager.class));
            }
            for (var chain : l.getFilterChainsList()) {
                for (var f : chain.getFiltersList()) {
                    if (f.getTypedConfig().is(HttpConnectionManager.class)) {
                        out.add(f.getTypedConfig().unpack(HttpConnectionManager.class));
                    }
                }
            }
        } catch (InvalidProtocolBufferException e) {
            problems.add("listener " + l.getName() + " has an unreadable connection manager: " + e.getMessage());
        }
        return out;
    }
}
