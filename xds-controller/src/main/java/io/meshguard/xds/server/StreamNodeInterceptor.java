package io.meshguard.xds.server;

import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;

/**
 * Gives every request of an ADS stream the node of the stream's first request. Envoy with
 * {@code ads_config.set_node_on_first_message_only: true} (both gateway bootstraps set it) sends the node once
 * (source/extensions/config_subscription/grpc/grpc_mux_impl.cc); java-control-plane's SimpleCache picks the
 * snapshot by the node of each request, so without this every request after the first (EDS, LDS, RDS) found no
 * snapshot and got no answer: a real gateway received its clusters and never a listener. Found by the e2e module's
 * Envoy emulator.
 */
final class StreamNodeInterceptor implements ServerInterceptor {
    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(
            ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(next.startCall(call, headers)) {
            private Node node;

            @Override
            @SuppressWarnings("unchecked")
            public void onMessage(Q message) {
                if (message instanceof DiscoveryRequest r) {
                    if (r.hasNode()) {
                        node = r.getNode();
                    } else if (node != null) {
                        message = (Q) r.toBuilder().setNode(node).build();
                    }
                } else if (message instanceof DeltaDiscoveryRequest r) {
                    if (r.hasNode()) {
                        node = r.getNode();
                    } else if (node != null) {
                        message = (Q) r.toBuilder().setNode(node).build();
                    }
                }
                super.onMessage(message);
            }
        };
    }
}
