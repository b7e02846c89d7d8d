package io.meshguard.xds.snapshot;

import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import java.util.List;

/** The four xDS resource lists of one gateway group, each sorted by name. */
public record GroupResources(
        String group,
        List<Listener> listeners,
        List<RouteConfiguration> routes,
        List<Cluster> clusters,
        List<ClusterLoadAssignment> endpoints) {

    public GroupResources {
        listeners = List.copyOf(listeners);
        routes = List.copyOf(routes);
        clusters = List.copyOf(clusters);
        endpoints = List.copyOf(endpoints);
    }

    /** Serialized size of all resources, what a client subscribed to everything receives. */
    public long totalBytes() {
        long n = 0;
        for (var m : listeners) {
            n += m.getSerializedSize();
        }
        for (var m : routes) {
            n += m.getSerializedSize();
        }
        for (var m : clusters) {
            n += m.getSerializedSize();
        }
        for (var m : endpoints) {
            n += m.getSerializedSize();
        }
        return n;
    }
}
