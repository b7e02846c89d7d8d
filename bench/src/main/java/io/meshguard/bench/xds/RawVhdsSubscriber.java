package io.meshguard.bench.xds;

import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.route.v3.VirtualHostDiscoveryServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An Envoy gateway's VHDS stream: a first request naming nothing (Envoy's legacy wildcard: its subscription watches
 * the table's name as a namespace, source/common/router/vhds.cc) and an ACK of every response; records bytes and when each route version was ACKed. Keeps
 * no virtual hosts.
 */
final class RawVhdsSubscriber {
    static final String TYPE_URL = io.meshguard.xds.server.VirtualHostDiscovery.TYPE_URL;

    final AtomicLong bytes = new AtomicLong();
    final AtomicLong responses = new AtomicLong();
    /** When the ACK of each route version ({@code system_version_info}) was handed to the stream. */
    final Map<String, Long> ackedAtNanos = new ConcurrentHashMap<>();

    private final StreamObserver<DeltaDiscoveryRequest> requests;

    RawVhdsSubscriber(ManagedChannel channel, Node node) {
        this.requests = VirtualHostDiscoveryServiceGrpc.newStub(channel).deltaVirtualHosts(new StreamObserver<>() {
            @Override
            public void onNext(DeltaDiscoveryResponse r) {
                bytes.addAndGet(r.getSerializedSize());
                responses.incrementAndGet();
                send(DeltaDiscoveryRequest.newBuilder()
                        .setTypeUrl(TYPE_URL)
                        .setResponseNonce(r.getNonce())
                        .build());
                ackedAtNanos.put(r.getSystemVersionInfo(), System.nanoTime());
            }

            @Override
            public void onError(Throwable t) {
                // the benchmark ends streams by shutting the channel down
            }

            @Override
            public void onCompleted() {}
        });
        send(DeltaDiscoveryRequest.newBuilder()
                .setNode(node)
                .setTypeUrl(TYPE_URL)
                .build());
    }

    private synchronized void send(DeltaDiscoveryRequest r) {
        requests.onNext(r);
    }

    void close() {
        try {
            requests.onCompleted();
        } catch (RuntimeException e) {
            // already closed
        }
    }
}
