package io.meshguard.xds.proxyless;

import io.grpc.HandlerRegistry;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerMethodDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCalls;
import io.meshguard.runtime.grpc.RawBytesMarshaller;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** A real gRPC server on loopback that answers every method with its own name, and counts the calls. */
final class Backend implements AutoCloseable {
    static final MethodDescriptor.Marshaller<byte[]> BYTES = RawBytesMarshaller.INSTANCE;

    final String name;
    final AtomicInteger calls = new AtomicInteger();
    private final Server server;

    Backend(String name) throws IOException {
        this.name = name;
        this.server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .fallbackHandlerRegistry(new HandlerRegistry() {
                    @Override
                    public ServerMethodDefinition<?, ?> lookupMethod(String methodName, String authority) {
                        return ServerMethodDefinition.create(
                                method(methodName), ServerCalls.asyncUnaryCall((req, obs) -> {
                                    calls.incrementAndGet();
                                    obs.onNext(name.getBytes(StandardCharsets.UTF_8));
                                    obs.onCompleted();
                                }));
                    }
                })
                .build()
                .start();
    }

    int port() {
        return server.getPort();
    }

    static MethodDescriptor<byte[], byte[]> method(String fullName) {
        return MethodDescriptor.<byte[], byte[]>newBuilder()
                .setType(MethodDescriptor.MethodType.UNARY)
                .setFullMethodName(fullName)
                .setRequestMarshaller(BYTES)
                .setResponseMarshaller(BYTES)
                .build();
    }

    @Override
    public void close() throws InterruptedException {
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
}
