package io.meshguard.audit.als;

import io.grpc.Server;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The access-log receiver on a gRPC listener of its own (with health and reflection), for running it without
 * the DLP server. Envoy's access-log streams are long-lived, so stopping gives them a short grace period and
 * then cuts them: Envoy reconnects to another replica.
 */
public final class AccessLogServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AccessLogServer.class);

    private final Server server;
    private final HealthStatusManager health;

    private AccessLogServer(Server server, HealthStatusManager health) {
        this.server = server;
        this.health = health;
    }

    /** Starts listening on {@code bind:port} (port 0 picks a free one). */
    public static AccessLogServer start(AccessLogReceiver receiver, String bind, int port) throws IOException {
        Objects.requireNonNull(receiver, "receiver");
        HealthStatusManager health = new HealthStatusManager();
        Server server = NettyServerBuilder.forAddress(new InetSocketAddress(bind, port))
                .addService(receiver)
                .addService(health.getHealthService())
                .addService(ProtoReflectionServiceV1.newInstance())
                .build()
                .start();
        health.setStatus("", ServingStatus.SERVING);
        health.setStatus("envoy.service.accesslog.v3.AccessLogService", ServingStatus.SERVING);
        log.info("Envoy access-log receiver listening on {}:{}", bind, server.getPort());
        return new AccessLogServer(server, health);
    }

    public int port() {
        return server.getPort();
    }

    @Override
    public void close() {
        health.enterTerminalState();
        server.shutdown();
        try {
            if (!server.awaitTermination(2, TimeUnit.SECONDS)) {
                server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            server.shutdownNow();
        }
    }
}
