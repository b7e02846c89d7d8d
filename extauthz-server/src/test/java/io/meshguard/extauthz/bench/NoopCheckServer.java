package io.meshguard.extauthz.bench;

import com.google.rpc.Status;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.envoyproxy.envoy.service.auth.v3.OkHttpResponse;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;

/** The baseline: a Check server that allows everything without looking at the request, on the same gRPC stack. */
final class NoopCheckServer implements AutoCloseable {
    private static final CheckResponse OK = CheckResponse.newBuilder().setStatus(Status.newBuilder().setCode(0))
            .setOkResponse(OkHttpResponse.getDefaultInstance()).build();
    private final Server server;

    NoopCheckServer() throws IOException {
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(new AuthorizationGrpc.AuthorizationImplBase() {
                    @Override
                    public void check(CheckRequest request, StreamObserver<CheckResponse> observer) {
                        observer.onNext(OK);
                        observer.onCompleted();
                    }
                })
                .build()
                .start();
    }

    int port() {
        return server.getPort();
    }

    @Override
    public void close() {
        server.shutdownNow();
    }
}
