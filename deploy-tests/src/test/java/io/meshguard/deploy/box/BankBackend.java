package io.meshguard.deploy.box;

import com.sun.net.httpserver.HttpServer;
import io.grpc.HandlerRegistry;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCalls;
import io.meshguard.runtime.grpc.RawBytesMarshaller;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * The bank's payments backend: over HTTP/1.1 and over gRPC (any unary method), it answers who reached it: the
 * {@code Host} / {@code :authority} it received and the {@code x-forwarded-client-cert} its sidecar set, if any.
 */
public final class BankBackend {
    private static final Metadata.Key<String> XFCC =
            Metadata.Key.of("x-forwarded-client-cert", Metadata.ASCII_STRING_MARSHALLER);

    private BankBackend() {}

    static MethodDescriptor<byte[], byte[]> unary(String fullMethod) {
        return MethodDescriptor.<byte[], byte[]>newBuilder()
                .setType(MethodDescriptor.MethodType.UNARY)
                .setFullMethodName(fullMethod)
                .setRequestMarshaller(RawBytesMarshaller.INSTANCE)
                .setResponseMarshaller(RawBytesMarshaller.INSTANCE)
                .build();
    }

    public static void main(String[] args) throws Exception {
        int httpPort = Integer.parseInt(args[0]);
        int grpcPort = Integer.parseInt(args[1]);
        HttpServer http = HttpServer.create(new InetSocketAddress("0.0.0.0", httpPort), 50);
        http.createContext("/", ex -> {
            byte[] body = ("payments answered " + ex.getRequestURI().getPath() + " host="
                            + ex.getRequestHeaders().getFirst("Host") + " xfcc="
                            + Optional.ofNullable(ex.getRequestHeaders().getFirst("x-forwarded-client-cert"))
                                    .orElse("-"))
                    .getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream o = ex.getResponseBody()) {
                o.write(body);
            }
        });
        http.start();
        NettyServerBuilder.forAddress(new InetSocketAddress("0.0.0.0", grpcPort))
                .fallbackHandlerRegistry(new HandlerRegistry() {
                    @Override
                    public ServerMethodDefinition<?, ?> lookupMethod(String method, String authority) {
                        ServerCallHandler<byte[], byte[]> handler = ServerCalls.asyncUnaryCall((request, reply) -> {
                            reply.onNext(("payments answered " + method + " authority=" + authority)
                                    .getBytes(StandardCharsets.UTF_8));
                            reply.onCompleted();
                        });
                        return ServerMethodDefinition.create(unary(method), handler);
                    }
                })
                .build()
                .start();
        System.out.println("payments listening on " + httpPort + " (http) and " + grpcPort + " (grpc)");
        System.out.flush();
        Thread.currentThread().join();
    }
}
