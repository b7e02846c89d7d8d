package io.meshguard.bench.extauthz;

import com.google.rpc.Status;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.envoyproxy.envoy.service.auth.v3.OkHttpResponse;
import io.grpc.stub.StreamObserver;
import io.meshguard.runtime.grpc.GrpcServerHost;
import io.meshguard.runtime.grpc.GrpcServerSettings;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;

/**
 * The baseline: a Check server that allows everything without looking at the request, on the same gRPC host as
 * extauthz-server (runtime {@code GrpcServerHost}: virtual threads, call limit, per-method metrics), so the ratio
 * measures the authorization work and nothing else. Not the baseline a user compares a pod with: that is
 * {@link PlainNoopCheckServer} ({@link CheckPodBench}).
 */
public final class NoopCheckServer implements AutoCloseable {
    private static final CheckResponse OK = CheckResponse.newBuilder()
            .setStatus(Status.newBuilder().setCode(0))
            .setOkResponse(OkHttpResponse.getDefaultInstance())
            .build();
    private final GrpcServerHost host;

    NoopCheckServer() throws Exception {
        host = new GrpcServerHost(
                "noop-grpc",
                GrpcServerSettings.defaults(0)
                        .withAddress("127.0.0.1", 0)
                        .withShutdown(Duration.ZERO, Duration.ofSeconds(5)),
                GrpcServerHost.bind(new AuthorizationGrpc.AuthorizationImplBase() {
                    @Override
                    public void check(CheckRequest request, StreamObserver<CheckResponse> observer) {
                        observer.onNext(OK);
                        observer.onCompleted();
                    }
                }),
                new SimpleMeterRegistry());
        host.start();
    }

    /**
     * Main, for {@link CheckPodBench}: this server in a JVM of its own, on an ephemeral port of 127.0.0.1; prints
     * {@code PORT <port>} and serves until its standard input ends.
     */
    public static void main(String[] args) throws Exception {
        try (NoopCheckServer server = new NoopCheckServer()) {
            System.out.println("PORT " + server.port());
            System.out.flush();
            PlainNoopCheckServer.waitForEndOfInput(System.in);
        }
        System.exit(0);
    }

    int port() {
        return host.port();
    }

    @Override
    public void close() {
        host.close();
    }
}
