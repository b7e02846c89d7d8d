package io.meshguard.xds.snapshot;

import com.google.protobuf.Duration;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.GrpcService;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;

/** The small protobuf values every builder of this package uses. */
final class XdsProtos {
    private XdsProtos() {}

    private static final ConfigSource ADS = ConfigSource.newBuilder()
            .setAds(AggregatedConfigSource.getDefaultInstance())
            .setResourceApiVersion(ApiVersion.V3)
            .build();

    /** Resources of the same ADS stream. */
    static ConfigSource ads() {
        return ADS;
    }

    /**
     * A gRPC service reached through one of the gateway's clusters, with {@code :authority} the target's host. Unset,
     * Envoy sends the cluster name ("If this field is not set, the authority header value will be cluster_name",
     * envoyproxy/envoy {@code api/envoy/config/core/v3/grpc_service.proto}, {@code EnvoyGrpc.authority}); the gateway's
     * own Istio sidecar routes these HTTP/2 ports by {@code :authority}, so a cluster name that is no Service's goes
     * to PassthroughCluster in plaintext and a STRICT server refuses it (istio/istio
     * {@code pilot/pkg/networking/core/httproute.go}, {@code buildCatchAllVirtualHost}).
     */
    static GrpcService envoyGrpc(String cluster, String target) {
        return GrpcService.newBuilder()
                .setEnvoyGrpc(GrpcService.EnvoyGrpc.newBuilder()
                        .setClusterName(cluster)
                        .setAuthority(FilterTargets.host(target)))
                .build();
    }

    static Address socket(String host, int port) {
        return Address.newBuilder()
                .setSocketAddress(SocketAddress.newBuilder().setAddress(host).setPortValue(port))
                .build();
    }

    static Duration duration(long millis) {
        return Duration.newBuilder()
                .setSeconds(millis / 1000)
                .setNanos((int) (millis % 1000) * 1_000_000)
                .build();
    }
}
