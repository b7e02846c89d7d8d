package io.meshguard.emulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.rpc.Code;
import com.google.rpc.Status;
import io.envoyproxy.envoy.config.core.v3.GrpcService;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPAccessLogEntry;
import io.envoyproxy.envoy.extensions.access_loggers.grpc.v3.CommonGrpcAccessLogConfig;
import io.envoyproxy.envoy.extensions.access_loggers.grpc.v3.HttpGrpcAccessLogConfig;
import io.envoyproxy.envoy.service.accesslog.v3.AccessLogServiceGrpc;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsMessage;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsResponse;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.envoyproxy.envoy.service.auth.v3.DeniedHttpResponse;
import io.envoyproxy.envoy.service.auth.v3.OkHttpResponse;
import io.envoyproxy.envoy.type.v3.HttpStatus;
import io.envoyproxy.envoy.type.v3.StatusCode;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The sidecar's inbound access log (Istio's {@code Telemetry}, mode SERVER, with an {@code envoyHttpAls} provider), as
 * Envoy's gRPC access logger fills it: the stream's dynamic metadata — what ext_authz put in its namespace from the
 * Check's answer, with {@code ext_authz_duration} on an allow — in {@code common_properties.metadata}; a denied request
 * with the ext_authz flag and no upstream; the client's own {@code x-request-id} kept. Real gRPC on loopback for the
 * Check and the access-log stream.
 */
class SidecarAccessLogTest {
    private static final Sidecar.Peer POD = new Sidecar.Peer("spiffe://cluster.local/ns/shop/sa/cart", "10.8.1.9");
    private static final String ALS = "outbound|9003||meshguard-dlp.meshguard.svc.cluster.local";

    private final List<HTTPAccessLogEntry> logged = new CopyOnWriteArrayList<>();
    private final List<String> logNames = new CopyOnWriteArrayList<>();
    private Server authz;
    private Server accessLogs;
    private UpstreamServer workload;
    private Sidecar sidecar;

    @BeforeEach
    void start() throws Exception {
        // allows with a nonce in dynamic metadata, unless the path says /deny (then denies with metadata too)
        authz = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(new AuthorizationGrpc.AuthorizationImplBase() {
                    @Override
                    public void check(CheckRequest request, StreamObserver<CheckResponse> responses) {
                        boolean deny = request.getAttributes()
                                .getRequest()
                                .getHttp()
                                .getPath()
                                .startsWith("/deny");
                        Struct metadata = Struct.newBuilder()
                                .putFields(
                                        "meshguard_nonce",
                                        Value.newBuilder().setStringValue("n-1").build())
                                .build();
                        responses.onNext(
                                deny
                                        ? CheckResponse.newBuilder()
                                                .setStatus(Status.newBuilder().setCode(Code.PERMISSION_DENIED_VALUE))
                                                .setDeniedResponse(DeniedHttpResponse.newBuilder()
                                                        .setStatus(HttpStatus.newBuilder()
                                                                .setCode(StatusCode.Forbidden)))
                                                .setDynamicMetadata(metadata)
                                                .build()
                                        : CheckResponse.newBuilder()
                                                .setStatus(Status.newBuilder().setCode(Code.OK_VALUE))
                                                .setOkResponse(OkHttpResponse.getDefaultInstance())
                                                .setDynamicMetadata(metadata)
                                                .build());
                        responses.onCompleted();
                    }
                })
                .build()
                .start();
        accessLogs = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(new AccessLogServiceGrpc.AccessLogServiceImplBase() {
                    @Override
                    public StreamObserver<StreamAccessLogsMessage> streamAccessLogs(
                            StreamObserver<StreamAccessLogsResponse> responses) {
                        return new StreamObserver<>() {
                            @Override
                            public void onNext(StreamAccessLogsMessage m) {
                                if (m.hasIdentifier()) {
                                    logNames.add(m.getIdentifier().getLogName());
                                }
                                logged.addAll(m.getHttpLogs().getLogEntryList());
                            }

                            @Override
                            public void onError(Throwable t) {}

                            @Override
                            public void onCompleted() {
                                responses.onCompleted();
                            }
                        };
                    }
                })
                .build()
                .start();
        workload = UpstreamServer.json("accounts", 0, "{\"upstream\":\"{upstream}\"}");
        HttpGrpcAccessLogConfig config = HttpGrpcAccessLogConfig.newBuilder()
                .setCommonConfig(CommonGrpcAccessLogConfig.newBuilder()
                        .setLogName("meshguard")
                        .setGrpcService(GrpcService.newBuilder()
                                .setEnvoyGrpc(GrpcService.EnvoyGrpc.newBuilder().setClusterName(ALS))))
                .addAdditionalRequestHeadersToLog("x-request-id")
                .build();
        sidecar = new Sidecar(
                "spiffe://cluster.local/ns/bank/sa/accounts",
                Optional.of(Sidecar.meshguardProvider()),
                Optional.empty(),
                Optional.of(new Sidecar.AccessLog(
                        config, new EnvoyNode("sidecar~10.8.2.7~accounts.bank", "bank", Map.of()))),
                cluster -> NettyChannelBuilder.forAddress(
                                "127.0.0.1", cluster.equals(ALS) ? accessLogs.getPort() : authz.getPort())
                        .usePlaintext()
                        .build(),
                workload.port(),
                25,
                EnvoyVersion.SIDECAR_1_36,
                line -> {});
    }

    @AfterEach
    void stop() throws Exception {
        sidecar.close();
        workload.close();
        authz.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        accessLogs.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    private static int send(int port, String path, String requestId) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                                .header("x-request-id", requestId)
                                .GET()
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        return r.statusCode();
    }

    @Test
    void inboundAccessLog_carriesExtAuthzDynamicMetadata_andTheClientsRequestId() throws Exception {
        int port = sidecar.listen(POD);
        assertThat(send(port, "/v1/accounts", "client-chosen-1")).isEqualTo(200);
        assertThat(send(port, "/deny", "client-chosen-2")).isEqualTo(403);
        await().atMost(java.time.Duration.ofSeconds(10)).until(() -> logged.size() == 2);

        assertThat(logNames).containsExactly("meshguard");
        HTTPAccessLogEntry allowed = logged.get(0);
        assertThat(allowed.getRequest().getRequestId()).isEqualTo("client-chosen-1");
        assertThat(allowed.getCommonProperties().getUpstreamCluster()).isEqualTo("inbound|" + workload.port() + "||");
        Struct authzMetadata =
                allowed.getCommonProperties().getMetadata().getFilterMetadataOrThrow("envoy.filters.http.ext_authz");
        assertThat(authzMetadata.getFieldsOrThrow("meshguard_nonce").getStringValue())
                .isEqualTo("n-1");
        assertThat(authzMetadata.getFieldsMap()).containsKey("ext_authz_duration");

        HTTPAccessLogEntry denied = logged.get(1);
        assertThat(denied.getResponse().getResponseCode().getValue()).isEqualTo(403);
        assertThat(denied.getCommonProperties().getResponseFlags().hasUnauthorizedDetails())
                .isTrue();
        assertThat(denied.getCommonProperties().getUpstreamCluster()).isEmpty();
        // a denial's metadata is set too, without the duration (added on OK only)
        assertThat(denied.getCommonProperties()
                        .getMetadata()
                        .getFilterMetadataOrThrow("envoy.filters.http.ext_authz")
                        .getFieldsMap())
                .containsOnlyKeys("meshguard_nonce");
    }
}
