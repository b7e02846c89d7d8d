package io.meshguard.audit.als;

import static io.meshguard.audit.als.AccessLogReceiverTest.entry;
import static io.meshguard.audit.als.AccessLogReceiverTest.http;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsMessage;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsResponse;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.meshguard.audit.AuditEvent;
import io.meshguard.audit.PathPolicy;
import io.meshguard.audit.component.AuditConfig;
import io.meshguard.runtime.config.Config;
import io.meshguard.runtime.config.ConfigLoader;
import io.meshguard.runtime.config.ConfigSchema;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.LoopbackGrpc;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Who may write access-log rows: a stream over real gRPC on loopback is taken only from a proxy whose identity the
 * receiving pod's sidecar verified (x-forwarded-client-cert from a trusted proxy address) and the sender rules admit;
 * a plain gRPC client's forged row never becomes an audit row.
 */
@IntegrationTest
class AccessLogSendersTest {
    private static final String PAYMENTS_SIDECAR = "spiffe://cluster.local/ns/payments/sa/payments-api";
    private static final String GATEWAY = "spiffe://cluster.local/ns/meshguard/sa/meshguard-gateway";
    private static final List<String> RULES = List.of(
            "sidecar=spiffe://cluster.local/ns/payments/sa/*",
            "gateway=" + GATEWAY,
            "waypoint=spiffe://cluster.local/ns/*/sa/meshguard-waypoint");

    private final List<AuditEvent> received = new CopyOnWriteArrayList<>();
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private Server server;
    private ManagedChannel channel;

    @AfterEach
    void stop() throws Exception {
        if (channel != null) {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        if (server != null) {
            server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    private void start(AccessLogSenders senders) throws Exception {
        AccessLogReceiver receiver = new AccessLogReceiver(
                received::add,
                new AccessLogMapper(AccessLogHeaders.defaults(), PathPolicy.DROP_QUERY),
                senders,
                meters);
        server = LoopbackGrpc.serve(receiver);
        channel = LoopbackGrpc.channelTo(server.getPort());
    }

    /** The receiver's own sidecar modelled: it reaches the app from 127.0.0.1 here (a trusted proxy address). */
    private static AccessLogSenders behindSidecar() {
        return AccessLogSenders.of("xfcc", List.of("127.0.0.1"), RULES);
    }

    /** Sends one message carrying a forged acme row (the node given) and half-closes; the stream's outcome. */
    private CompletableFuture<StreamAccessLogsResponse> sendWith(Optional<String> xfcc, String node) {
        Metadata headers = new Metadata();
        xfcc.ifPresent(
                v -> headers.put(Metadata.Key.of("x-forwarded-client-cert", Metadata.ASCII_STRING_MARSHALLER), v));
        io.grpc.Channel withHeaders =
                io.grpc.ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(headers));
        CompletableFuture<StreamAccessLogsResponse> response = new CompletableFuture<>();
        StreamObserver<byte[]> requests = ClientCalls.asyncClientStreamingCall(
                withHeaders.newCall(AccessLogReceiver.METHOD, CallOptions.DEFAULT), AlsAnswer.into(response));
        requests.onNext(http(
                        StreamAccessLogsMessage.Identifier.newBuilder()
                                .setNode(Node.newBuilder().setId(node))
                                .setLogName("meshguard")
                                .build(),
                        entry("forged-1", "/payments/transfer", 200, "application/json")
                                .build())
                .toByteArray());
        requests.onCompleted();
        return response;
    }

    private static Status statusOf(CompletableFuture<StreamAccessLogsResponse> response) {
        try {
            response.get(10, TimeUnit.SECONDS);
            throw new AssertionError("the stream was accepted");
        } catch (ExecutionException e) {
            return ((StatusRuntimeException) e.getCause()).getStatus();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private double refusedStreams(String reason) {
        return meters.get("meshguard.audit.als.streams.refused")
                .tag("reason", reason)
                .counter()
                .count();
    }

    @Test
    void plainGrpcClient_forgedTenantRow_refused_withTheShippedDefaults() throws Exception {
        // what the DLP server reads from its configuration when nothing is set: the receiver's own defaults
        Config config = ConfigLoader.load(
                ConfigSchema.builder().add(AuditConfig.configGroup()).build(), Optional.empty(), Map.of());
        start(AuditConfig.read(config).alsSenders());

        Status status = statusOf(sendWith(Optional.empty(), "sidecar~10.0.0.7~cfo.acme~acme.svc.cluster.local"));

        assertThat(status.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
        assertThat(received).isEmpty();
        assertThat(refusedStreams("untrusted_proxy")).isEqualTo(1);
    }

    @Test
    void trustedProxy_withoutForwardedCertificate_refused() throws Exception {
        start(behindSidecar());

        assertThat(statusOf(sendWith(Optional.empty(), "sidecar~1~p.payments~payments.svc.cluster.local"))
                        .getCode())
                .isEqualTo(Status.Code.UNAUTHENTICATED);
        assertThat(received).isEmpty();
        assertThat(refusedStreams("unauthenticated")).isEqualTo(1);
    }

    @Test
    void meshWorkload_notAProxyTheRulesAdmit_refused() throws Exception {
        start(behindSidecar());

        Status status = statusOf(sendWith(
                Optional.of("By=spiffe://cluster.local/ns/meshguard/sa/meshguard-dlp;"
                        + "URI=spiffe://cluster.local/ns/acme/sa/reporting"),
                "sidecar~10.0.0.7~cfo.acme~acme.svc.cluster.local"));

        assertThat(status.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
        assertThat(received).isEmpty();
        assertThat(refusedStreams("not_a_proxy")).isEqualTo(1);
    }

    @Test
    void forwardedCertificateChain_ofTwoElements_refused() throws Exception {
        start(behindSidecar());

        Status status = statusOf(sendWith(
                Optional.of("URI=spiffe://cluster.local/ns/acme/sa/x," + "URI=" + GATEWAY),
                "router~10.0.0.9~gw.meshguard~meshguard.svc.cluster.local"));

        assertThat(status.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
        assertThat(received).isEmpty();
    }

    @Test
    void admittedSidecar_ownNamespace_rowKeepsIdentity_andNamesItsSender() throws Exception {
        start(behindSidecar());

        sendWith(
                        Optional.of("URI=" + PAYMENTS_SIDECAR),
                        "sidecar~10.0.0.7~payments-7f9.payments~payments.svc.cluster.local")
                .get(10, TimeUnit.SECONDS);

        await().atMost(10, TimeUnit.SECONDS).until(() -> received.size() == 1);
        AuditEvent row = received.get(0);
        assertThat(row.tenant()).hasValue("acme");
        assertThat(row.subject()).hasValue("alice");
        assertThat(row.details())
                .containsEntry(AccessLogMapper.REPORTER_DETAIL, PAYMENTS_SIDECAR)
                .containsEntry(AccessLogMapper.REPORTER_KIND_DETAIL, "sidecar");
    }

    @Test
    void admittedSidecar_rowAboutAnotherNamespacesNode_keepsNoTenantOrSubject() throws Exception {
        start(behindSidecar());

        sendWith(Optional.of("URI=" + PAYMENTS_SIDECAR), "sidecar~10.0.0.8~cfo.acme~acme.svc.cluster.local")
                .get(10, TimeUnit.SECONDS);

        await().atMost(10, TimeUnit.SECONDS).until(() -> received.size() == 1);
        AuditEvent row = received.get(0);
        assertThat(row.tenant()).isEmpty();
        assertThat(row.subject()).isEmpty();
        assertThat(row.clientId()).isEmpty();
        assertThat(row.details()).containsEntry(AccessLogMapper.REPORTER_DETAIL, PAYMENTS_SIDECAR);
    }

    @Test
    void gatewayIdentity_isAGatewaySender_evenWhereASidecarPatternWouldMatch() throws Exception {
        start(AccessLogSenders.of(
                "xfcc",
                List.of("127.0.0.1"),
                List.of("sidecar=spiffe://cluster.local/ns/*/sa/*", "gateway=" + GATEWAY)));

        sendWith(Optional.of("URI=" + GATEWAY), "router~10.0.0.9~gw.meshguard~meshguard.svc.cluster.local")
                .get(10, TimeUnit.SECONDS);

        await().atMost(10, TimeUnit.SECONDS).until(() -> received.size() == 1);
        assertThat(received.get(0).details()).containsEntry(AccessLogMapper.REPORTER_KIND_DETAIL, "gateway");
    }

    @Test
    void localDevelopment_takesLoopbackOnly_andSaysSoOnEveryRow() throws Exception {
        start(AccessLogSenders.localDevelopment());

        sendWith(Optional.empty(), "router~127.0.0.1~gw~default.svc.cluster.local")
                .get(10, TimeUnit.SECONDS);

        await().atMost(10, TimeUnit.SECONDS).until(() -> received.size() == 1);
        assertThat(received.get(0).details())
                .containsEntry(AccessLogMapper.REPORTER_DETAIL, AccessLogSenders.LOCAL_SENDER)
                .containsEntry(AccessLogMapper.REPORTER_KIND_DETAIL, "local");
    }

    @Test
    void senderRule_ofUnknownKindOrWildcardTrustDomain_refusedAtStart() {
        assertThatThrownBy(() ->
                        AccessLogSenders.of("xfcc", List.of(), List.of("client=spiffe://cluster.local/ns/a/sa/b")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("audit.als.senders");
        assertThatThrownBy(() -> AccessLogSenders.of("xfcc", List.of(), List.of("sidecar=spiffe://*/ns/a/sa/b")))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> AccessLogSenders.of("xfcc", List.of("meshguard-dlp.local"), RULES))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("audit.als.trusted_proxies");
    }
}
