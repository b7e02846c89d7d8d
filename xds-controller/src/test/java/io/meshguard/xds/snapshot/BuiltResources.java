package io.meshguard.xds.snapshot;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import java.util.Map;
import java.util.TreeMap;

/** What the snapshot tests read out of a group's built resources: a listener, its HTTP filters, its routes. */
final class BuiltResources {
    private BuiltResources() {}

    /** The listener named {@code name}; fails when there is none. */
    static Listener listener(GroupResources r, String name) {
        return r.listeners().stream()
                .filter(l -> l.getName().equals(name))
                .findFirst()
                .orElseThrow();
    }

    /** The HTTP connection manager of listener {@code name}'s first filter chain. */
    static HttpConnectionManager connectionManager(GroupResources r, String name)
            throws InvalidProtocolBufferException {
        return listener(r, name)
                .getFilterChains(0)
                .getFilters(0)
                .getTypedConfig()
                .unpack(HttpConnectionManager.class);
    }

    /** The typed configuration of the HTTP filter named {@code name}; fails when there is none. */
    static <T extends Message> T filter(HttpConnectionManager hcm, String name, Class<T> type)
            throws InvalidProtocolBufferException {
        return hcm.getHttpFiltersList().stream()
                .filter(f -> f.getName().equals(name))
                .findFirst()
                .orElseThrow()
                .getTypedConfig()
                .unpack(type);
    }

    /** The route configuration named {@code name}; fails when there is none. */
    static RouteConfiguration routeConfiguration(GroupResources r, String name) {
        return r.routes().stream()
                .filter(x -> x.getName().equals(name))
                .findFirst()
                .orElseThrow();
    }

    /** Every route of route configuration {@code name}, over all its virtual hosts, by route name. */
    static Map<String, Route> routesByName(GroupResources r, String name) {
        Map<String, Route> byName = new TreeMap<>();
        routeConfiguration(r, name).getVirtualHostsList().forEach(vh -> vh.getRoutesList()
                .forEach(x -> byName.put(x.getName(), x)));
        return byName;
    }
}
