package io.meshguard.deploy.box;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthz;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerMethodDefinition;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.meshguard.testing.IntegrationTest;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The outbound half of the box's sidecar on loopback, without namespaces: a connection arriving at a capture port is
 * routed by its first request's Host / {@code :authority}, as Istio's outbound HTTP listener routes it.
 */
@IntegrationTest
class IstioOutboundTest {
    private Server backend;
    private ServerSocket http;
    private final java.util.List<ManagedChannel> channels = new java.util.ArrayList<>();

    @BeforeEach
    void backends() throws IOException {
        backend = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .fallbackHandlerRegistry(new io.grpc.HandlerRegistry() {
                    @Override
                    public ServerMethodDefinition<?, ?> lookupMethod(String method, String authority) {
                        return ServerMethodDefinition.create(
                                BankBackend.unary(method),
                                ServerCalls.asyncUnaryCall(
                                        (byte[] request, io.grpc.stub.StreamObserver<byte[]> reply) -> {
                                            reply.onNext(("authority=" + authority).getBytes(StandardCharsets.UTF_8));
                                            reply.onCompleted();
                                        }));
                    }
                })
                .build()
                .start();
        http = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
        Thread.ofVirtual().start(() -> {
            while (!http.isClosed()) {
                try (Socket s = http.accept()) {
                    InputStream in = s.getInputStream();
                    StringBuilder head = new StringBuilder();
                    while (!head.toString().endsWith("\r\n\r\n")) {
                        head.append((char) in.read());
                    }
                    String host = head.toString()
                            .lines()
                            .filter(l -> l.toLowerCase().startsWith("host:"))
                            .findFirst()
                            .orElse("host: -")
                            .substring(5)
                            .strip();
                    byte[] body = ("host=" + host).getBytes(StandardCharsets.UTF_8);
                    OutputStream out = s.getOutputStream();
                    out.write(("HTTP/1.1 200 OK\r\ncontent-length: " + body.length + "\r\nconnection: close\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
                    out.write(body);
                } catch (IOException e) {
                    return;
                }
            }
        });
    }

    @AfterEach
    void stop() throws Exception {
        for (ManagedChannel c : channels) {
            c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        backend.shutdownNow();
        http.close();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** A sidecar capturing one destination (the gRPC backend's port) whose only Service is {@code service}. */
    private int sidecar(int destination, String service, String policy) throws IOException {
        int capture = freePort();
        IstioOutbound outbound = new IstioOutbound();
        for (String line : new String[] {
            "outbound " + policy,
            "capture " + capture + " 127.0.0.1 " + destination,
            "http " + destination,
            "vhost " + destination + " " + service + " 127.0.0.1:" + destination + ":p"
        }) {
            assertThat(outbound.configure(line.split(" "))).isTrue();
        }
        outbound.start();
        return capture;
    }

    private String grpcCall(int port, String authority) {
        ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", port)
                .overrideAuthority(authority)
                .usePlaintext()
                .build();
        channels.add(ch);
        return call(ch);
    }

    @Test
    void grpcJavaCall_isRoutedByItsAuthority_toTheServicesEndpoint() throws Exception {
        int capture = sidecar(backend.getPort(), "payments.bank-apps.svc.cluster.local", "ALLOW_ANY");
        assertThat(grpcCall(capture, "payments.bank-apps.svc.cluster.local"))
                .isEqualTo("authority=payments.bank-apps.svc.cluster.local");
        // an unknown authority goes to PassthroughCluster: the original destination, here the same backend
        assertThat(grpcCall(capture, "payments.grpc.bank.example")).isEqualTo("authority=payments.grpc.bank.example");
    }

    @Test
    void unknownAuthority_underRegistryOnly_goesToTheBlackHole() throws Exception {
        int capture = sidecar(backend.getPort(), "payments.bank-apps.svc.cluster.local", "REGISTRY_ONLY");
        assertThat(grpcCall(capture, "payments.bank-apps.svc.cluster.local")).contains("payments.bank-apps");
        assertThatThrownBy(() -> grpcCall(capture, "payments.grpc.bank.example"))
                .isInstanceOf(StatusRuntimeException.class)
                .hasMessageContaining("UNAVAILABLE");
    }

    @Test
    void customProvidersCheck_carriesTheServiceHostnameAsAuthority_asIstiodTranslatesIt() throws Exception {
        ExtAuthz check = IstioExtensionsTest.extensions(
                        IstioExtensions.meshConfig(), IstioExtensionsTest.shippedFilter())
                .extAuthz("meshguard-extauthz");
        String cluster = check.getGrpcService().getEnvoyGrpc().getClusterName();
        IstioOutbound outbound = new IstioOutbound();
        assertThat(outbound.configure(("vhost 9001 meshguard-extauthz.meshguard.svc.cluster.local 127.0.0.1:"
                                + backend.getPort() + ":p")
                        .split(" ")))
                .isTrue();

        ManagedChannel ch =
                outbound.grpcChannel(cluster, IstioOutbound.grpcAuthority(cluster, List.of(check.getGrpcService())));
        channels.add(ch);
        assertThat(call(ch)).isEqualTo("authority=meshguard-extauthz.meshguard.svc.cluster.local");
    }

    @Test
    void grpcStream_withoutAConfiguredAuthority_carriesTheClusterName_asEnvoyDefaultsTo() {
        String cluster = "outbound|9001||meshguard-extauthz.meshguard.svc.cluster.local";
        assertThat(IstioOutbound.grpcAuthority(cluster, List.of())).isEqualTo(cluster);
    }

    private static String call(ManagedChannel ch) {
        return new String(
                ClientCalls.blockingUnaryCall(
                        ch,
                        BankBackend.unary("bank.Payments/Whoami"),
                        CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS),
                        new byte[0]),
                StandardCharsets.UTF_8);
    }

    @Test
    void http1Request_isRoutedByItsHost() throws Exception {
        int capture = sidecar(http.getLocalPort(), "payments.bank-apps.svc.cluster.local", "REGISTRY_ONLY");
        String answer;
        try (Socket s = new Socket("127.0.0.1", capture)) {
            s.getOutputStream()
                    .write(("GET /healthz HTTP/1.1\r\nHost: payments.bank-apps.svc.cluster.local\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
            s.setSoTimeout(10_000);
            answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
        assertThat(answer).startsWith("HTTP/1.1 200").endsWith("host=payments.bank-apps.svc.cluster.local");
    }
}
