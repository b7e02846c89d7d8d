package io.meshguard.emulator;

import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import java.util.Map;

/**
 * The resources an Envoy node has accepted, by name. Immutable: each accepted response gives a new instance.
 *
 * @param routes the route tables the node routes with: a route configuration with VHDS holds its RDS virtual hosts
 *     followed by its VHDS ones, and is absent until its first VHDS response is in ({@link VhdsSubscription})
 * @param versions the accepted {@code version_info} per type URL ({@link VhdsSubscription#TYPE_URL}: the last
 *     applied VHDS response's {@code system_version_info})
 */
public record XdsResources(
        Map<String, Listener> listeners,
        Map<String, RouteConfiguration> routes,
        Map<String, Cluster> clusters,
        Map<String, ClusterLoadAssignment> endpoints,
        Map<String, String> versions) {

    public static final String LDS = "type.googleapis.com/envoy.config.listener.v3.Listener";
    public static final String RDS = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
    public static final String CDS = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
    public static final String EDS = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";

    public XdsResources {
        listeners = Map.copyOf(listeners);
        routes = Map.copyOf(routes);
        clusters = Map.copyOf(clusters);
        endpoints = Map.copyOf(endpoints);
        versions = Map.copyOf(versions);
    }

    static XdsResources empty() {
        return new XdsResources(Map.of(), Map.of(), Map.of(), Map.of(), Map.of());
    }

    /** The accepted version of a type, "" before the first accepted response. */
    public String version(String typeUrl) {
        return versions.getOrDefault(typeUrl, "");
    }
}
