package io.meshguard.xds.snapshot;

import io.envoyproxy.envoy.config.core.v3.ApiConfigSource;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.GrpcService;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.Vhds;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Envoy's route tables with their virtual hosts served one by one over VHDS: a one-route change then sends
 * its virtual host (~11 KB at 2,000 routes) to each node instead of the whole table (2.26 MB).
 *
 * <p>Each Envoy table becomes a shell (every field but {@code virtual_hosts}, plus {@code vhds}) served over RDS, and
 * its virtual hosts become resources named {@code <table>/<virtual host>} — the naming the VHDS protocol gives them
 * (envoyproxy/envoy {@code docs/root/configuration/http/http_conn_man/vhds.rst}). Each virtual host's own
 * {@code name} is that resource name too: Envoy keys the virtual hosts VHDS delivered by {@code VirtualHost.name} and
 * removes them by the resource names of {@code removed_resources}
 * ({@code source/common/router/route_config_update_receiver_impl.cc}), so the two must be one string.
 *
 * <p>The config source is the bootstrap's controller cluster with {@code DELTA_GRPC}: VHDS is delta-only, and
 * {@code ads {}} would be refused while the gateway's ADS stream is state-of-the-world ({@code
 * source/common/router/vhds.cc}, "ADS must use DELTA_GRPC api_type"). The proxyless clients' table stays whole:
 * grpc-java's xDS client has no VHDS (and no Envoy asks for that table).
 */
public record VirtualHostTables(List<RouteConfiguration> shells, Map<String, Map<String, Host>> hosts) {

    /** One virtual host as served, with its version: a hash of its content, so an unchanged host is not resent. */
    public record Host(VirtualHost host, String version) {}

    public VirtualHostTables {
        shells = List.copyOf(shells);
        hosts = Map.copyOf(hosts);
    }

    /**
     * What the VHDS config source lets a gateway send: a burst of 10 requests, then 1 a second (Envoy's
     * {@code ApiConfigSource.rate_limit_settings}, a token bucket on its discovery requests). A publish costs a node one
     * ACK per response, far inside it; a refusing node cannot turn a bug into a storm.
     */
    static final io.envoyproxy.envoy.config.core.v3.RateLimitSettings RATE_LIMIT =
            io.envoyproxy.envoy.config.core.v3.RateLimitSettings.newBuilder()
                    .setMaxTokens(com.google.protobuf.UInt32Value.of(10))
                    .setFillRate(com.google.protobuf.DoubleValue.of(1.0))
                    .build();

    /** Splits every Envoy route table of {@code routes}; {@code controllerCluster} is the bootstrap's xDS cluster. */
    public static VirtualHostTables split(List<RouteConfiguration> routes, String controllerCluster) {
        Vhds vhds = Vhds.newBuilder()
                .setConfigSource(ConfigSource.newBuilder()
                        .setResourceApiVersion(ApiVersion.V3)
                        .setApiConfigSource(ApiConfigSource.newBuilder()
                                .setApiType(ApiConfigSource.ApiType.DELTA_GRPC)
                                .setTransportApiVersion(ApiVersion.V3)
                                // Envoy answers a NACK with its next request at once; with these it sends at most
                                // 10 in a burst and then 1 a second, whatever the controller does (RATE_LIMIT)
                                .setRateLimitSettings(RATE_LIMIT)
                                .addGrpcServices(GrpcService.newBuilder()
                                        .setEnvoyGrpc(GrpcService.EnvoyGrpc.newBuilder()
                                                .setClusterName(controllerCluster)))))
                .build();
        List<RouteConfiguration> shells = new ArrayList<>(routes.size());
        Map<String, Map<String, Host>> hosts = new LinkedHashMap<>();
        for (RouteConfiguration rc : routes) {
            if (rc.getName().equals(EnvoyNames.PROXYLESS_ROUTES)) {
                continue; // no Envoy asks for it, and with it every route change would move the shells' version
            }
            Map<String, Host> byName = new LinkedHashMap<>();
            for (VirtualHost vh : rc.getVirtualHostsList()) {
                String name = resourceName(rc.getName(), vh.getName());
                VirtualHost named = vh.toBuilder().setName(name).build();
                byName.put(name, new Host(named, TypeVersions.hash(List.of(named))));
            }
            hosts.put(rc.getName(), byName);
            shells.add(rc.toBuilder().clearVirtualHosts().setVhds(vhds).build());
        }
        return new VirtualHostTables(shells, hosts);
    }

    /** {@code <route configuration>/<virtual host>}; a host entry holds no slash, a table name may. */
    public static String resourceName(String routeConfiguration, String virtualHost) {
        return routeConfiguration + "/" + virtualHost;
    }
}
