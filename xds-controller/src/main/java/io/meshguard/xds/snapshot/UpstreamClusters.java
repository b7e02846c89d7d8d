package io.meshguard.xds.snapshot;

import static io.meshguard.xds.snapshot.XdsProtos.ads;
import static io.meshguard.xds.snapshot.XdsProtos.duration;
import static io.meshguard.xds.snapshot.XdsProtos.socket;

import com.google.protobuf.Any;
import com.google.protobuf.UInt32Value;
import io.envoyproxy.envoy.config.cluster.v3.CircuitBreakers;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.cluster.v3.OutlierDetection;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.core.v3.HealthCheck;
import io.envoyproxy.envoy.config.core.v3.Locality;
import io.envoyproxy.envoy.config.core.v3.RoutingPriority;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SubjectAltNameMatcher;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsParameters;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.meshguard.xds.model.GatewayGroup;
import io.meshguard.xds.model.Upstream;
import java.util.List;
import java.util.Optional;

/**
 * The CDS cluster (and, for IP endpoints, the EDS load assignment) of one operator upstream. The cluster type follows
 * {@link Upstream#discovery()}: IP literals go to EDS, DNS names to a DNS cluster that carries them in an inline
 * {@code load_assignment} — Envoy refuses a name in an EDS endpoint ({@code source/common/upstream/upstream_impl.cc}).
 */
final class UpstreamClusters {
    private UpstreamClusters() {}

    /** The upstream's cluster; the upstream must have passed validation (no mixed endpoints). */
    static Cluster cluster(Upstream u, GatewayGroup group) {
        Cluster.Builder c = Cluster.newBuilder()
                .setName(u.name())
                .setConnectTimeout(duration(u.connectTimeoutMs()))
                // Envoy's edge guide: 32 KiB per upstream connection (docs/root/configuration/best_practices/edge.rst)
                .setPerConnectionBufferLimitBytes(UInt32Value.of(FilterClusters.EDGE_BUFFER_LIMIT_BYTES))
                .setLbPolicy(
                        switch (u.lbPolicy()) {
                            case ROUND_ROBIN -> Cluster.LbPolicy.ROUND_ROBIN;
                            case LEAST_REQUEST -> Cluster.LbPolicy.LEAST_REQUEST;
                            case RANDOM -> Cluster.LbPolicy.RANDOM;
                            case RING_HASH -> Cluster.LbPolicy.RING_HASH;
                            case MAGLEV -> Cluster.LbPolicy.MAGLEV;
                        });
        switch (u.discovery()) {
            case EDS ->
                c.setType(Cluster.DiscoveryType.EDS)
                        .setEdsClusterConfig(Cluster.EdsClusterConfig.newBuilder()
                                .setEdsConfig(ads())
                                .setServiceName(u.name()));
            // Both DNS kinds resolve asynchronously and re-resolve every dns_refresh_rate (5 s default);
            // V4_PREFERRED: an AAAA answer on an IPv4-only pod or compose network would otherwise be dialled first
            // (AUTO prefers IPv6), cluster.proto DnsLookupFamily.
            case LOGICAL_DNS ->
                c.setType(Cluster.DiscoveryType.LOGICAL_DNS)
                        .setDnsLookupFamily(Cluster.DnsLookupFamily.V4_PREFERRED)
                        .setLoadAssignment(assignment(u, group));
            case STRICT_DNS ->
                c.setType(Cluster.DiscoveryType.STRICT_DNS)
                        .setDnsLookupFamily(Cluster.DnsLookupFamily.V4_PREFERRED)
                        .setLoadAssignment(assignment(u, group));
            case MIXED ->
                throw new IllegalArgumentException(
                        "upstream '" + u.name() + "' mixes IP and DNS endpoints; validation refuses it");
        }
        if (u.protocol() != Upstream.Protocol.HTTP1) {
            c.putTypedExtensionProtocolOptions(EnvoyNames.HTTP_PROTOCOL_OPTIONS, Any.pack(http2Options()));
        }
        u.tls()
                .ifPresent(tls -> c.setTransportSocket(TransportSocket.newBuilder()
                        .setName(EnvoyNames.TLS_TRANSPORT_SOCKET)
                        .setTypedConfig(Any.pack(upstreamTls(u, tls)))));
        u.healthCheck().ifPresent(hc -> {
            HealthCheck.Builder h = HealthCheck.newBuilder()
                    .setInterval(duration(hc.intervalMs()))
                    .setTimeout(duration(hc.timeoutMs()))
                    .setUnhealthyThreshold(UInt32Value.of(hc.unhealthyThreshold()))
                    .setHealthyThreshold(UInt32Value.of(hc.healthyThreshold()));
            if (u.protocol() == Upstream.Protocol.GRPC) {
                h.setGrpcHealthCheck(HealthCheck.GrpcHealthCheck.getDefaultInstance());
            } else if (hc.path().isPresent()) {
                h.setHttpHealthCheck(HealthCheck.HttpHealthCheck.newBuilder()
                        .setPath(hc.path().get()));
            } else {
                h.setTcpHealthCheck(HealthCheck.TcpHealthCheck.getDefaultInstance());
            }
            c.addHealthChecks(h);
        });
        u.circuitBreaker()
                .ifPresent(cb -> c.setCircuitBreakers(CircuitBreakers.newBuilder()
                        .addThresholds(CircuitBreakers.Thresholds.newBuilder()
                                .setPriority(RoutingPriority.DEFAULT)
                                .setMaxConnections(UInt32Value.of(cb.maxConnections()))
                                .setMaxPendingRequests(UInt32Value.of(cb.maxPendingRequests()))
                                .setMaxRequests(UInt32Value.of(cb.maxRequests()))
                                .setMaxRetries(UInt32Value.of(cb.maxRetries())))));
        u.outlierDetection()
                .ifPresent(od -> c.setOutlierDetection(OutlierDetection.newBuilder()
                        .setConsecutive5Xx(UInt32Value.of(od.consecutive5xx()))
                        .setInterval(duration(od.intervalMs()))
                        .setBaseEjectionTime(duration(od.baseEjectionMs()))
                        .setMaxEjectionPercent(UInt32Value.of(od.maxEjectionPercent()))));
        return c.build();
    }

    /** The EDS load assignment of an upstream whose endpoints are IP literals; empty for a DNS cluster. */
    static Optional<ClusterLoadAssignment> edsAssignment(Upstream u, GatewayGroup group) {
        return u.discovery() == Upstream.Discovery.EDS ? Optional.of(assignment(u, group)) : Optional.empty();
    }

    private static ClusterLoadAssignment assignment(Upstream u, GatewayGroup group) {
        LocalityLbEndpoints.Builder locality = LocalityLbEndpoints.newBuilder()
                .setLocality(Locality.newBuilder().setRegion(group.region()))
                // gRPC ignores localities without a weight
                .setLoadBalancingWeight(UInt32Value.of(1));
        for (Upstream.Endpoint e : u.endpoints()) {
            locality.addLbEndpoints(LbEndpoint.newBuilder()
                    .setEndpoint(Endpoint.newBuilder().setAddress(socket(e.address(), e.port())))
                    .setLoadBalancingWeight(UInt32Value.of(e.weight())));
        }
        ClusterLoadAssignment.Builder cla = ClusterLoadAssignment.newBuilder().setClusterName(u.name());
        if (!u.endpoints().isEmpty()) {
            cla.addEndpoints(locality);
        }
        return cla.build();
    }

    /**
     * Verified TLS: TLS 1.2 at least, the certificate chained to the CA bundle and naming one of the accepted DNS
     * names (Envoy would otherwise accept any certificate from any CA it is given), ALPN by protocol so an h2
     * upstream is not downgraded.
     */
    private static UpstreamTlsContext upstreamTls(Upstream u, Upstream.Tls tls) {
        String serverName = u.tlsServerName().orElseThrow(); // validation refuses TLS without one
        CertificateValidationContext.Builder validation = CertificateValidationContext.newBuilder()
                .setTrustedCa(DataSource.newBuilder().setFilename(tls.caFile().orElse(Upstream.Tls.SYSTEM_CA_FILE)));
        for (String san : tls.subjectAltNames().isEmpty() ? List.of(serverName) : tls.subjectAltNames()) {
            validation.addMatchTypedSubjectAltNames(SubjectAltNameMatcher.newBuilder()
                    .setSanType(SubjectAltNameMatcher.SanType.DNS)
                    .setMatcher(StringMatcher.newBuilder().setExact(san)));
        }
        return UpstreamTlsContext.newBuilder()
                .setSni(serverName)
                .setCommonTlsContext(CommonTlsContext.newBuilder()
                        .setTlsParams(TlsParameters.newBuilder()
                                .setTlsMinimumProtocolVersion(TlsParameters.TlsProtocol.TLSv1_2))
                        .addAlpnProtocols(u.protocol() == Upstream.Protocol.HTTP1 ? "http/1.1" : "h2")
                        .setValidationContext(validation))
                .build();
    }

    static HttpProtocolOptions http2Options() {
        return HttpProtocolOptions.newBuilder()
                .setExplicitHttpConfig(HttpProtocolOptions.ExplicitHttpConfig.newBuilder()
                        // the edge guide's cluster windows (best_practices/edge.rst: 64 KiB stream, 1 MiB
                        // connection; Envoy's defaults are 256 MiB each)
                        .setHttp2ProtocolOptions(FilterClusters.edgeHttp2Windows()))
                .build();
    }
}
