package io.meshguard.extauthz.server;

import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.meshguard.extauthz.audit.DecisionSink;
import io.meshguard.testing.LoopbackGrpc;
import io.meshguard.testing.OpenResources;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;

/** The Check service over real gRPC on loopback, as Envoy calls it; pipeline, server and channel close with {@code open}. */
public final class AuthzOnLoopback {
    private AuthzOnLoopback() {}

    public static AuthorizationGrpc.AuthorizationBlockingStub serve(
            OpenResources open, AuthzPipeline pipeline, DecisionSink rows, MeterRegistry registry) throws Exception {
        open.add(pipeline);
        Server server = LoopbackGrpc.serve(new AuthorizationService(pipeline, rows, Clock.systemUTC(), registry));
        open.add(server::shutdownNow);
        ManagedChannel channel = LoopbackGrpc.channelTo(server.getPort());
        open.add(channel::shutdownNow);
        return AuthorizationGrpc.newBlockingStub(channel);
    }
}
