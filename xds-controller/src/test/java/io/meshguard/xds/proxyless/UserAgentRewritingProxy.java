package io.meshguard.xds.proxyless;

import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.stub.StreamObserver;
import io.meshguard.testing.LoopbackGrpc;
import java.io.IOException;
import java.util.concurrent.TimeUnit;

/**
 * An ADS hop on loopback that passes every message through unchanged except the node's {@code user_agent_name} and
 * {@code user_agent_version}, which it replaces. grpc-java sets both itself (its bootstrap cannot), so this is how a
 * real grpc-java xDS client poses as another client library while everything else it does stays its own.
 */
final class UserAgentRewritingProxy implements AutoCloseable {
    private final ManagedChannel upstream;
    private final Server server;

    UserAgentRewritingProxy(int adsPort, String userAgentName, String userAgentVersion) throws IOException {
        upstream = LoopbackGrpc.channelTo(adsPort);
        var controller = AggregatedDiscoveryServiceGrpc.newStub(upstream);
        server = LoopbackGrpc.serve(new AggregatedDiscoveryServiceGrpc.AggregatedDiscoveryServiceImplBase() {
            @Override
            public StreamObserver<DiscoveryRequest> streamAggregatedResources(
                    StreamObserver<DiscoveryResponse> client) {
                // the controller's answers go to the client untouched: only what the client sends is rewritten
                StreamObserver<DiscoveryRequest> toController = controller.streamAggregatedResources(client);
                return new StreamObserver<>() {
                    @Override
                    public void onNext(DiscoveryRequest r) {
                        if (r.hasNode()) {
                            r = r.toBuilder()
                                    .setNode(r.getNode().toBuilder()
                                            .setUserAgentName(userAgentName)
                                            .setUserAgentVersion(userAgentVersion))
                                    .build();
                        }
                        toController.onNext(r);
                    }

                    @Override
                    public void onError(Throwable t) {
                        toController.onError(t);
                    }

                    @Override
                    public void onCompleted() {
                        toController.onCompleted();
                    }
                };
            }
        });
    }

    int port() {
        return server.getPort();
    }

    @Override
    public void close() throws InterruptedException {
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        upstream.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
}
