package io.meshguard.bench.extauthz;

import com.google.rpc.Status;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.envoyproxy.envoy.service.auth.v3.OkHttpResponse;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.InputStream;
import java.net.InetSocketAddress;

/**
 * The baseline a user compares extauthz with: a Check server that allows everything, on grpc-java's own defaults
 * (Netty, plaintext, its default cached-thread-pool executor, no interceptors, no metrics), in a JVM of its own.
 *
 * <p>Main: binds 127.0.0.1 on the port given as the first argument (0: any free one), prints {@code PORT <port>},
 * serves until its standard input ends.
 */
public final class PlainNoopCheckServer {
    private static final CheckResponse OK = CheckResponse.newBuilder()
            .setStatus(Status.newBuilder().setCode(0))
            .setOkResponse(OkHttpResponse.getDefaultInstance())
            .build();

    private PlainNoopCheckServer() {}

    public static void main(String[] args) throws Exception {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 0;
        Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port))
                .addService(new AuthorizationGrpc.AuthorizationImplBase() {
                    @Override
                    public void check(CheckRequest request, StreamObserver<CheckResponse> observer) {
                        observer.onNext(OK);
                        observer.onCompleted();
                    }
                })
                .build()
                .start();
        System.out.println("PORT " + server.getPort());
        System.out.flush();
        waitForEndOfInput(System.in);
        server.shutdownNow();
    }

    /** Serves until the parent closes our standard input (or dies): no server outlives its benchmark. */
    static void waitForEndOfInput(InputStream in) throws java.io.IOException {
        byte[] buffer = new byte[256];
        while (in.read(buffer) >= 0) {
            // nothing to read but the end
        }
    }
}
