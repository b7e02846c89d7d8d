package io.meshguard.xds.zone;

import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * Central's zone port: the one address every zone dials. A port of its own, not the ADS port, so that network teams
 * open exactly it from each cluster to central and nothing back.
 */
public final class ZoneHubServer implements AutoCloseable {
    private final Server server;
    private final ZoneHub hub;

    public ZoneHubServer(InetSocketAddress bind, ZoneHub hub) {
        this.hub = hub;
        this.server = NettyServerBuilder.forAddress(bind)
                .addService(hub.service())
                // zones keep their connection warm every 30 s through NAT and proxies
                .permitKeepAliveTime(20, TimeUnit.SECONDS)
                .permitKeepAliveWithoutCalls(true)
                .maxInboundMessageSize(ZoneStream.MAX_MESSAGE_BYTES)
                .build();
    }

    public ZoneHubServer start() throws IOException {
        server.start();
        return this;
    }

    public int port() {
        return server.getPort();
    }

    /** Stops accepting and closes every zone's stream; the zones keep serving and redial. */
    @Override
    public void close() throws InterruptedException {
        hub.closeAll();
        server.shutdown();
        if (!server.awaitTermination(2, TimeUnit.SECONDS)) {
            server.shutdownNow();
            server.awaitTermination(5, TimeUnit.SECONDS);
        }
    }
}
