package io.meshguard.xds.snapshot;

import static io.meshguard.xds.snapshot.XdsProtos.ads;
import static io.meshguard.xds.snapshot.XdsProtos.duration;
import static io.meshguard.xds.snapshot.XdsProtos.socket;

import com.google.protobuf.Any;
import com.google.protobuf.UInt32Value;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.cluster.v3.UpstreamConnectionOptions;
import io.envoyproxy.envoy.config.core.v3.Http2ProtocolOptions;
import io.envoyproxy.envoy.config.core.v3.KeepaliveSettings;
import io.envoyproxy.envoy.config.core.v3.TcpKeepalive;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;

/**
 * The clusters of meshguard's own servers (ext_authz, DLP, access log) and the endpoint-less cluster closed versions
 * point at. A filter call has no per-message timer under FULL_DUPLEX_STREAMED, so a peer that vanishes without a
 * FIN or RST (a node lost, a partition) must be found by the connection itself: HTTP/2 PINGs every 10 s that must be
 * answered within 5 s ({@code Http2ProtocolOptions.connection_keepalive}, {@code api/envoy/config/core/v3/protocol.proto};
 * a missed PING closes the connection and resets its streams — ext_proc then fails closed), and kernel TCP
 * keepalives as the second line ({@code Cluster.upstream_connection_options.tcp_keepalive}, {@code
 * api/envoy/config/cluster/v3/cluster.proto}, {@code TcpKeepalive} in {@code api/envoy/config/core/v3/address.proto}).
 */
final class FilterClusters {
    private FilterClusters() {}

    static final long CONNECT_TIMEOUT_MS = 1000;
    static final long PING_INTERVAL_MS = 10_000;
    static final long PING_TIMEOUT_MS = 5_000;
    static final int TCP_KEEPALIVE_TIME_S = 30;
    static final int TCP_KEEPALIVE_INTERVAL_S = 10;
    static final int TCP_KEEPALIVE_PROBES = 3;
    /** Envoy's edge guide: 32 KiB per connection, listeners and clusters ({@code best_practices/edge.rst}). */
    static final int EDGE_BUFFER_LIMIT_BYTES = 32 * 1024;

    /** A filter server's cluster: resolved by DNS, always HTTP/2 (gRPC), dead peers found by keepalives. */
    static Cluster filterCluster(String name, String target) {
        return Cluster.newBuilder()
                .setName(name)
                .setType(Cluster.DiscoveryType.STRICT_DNS)
                // as for upstreams (UpstreamClusters): an AAAA answer on an IPv4-only pod must not be dialled first
                // (AUTO prefers IPv6; cluster.proto DnsLookupFamily)
                .setDnsLookupFamily(Cluster.DnsLookupFamily.V4_PREFERRED)
                .setPerConnectionBufferLimitBytes(UInt32Value.of(EDGE_BUFFER_LIMIT_BYTES))
                .setConnectTimeout(duration(CONNECT_TIMEOUT_MS))
                .putTypedExtensionProtocolOptions(
                        EnvoyNames.HTTP_PROTOCOL_OPTIONS,
                        Any.pack(HttpProtocolOptions.newBuilder()
                                .setExplicitHttpConfig(HttpProtocolOptions.ExplicitHttpConfig.newBuilder()
                                        .setHttp2ProtocolOptions(edgeHttp2Windows().toBuilder()
                                                .setConnectionKeepalive(KeepaliveSettings.newBuilder()
                                                        .setInterval(duration(PING_INTERVAL_MS))
                                                        .setTimeout(duration(PING_TIMEOUT_MS)))))
                                .build()))
                .setUpstreamConnectionOptions(UpstreamConnectionOptions.newBuilder()
                        .setTcpKeepalive(TcpKeepalive.newBuilder()
                                .setKeepaliveTime(UInt32Value.of(TCP_KEEPALIVE_TIME_S))
                                .setKeepaliveInterval(UInt32Value.of(TCP_KEEPALIVE_INTERVAL_S))
                                .setKeepaliveProbes(UInt32Value.of(TCP_KEEPALIVE_PROBES))))
                .setLoadAssignment(ClusterLoadAssignment.newBuilder()
                        .setClusterName(name)
                        .addEndpoints(LocalityLbEndpoints.newBuilder()
                                .addLbEndpoints(LbEndpoint.newBuilder()
                                        .setEndpoint(Endpoint.newBuilder()
                                                .setAddress(socket(
                                                        FilterTargets.host(target), FilterTargets.port(target)))))))
                .build();
    }

    /** HTTP/2 flow-control windows of Envoy's edge guide ({@code best_practices/edge.rst}): 64 KiB and 1 MiB. */
    static Http2ProtocolOptions edgeHttp2Windows() {
        return Http2ProtocolOptions.newBuilder()
                .setInitialStreamWindowSize(UInt32Value.of(64 * 1024))
                .setInitialConnectionWindowSize(UInt32Value.of(1024 * 1024))
                .build();
    }

    /** The cluster closed (sunset, retired) versions point at for proxyless clients; it never has endpoints. */
    static Cluster closedCluster() {
        return Cluster.newBuilder()
                .setName(EnvoyNames.CLOSED_CLUSTER)
                .setType(Cluster.DiscoveryType.EDS)
                .setEdsClusterConfig(Cluster.EdsClusterConfig.newBuilder()
                        .setEdsConfig(ads())
                        .setServiceName(EnvoyNames.CLOSED_CLUSTER))
                .setConnectTimeout(duration(CONNECT_TIMEOUT_MS))
                .build();
    }
}
