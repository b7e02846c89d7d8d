package io.meshguard.bench.xds;

import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A SotW ADS client that behaves like Envoy: subscribes to the four types, ACKs every response, and records bytes
 * and arrival times. Keeps no resources (its memory is not the controller's).
 */
final class RawAdsSubscriber {
    static final String LDS = "type.googleapis.com/envoy.config.listener.v3.Listener";
    static final String RDS = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
    static final String CDS = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
    static final String EDS = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";

    final AtomicLong bytes = new AtomicLong();
    final AtomicLong responses = new AtomicLong();
    final Map<String, String> versions = new ConcurrentHashMap<>();
    final Map<String, Long> arrivedAtNanos = new ConcurrentHashMap<>();
    /** When the ACK of each {@code type@version} was handed to the stream (after {@link #versions} was updated). */
    final Map<String, Long> ackedAtNanos = new ConcurrentHashMap<>();

    private final StreamObserver<DiscoveryRequest> requests;
    private final Node node;
    private final Map<String, List<String>> names;

    RawAdsSubscriber(
            ManagedChannel channel, String nodeId, String group, List<String> routeNames, List<String> clusterNames) {
        this(channel, Node.newBuilder().setId(nodeId).setCluster(group).build(), routeNames, clusterNames);
    }

    /** With {@code node} as given: {@code user_agent_name: envoy} gets Envoy's snapshot (with VHDS, table shells). */
    RawAdsSubscriber(ManagedChannel channel, Node node, List<String> routeNames, List<String> clusterNames) {
        this.node = node;
        this.names = Map.of(LDS, List.of(), CDS, List.of(), RDS, routeNames, EDS, clusterNames);
        this.requests = AggregatedDiscoveryServiceGrpc.newStub(channel)
                .streamAggregatedResources(new StreamObserver<>() {
                    @Override
                    public void onNext(DiscoveryResponse r) {
                        bytes.addAndGet(r.getSerializedSize());
                        responses.incrementAndGet();
                        // arrival first: a waiter polling versions then reads the time
                        arrivedAtNanos.put(r.getTypeUrl() + "@" + r.getVersionInfo(), System.nanoTime());
                        versions.put(r.getTypeUrl(), r.getVersionInfo());
                        send(r.getTypeUrl(), r.getVersionInfo(), r.getNonce());
                        ackedAtNanos.put(r.getTypeUrl() + "@" + r.getVersionInfo(), System.nanoTime());
                    }

                    @Override
                    public void onError(Throwable t) {
                        // the benchmark ends streams by shutting the channel down
                    }

                    @Override
                    public void onCompleted() {}
                });
        for (String type : List.of(CDS, EDS, LDS, RDS)) {
            send(type, "", "");
        }
    }

    private synchronized void send(String type, String version, String nonce) {
        requests.onNext(DiscoveryRequest.newBuilder()
                .setNode(node)
                .setTypeUrl(type)
                .addAllResourceNames(names.get(type))
                .setVersionInfo(version)
                .setResponseNonce(nonce)
                .build());
    }

    void close() {
        try {
            requests.onCompleted();
        } catch (RuntimeException e) {
            // already closed
        }
    }
}
