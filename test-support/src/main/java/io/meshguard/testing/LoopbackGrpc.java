package io.meshguard.testing;

import io.grpc.BindableService;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;

/** A test's own gRPC server on a free loopback port, and plaintext channels to a port on loopback. */
public final class LoopbackGrpc {
    private LoopbackGrpc() {}

    /** A started Netty server on 127.0.0.1 and a free port, serving {@code service}; the caller shuts it down. */
    public static Server serve(BindableService service) {
        return serve(service.bindService());
    }

    /** As {@link #serve(BindableService)}, for a service already bound (wrapped in interceptors, say). */
    public static Server serve(ServerServiceDefinition service) {
        try {
            return NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                    .addService(service)
                    .build()
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("the test's gRPC server did not start", e);
        }
    }

    /** A plaintext Netty channel to {@code port} on 127.0.0.1; the caller shuts it down. */
    public static ManagedChannel channelTo(int port) {
        return NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    }
}
