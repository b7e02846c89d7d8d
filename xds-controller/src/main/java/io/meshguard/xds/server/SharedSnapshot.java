package io.meshguard.xds.server;

import io.envoyproxy.controlplane.cache.SnapshotResources;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import java.util.List;

/**
 * A java-control-plane snapshot made of per-type resources indexed before ({@link SnapshotResources}), so snapshots
 * can share the types that did not change instead of indexing every resource again ({@link Snapshot#create} does, for
 * each of a group's three variants on every publish).
 */
final class SharedSnapshot extends Snapshot {
    private static final SnapshotResources<Secret> NO_SECRETS = SnapshotResources.create(List.of(), "");

    private final SnapshotResources<Cluster> clusters;
    private final SnapshotResources<ClusterLoadAssignment> endpoints;
    private final SnapshotResources<Listener> listeners;
    private final SnapshotResources<RouteConfiguration> routes;

    SharedSnapshot(
            SnapshotResources<Cluster> clusters,
            SnapshotResources<ClusterLoadAssignment> endpoints,
            SnapshotResources<Listener> listeners,
            SnapshotResources<RouteConfiguration> routes) {
        this.clusters = clusters;
        this.endpoints = endpoints;
        this.listeners = listeners;
        this.routes = routes;
    }

    @Override
    public SnapshotResources<Cluster> clusters() {
        return clusters;
    }

    @Override
    public SnapshotResources<ClusterLoadAssignment> endpoints() {
        return endpoints;
    }

    @Override
    public SnapshotResources<Listener> listeners() {
        return listeners;
    }

    @Override
    public SnapshotResources<RouteConfiguration> routes() {
        return routes;
    }

    @Override
    public SnapshotResources<Secret> secrets() {
        return NO_SECRETS;
    }
}
