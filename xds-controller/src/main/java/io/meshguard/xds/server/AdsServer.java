package io.meshguard.xds.server;

import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.envoyproxy.controlplane.server.V3DiscoveryServer;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The ADS gRPC endpoint (port 18000 by default). Connections are never aged out: an ADS stream lives as long as the
 * node, and a forced reconnect would make every node re-fetch everything.
 */
public final class AdsServer implements AutoCloseable, XdsWatchdog.Health {
    private final Server server;
    private final HealthStatusManager health = new HealthStatusManager();

    /**
     * @param peers who may open a stream and read which group; checked against {@code bind} (local development only
     *     on loopback)
     * @param subscriptionStateGroup the node group ({@code node.cluster}) whose granted identities alone are served
     *     {@code subscriptionState}
     */
    public AdsServer(
            InetSocketAddress bind,
            XdsSnapshots snapshots,
            AdsStreams streams,
            NodeGroupMapper groups,
            AdsPeerPolicy peers,
            MeterRegistry meters,
            io.grpc.BindableService subscriptionState,
            String subscriptionStateGroup,
            VirtualHostDiscovery virtualHosts) {
        peers.checkBind(bind);
        SimpleCache<String> cache = snapshots.cache();
        // each resource packed into its Any once per push, not once per stream: 500 nodes of a group share one
        // serialization of its routes (a publish profile); content-equal resources share the same bytes
        V3DiscoveryServer discovery = new V3DiscoveryServer(
                List.of(streams),
                new NackParkingWatcher(cache, streams, groups),
                new io.envoyproxy.controlplane.server.DefaultExecutorGroup(),
                new io.envoyproxy.controlplane.server.serializer.CachedProtoResourcesSerializer());
        this.server = NettyServerBuilder.forAddress(bind)
                // the last interceptor sees a request first: the node is filled in, then the peer checked
                .addService(io.grpc.ServerInterceptors.intercept(
                        discovery.getAggregatedDiscoveryServiceImpl(),
                        new AdsPeerInterceptor(peers, groups, meters),
                        new StreamNodeInterceptor()))
                // VHDS: Envoy nodes' virtual hosts, bound to the node's identity as its ADS stream is
                .addService(io.grpc.ServerInterceptors.intercept(
                        virtualHosts, new AdsPeerInterceptor(peers, groups, meters), new StreamNodeInterceptor()))
                // extauthz replicas follow subscription state here, bound to their identity the same way: a replica's
                // node.cluster "meshguard-extauthz" is the group its SPIFFE ID must be granted
                // (xds.ads.group_identities);
                // every tenant's catalogue is in it, so no other group is served it, whatever that group's grant
                .addService(io.grpc.ServerInterceptors.intercept(
                        subscriptionState,
                        new AdsPeerInterceptor(peers, groups, meters, Optional.of(subscriptionStateGroup)),
                        new StreamNodeInterceptor()))
                .addService(health.getHealthService())
                // Like every meshguard gRPC server (runtime's GrpcServerHost): grpcurl can list and describe ADS.
                .addService(ProtoReflectionServiceV1.newInstance())
                // Envoy's default keepalive pings every 60 s at most; tolerate grpc-java's 5 min default too
                .permitKeepAliveTime(30, TimeUnit.SECONDS)
                .permitKeepAliveWithoutCalls(true)
                .maxInboundMessageSize(16 * 1024 * 1024)
                .build();
    }

    public AdsServer start() throws IOException {
        server.start();
        health.setStatus(XdsWatchdog.LIVENESS_SERVICE, io.grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING);
        return this;
    }

    /** The port's readiness (gRPC health of every service, {@code ""}), as {@link XdsWatchdog} finds the core. */
    @Override
    public void ready(boolean ready) {
        serving(HealthStatusManager.SERVICE_NAME_ALL_SERVICES, ready);
    }

    /** Liveness ({@link XdsWatchdog#LIVENESS_SERVICE}): false once the JVM is deadlocked, for a restart. */
    @Override
    public void alive(boolean alive) {
        serving(XdsWatchdog.LIVENESS_SERVICE, alive);
    }

    private void serving(String service, boolean serving) {
        health.setStatus(
                service,
                serving
                        ? io.grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING
                        : io.grpc.health.v1.HealthCheckResponse.ServingStatus.NOT_SERVING);
    }

    public int port() {
        return server.getPort();
    }

    /** Stops accepting, gives streams {@code graceSeconds} to close, then cuts them. */
    public void stop(long graceSeconds) throws InterruptedException {
        health.enterTerminalState();
        server.shutdown();
        if (!server.awaitTermination(graceSeconds, TimeUnit.SECONDS)) {
            server.shutdownNow();
            server.awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop(0);
    }
}
