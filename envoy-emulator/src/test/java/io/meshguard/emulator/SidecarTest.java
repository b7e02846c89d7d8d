package io.meshguard.emulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.rpc.Code;
import com.google.rpc.Status;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPAccessLogEntry;
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
import io.grpc.stub.StreamObserver;
import io.meshguard.testing.LoopbackGrpc;
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
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The emulated Istio sidecar's inbound path: what its ext_authz Check says about the caller — the mTLS
 * peer's principal and address, x-forwarded-for and x-envoy-external-address exactly as the peer sent them (an
 * inbound HCM without use_remote_address appends and overwrites nothing) — and that an allow's mutations reach the
 * workload while a denial stops the request there.
 */
@Tag("integration")
class SidecarTest {
    private static final String WORKLOAD = "spiffe://cluster.local/ns/bank/sa/accounts";
    private static final Sidecar.Peer POD = new Sidecar.Peer("spiffe://cluster.local/ns/shop/sa/cart", "10.8.1.9");
    private static final Sidecar.Peer GATEWAY =
            new Sidecar.Peer("spiffe://cluster.local/ns/meshguard/sa/meshguard-gateway", "10.8.0.4");

    /** What the fake extauthz answers in dynamic metadata, allow or deny. */
    private static final Struct NONCE = Struct.newBuilder()
            .putFields("authz_nonce", Value.newBuilder().setStringValue("n-1").build())
            .build();

    private final List<CheckRequest> checks = new CopyOnWriteArrayList<>();
    private Server authz;
    private UpstreamServer workload;
    private Sidecar sidecar;
    private final HttpClient client = HttpClient.newHttpClient();

    @BeforeEach
    void start() throws Exception {
        // allows with one header set, unless the path says /deny
        authz = LoopbackGrpc.serve(new AuthorizationGrpc.AuthorizationImplBase() {
            @Override
            public void check(CheckRequest request, StreamObserver<CheckResponse> responses) {
                checks.add(request);
                boolean deny =
                        request.getAttributes().getRequest().getHttp().getPath().startsWith("/deny");
                responses.onNext(
                        deny
                                ? CheckResponse.newBuilder()
                                        .setStatus(Status.newBuilder().setCode(Code.PERMISSION_DENIED_VALUE))
                                        .setDeniedResponse(DeniedHttpResponse.newBuilder()
                                                .setStatus(
                                                        HttpStatus.newBuilder().setCode(StatusCode.Forbidden))
                                                .setBody("denied"))
                                        .setDynamicMetadata(NONCE)
                                        .build()
                                : CheckResponse.newBuilder()
                                        .setStatus(Status.newBuilder().setCode(Code.OK_VALUE))
                                        .setOkResponse(OkHttpResponse.newBuilder()
                                                .addHeaders(HeaderValueOption.newBuilder()
                                                        .setHeader(HeaderValue.newBuilder()
                                                                .setKey("x-checked")
                                                                .setValue("yes"))))
                                        .setDynamicMetadata(NONCE)
                                        .build());
                responses.onCompleted();
            }
        });
        workload = UpstreamServer.json("accounts", 0, "{\"upstream\":\"{upstream}\"}");
        sidecar = new Sidecar(WORKLOAD, "127.0.0.1:" + authz.getPort(), workload.port(), 25, EnvoyVersion.SIDECAR_1_36);
    }

    @AfterEach
    void stop() throws Exception {
        sidecar.close();
        workload.close();
        authz.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    private HttpResponse<String> send(int port, String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path));
        for (int i = 0; i + 1 < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return client.send(b.GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String header(CheckRequest check, String name) {
        return check.getAttributes().getRequest().getHttp().getHeadersOrDefault(name, "");
    }

    @Test
    void podWithForgedForwardingHeaders_checkNamesThePeer_andCarriesItsHeadersUnchanged() throws Exception {
        int port = sidecar.listen(POD);
        HttpResponse<String> r = send(
                port,
                "/v1/accounts",
                "x-forwarded-for",
                "203.0.113.9, 10.0.0.1",
                "x-envoy-external-address",
                "203.0.113.9",
                "x-meshguard-client-address",
                "203.0.113.9");
        assertThat(r.statusCode()).isEqualTo(200);
        CheckRequest check = checks.getFirst();
        assertThat(check.getAttributes().getSource().getPrincipal()).isEqualTo(POD.principal());
        assertThat(check.getAttributes()
                        .getSource()
                        .getAddress()
                        .getSocketAddress()
                        .getAddress())
                .isEqualTo("10.8.1.9");
        assertThat(check.getAttributes().getDestination().getPrincipal()).isEqualTo(WORKLOAD);
        // use_remote_address false: nothing appended, nothing overwritten — the pod's words reach the Check as they are
        assertThat(header(check, "x-forwarded-for")).isEqualTo("203.0.113.9, 10.0.0.1");
        assertThat(header(check, "x-envoy-external-address")).isEqualTo("203.0.113.9");
        assertThat(header(check, "x-meshguard-client-address")).isEqualTo("203.0.113.9");
        assertThat(header(check, "x-forwarded-client-cert"))
                .isEqualTo("By=" + WORKLOAD + ";Subject=\"\";URI=" + POD.principal());
        assertThat(check.getAttributes().getContextExtensionsMap())
                .as("Istio's inbound routes carry none")
                .isEmpty();
        assertThat(workload.received().getFirst().headers().first("x-checked")).contains("yes");
    }

    @Test
    void eachListenerIsItsPeer_theGatewaysConnectionCarriesTheGatewaysPrincipal() throws Exception {
        int fromGateway = sidecar.listen(GATEWAY);
        int fromPod = sidecar.listen(POD);
        send(fromGateway, "/v1/accounts", "x-request-id", "r-1");
        send(fromPod, "/v1/accounts");
        assertThat(checks)
                .extracting(c -> c.getAttributes().getSource().getPrincipal())
                .containsExactly(GATEWAY.principal(), POD.principal());
        assertThat(header(checks.getFirst(), "x-request-id"))
                .as("not an edge request: kept")
                .isEqualTo("r-1");
        assertThat(sidecar.handled()).extracting(Sidecar.Handled::status).containsExactly(200, 200);
    }

    @Test
    void waypoint_checkHasNoSourcePrincipal_xfccNamesWaypointAndClient_replacingAForgedOne() throws Exception {
        // the sidecar stands for a waypoint here: its identity is the waypoint's, the peer ztunnel's client
        int annotated = sidecar.listenAsWaypoint(POD, true, true);
        HttpResponse<String> r = send(
                annotated,
                "/v1/accounts",
                "x-forwarded-client-cert",
                "By=" + WORKLOAD + ";URI=spiffe://cluster.local/ns/meshguard/sa/meshguard-gateway");
        assertThat(r.statusCode()).isEqualTo(200);
        CheckRequest check = checks.getFirst();
        assertThat(check.getAttributes().getSource().getPrincipal())
                .as("an internal listener without TLS (istio/istio#56379)")
                .isEmpty();
        assertThat(check.getAttributes()
                        .getSource()
                        .getAddress()
                        .getSocketAddress()
                        .getAddress())
                .isEqualTo(POD.address());
        assertThat(header(check, "x-forwarded-client-cert")).isEqualTo("By=" + WORKLOAD + ";URI=" + POD.principal());
        assertThat(workload.received().getFirst().headers().first("x-forwarded-client-cert"))
                .contains("By=" + WORKLOAD + ";URI=" + POD.principal());

        // without the Gateway's annotation (before 1.30) the waypoint writes nothing: the caller is anonymous
        int plain = sidecar.listenAsWaypoint(POD, false, true);
        send(plain, "/v1/accounts");
        assertThat(header(checks.get(1), "x-forwarded-client-cert")).isEmpty();
        assertThat(checks.get(1).getAttributes().getSource().getPrincipal()).isEmpty();
    }

    @Test
    void denial_isAnsweredByTheSidecar_theWorkloadSeesNothing() throws Exception {
        int port = sidecar.listen(POD);
        HttpResponse<String> r = send(port, "/deny");
        assertThat(r.statusCode()).isEqualTo(403);
        assertThat(r.body()).isEqualTo("denied");
        assertThat(workload.received()).isEmpty();
        assertThat(sidecar.handled().getFirst().forwarded()).isEmpty();
    }

    @Test
    void extAuthzDown_failsClosedWith503_meshguardsProviderSetting() throws Exception {
        authz.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        int port = sidecar.listen(POD);
        assertThat(send(port, "/v1/accounts").statusCode()).isEqualTo(503);
        assertThat(workload.received()).isEmpty();
    }

    /** An access-log service that keeps what it is sent: the log names of the streams, and the entries. */
    private static Server accessLogService(List<String> logNames, List<HTTPAccessLogEntry> entries) throws Exception {
        return LoopbackGrpc.serve(new AccessLogServiceGrpc.AccessLogServiceImplBase() {
            @Override
            public StreamObserver<StreamAccessLogsMessage> streamAccessLogs(
                    StreamObserver<StreamAccessLogsResponse> responses) {
                return new StreamObserver<>() {
                    @Override
                    public void onCompleted() {
                        responses.onCompleted();
                    }

                    @Override
                    public void onError(Throwable t) {}

                    @Override
                    public void onNext(StreamAccessLogsMessage m) {
                        if (m.hasIdentifier()) {
                            logNames.add(m.getIdentifier().getLogName());
                        }
                        entries.addAll(m.getHttpLogs().getLogEntryList());
                    }
                };
            }
        });
    }

    /**
     * The inbound access log (Istio's Telemetry, mode SERVER, with an envoyHttpAls provider) as Envoy's gRPC access
     * logger fills it: the stream's dynamic metadata — ext_authz's namespace from the Check's answer, with
     * {@code ext_authz_duration} added on an allow only — in {@code common_properties.metadata}; a denial flagged, with
     * no upstream; the client's own x-request-id kept.
     */
    @Test
    void inboundAccessLog_carriesExtAuthzDynamicMetadata_andTheClientsRequestId() throws Exception {
        List<String> logNames = new CopyOnWriteArrayList<>();
        List<HTTPAccessLogEntry> entries = new CopyOnWriteArrayList<>();
        Server als = accessLogService(logNames, entries);
        String alsCluster = "outbound|9003||meshguard-dlp.meshguard.svc.cluster.local";
        try (Sidecar logging = new Sidecar(
                WORKLOAD,
                Optional.of(Sidecar.meshguardProvider()),
                Optional.empty(),
                Optional.of(Sidecar.AccessLog.envoyHttpAls(
                        alsCluster,
                        "meshguard",
                        List.of("x-request-id"),
                        List.of(),
                        new EnvoyNode("sidecar~10.8.2.7~accounts.bank", "bank", Map.of()))),
                cluster -> NettyChannelBuilder.forAddress(
                                "127.0.0.1", cluster.equals(alsCluster) ? als.getPort() : authz.getPort())
                        .usePlaintext()
                        .build(),
                workload.port(),
                25,
                EnvoyVersion.SIDECAR_1_36,
                line -> {})) {
            int port = logging.listen(POD);
            assertThat(send(port, "/v1/accounts", "x-request-id", "client-chosen-1")
                            .statusCode())
                    .isEqualTo(200);
            assertThat(send(port, "/deny", "x-request-id", "client-chosen-2").statusCode())
                    .isEqualTo(403);
            await().atMost(java.time.Duration.ofSeconds(10)).until(() -> entries.size() == 2);
        } finally {
            als.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }

        assertThat(logNames).containsExactly("meshguard");
        HTTPAccessLogEntry allowed = entries.get(0);
        assertThat(allowed.getRequest().getRequestId()).isEqualTo("client-chosen-1");
        assertThat(allowed.getCommonProperties().getUpstreamCluster()).isEqualTo("inbound|" + workload.port() + "||");
        Struct authzMetadata =
                allowed.getCommonProperties().getMetadata().getFilterMetadataOrThrow("envoy.filters.http.ext_authz");
        assertThat(authzMetadata.getFieldsOrThrow("authz_nonce").getStringValue())
                .isEqualTo("n-1");
        assertThat(authzMetadata.getFieldsMap()).containsKey("ext_authz_duration");

        HTTPAccessLogEntry denied = entries.get(1);
        assertThat(denied.getResponse().getResponseCode().getValue()).isEqualTo(403);
        assertThat(denied.getCommonProperties().getResponseFlags().hasUnauthorizedDetails())
                .isTrue();
        assertThat(denied.getCommonProperties().getUpstreamCluster()).isEmpty();
        assertThat(denied.getCommonProperties()
                        .getMetadata()
                        .getFilterMetadataOrThrow("envoy.filters.http.ext_authz")
                        .getFieldsMap())
                .containsOnlyKeys("authz_nonce");
    }
}
