package io.meshguard.xds.zone;

import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import io.meshguard.testing.LoopbackGrpc;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An emulated Envoy on one ADS stream, as Envoy starts: wildcard CDS and LDS subscriptions, every response ACKed with
 * its version and nonce (envoyproxy/envoy {@code source/extensions/config_subscription/grpc/grpc_mux_impl.cc}:
 * an ACK repeats the accepted {@code version_info} with the response's nonce).
 */
final class AdsNode implements AutoCloseable {
    static final String CDS = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
    static final String LDS = "type.googleapis.com/envoy.config.listener.v3.Listener";

    private final ManagedChannel channel;
    private final StreamObserver<DiscoveryRequest> requests;
    private final Node node;
    /** Per type: the version ACKed last, and the names of the resources it carried. */
    final Map<String, String> versions = new ConcurrentHashMap<>();

    final Map<String, List<String>> names = new ConcurrentHashMap<>();

    AdsNode(int adsPort, String nodeId, String group) {
        this.channel = LoopbackGrpc.channelTo(adsPort);
        this.node = Node.newBuilder()
                .setId(nodeId)
                .setCluster(group)
                .setUserAgentName("envoy")
                .setUserAgentVersion("1.36.2")
                .build();
        this.requests = AggregatedDiscoveryServiceGrpc.newStub(channel)
                .streamAggregatedResources(new StreamObserver<>() {
                    @Override
                    public void onNext(DiscoveryResponse r) {
                        names.put(
                                r.getTypeUrl(),
                                r.getResourcesList().stream()
                                        .map(a -> name(r.getTypeUrl(), a))
                                        .toList());
                        versions.put(r.getTypeUrl(), r.getVersionInfo());
                        send(DiscoveryRequest.newBuilder()
                                .setNode(node)
                                .setTypeUrl(r.getTypeUrl())
                                .setVersionInfo(r.getVersionInfo())
                                .setResponseNonce(r.getNonce())
                                .build());
                    }

                    @Override
                    public void onError(Throwable t) {}

                    @Override
                    public void onCompleted() {}
                });
        send(DiscoveryRequest.newBuilder().setNode(node).setTypeUrl(CDS).build());
        send(DiscoveryRequest.newBuilder().setNode(node).setTypeUrl(LDS).build());
    }

    private static String name(String type, com.google.protobuf.Any any) {
        try {
            return type.equals(CDS)
                    ? any.unpack(io.envoyproxy.envoy.config.cluster.v3.Cluster.class)
                            .getName()
                    : any.unpack(io.envoyproxy.envoy.config.listener.v3.Listener.class)
                            .getName();
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new IllegalStateException(e);
        }
    }

    private synchronized void send(DiscoveryRequest r) {
        requests.onNext(r);
    }

    /** Whether the node received (and ACKed) both types. */
    boolean configured() {
        return versions.containsKey(CDS) && versions.containsKey(LDS);
    }

    @Override
    public void close() {
        channel.shutdownNow();
    }
}
