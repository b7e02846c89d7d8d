package io.meshguard.audit.als;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Duration;
import com.google.protobuf.Timestamp;
import com.google.protobuf.UInt32Value;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.core.v3.RequestMethod;
import io.envoyproxy.envoy.data.accesslog.v3.AccessLogCommon;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPAccessLogEntry;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPRequestProperties;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPResponseProperties;
import io.envoyproxy.envoy.data.accesslog.v3.ResponseFlags;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsMessage;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsResponse;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import io.meshguard.audit.AuditEvent;
import io.meshguard.audit.AuditKind;
import io.meshguard.audit.PathPolicy;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.LoopbackGrpc;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Drives the receiver over real gRPC on loopback, message by message, the way Envoy's gRPC access logger does. */
@IntegrationTest
class AccessLogReceiverTest {
    private static final AccessLogSenders.Sender LOCAL =
            new AccessLogSenders.Sender(AccessLogSenders.Kind.LOCAL, AccessLogSenders.LOCAL_SENDER);
    private static final Instant START = Instant.parse("2026-11-21T10:15:30.250Z");

    private final List<AuditEvent> received = new CopyOnWriteArrayList<>();
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private AccessLogReceiver receiver;
    private Server server;
    private ManagedChannel channel;

    @BeforeEach
    void start() throws Exception {
        receiver = new AccessLogReceiver(
                received::add,
                new AccessLogMapper(AccessLogHeaders.defaults(), PathPolicy.DROP_QUERY),
                AccessLogSenders.localDevelopment(),
                meters);
        server = LoopbackGrpc.serve(receiver);
        channel = LoopbackGrpc.channelTo(server.getPort());
    }

    @AfterEach
    void stop() throws Exception {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    /** An open client stream; messages are sent as raw bytes so a test can also send garbage. */
    private final class EnvoyStream {
        final CompletableFuture<StreamAccessLogsResponse> response = new CompletableFuture<>();
        final StreamObserver<byte[]> requests = ClientCalls.asyncClientStreamingCall(
                channel.newCall(AccessLogReceiver.METHOD, CallOptions.DEFAULT), AlsAnswer.into(response));

        void send(StreamAccessLogsMessage m) {
            requests.onNext(m.toByteArray());
        }

        void sendRaw(byte[] bytes) {
            requests.onNext(bytes);
        }
    }

    static StreamAccessLogsMessage.Identifier identifier() {
        return StreamAccessLogsMessage.Identifier.newBuilder()
                .setNode(Node.newBuilder().setId("sidecar~10.0.0.7~payments-7f9.bank~bank.svc.cluster.local"))
                .setLogName("meshguard_als")
                .build();
    }

    static StreamAccessLogsMessage http(StreamAccessLogsMessage.Identifier id, HTTPAccessLogEntry... entries) {
        StreamAccessLogsMessage.Builder m = StreamAccessLogsMessage.newBuilder()
                .setHttpLogs(StreamAccessLogsMessage.HTTPAccessLogEntries.newBuilder()
                        .addAllLogEntry(List.of(entries)));
        if (id != null) {
            m.setIdentifier(id);
        }
        return m.build();
    }

    static HTTPAccessLogEntry.Builder entry(String requestId, String path, int status, String contentType) {
        return HTTPAccessLogEntry.newBuilder()
                .setProtocolVersion(HTTPAccessLogEntry.HTTPVersion.HTTP2)
                .setCommonProperties(AccessLogCommon.newBuilder()
                        .setStartTime(Timestamp.newBuilder()
                                .setSeconds(START.getEpochSecond())
                                .setNanos(START.getNano()))
                        .setDuration(Duration.newBuilder().setNanos(12_345_000))
                        .setRouteName("payments-v1")
                        .setUpstreamCluster("outbound|8080||payments.bank.svc.cluster.local"))
                .setRequest(HTTPRequestProperties.newBuilder()
                        .setRequestMethod(RequestMethod.POST)
                        .setAuthority("payments.bank.svc")
                        .setPath(path)
                        .setRequestId(requestId)
                        .setRequestBodyBytes(321)
                        .putRequestHeaders("x-tenant-id", "acme")
                        .putRequestHeaders("x-user-id", "alice")
                        .putRequestHeaders("x-client-id", "agent-42")
                        .putRequestHeaders("x-dwp-source", "mobile")
                        .putRequestHeaders("x-dwp-caller-type", "agent")
                        .putRequestHeaders("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"))
                .setResponse(HTTPResponseProperties.newBuilder()
                        .setResponseCode(UInt32Value.of(status))
                        .setResponseBodyBytes(4567)
                        .setResponseCodeDetails("via_upstream")
                        .putResponseHeaders("content-type", contentType));
    }

    private double entries(String result) {
        return meters.get("meshguard.audit.als.entries")
                .tag("result", result)
                .counter()
                .count();
    }

    @Test
    void httpEntries_becomeApiCallEvents_withIdentityFromLoggedHeaders() {
        EnvoyStream envoy = new EnvoyStream();
        envoy.send(http(
                identifier(),
                entry("req-1", "/v1/payments?card=4111111111111111", 201, "application/json")
                        .build()));

        await().atMost(10, TimeUnit.SECONDS).until(() -> received.size() == 1);
        AuditEvent e = received.get(0);
        assertThat(e.kind()).isEqualTo(AuditKind.API_CALL);
        assertThat(e.occurredAt()).isEqualTo(START);
        assertThat(e.requestId()).hasValue("req-1");
        assertThat(e.traceId()).hasValue("4bf92f3577b34da6a3ce929d0e0e4736");
        assertThat(e.tenant()).hasValue("acme");
        assertThat(e.subject()).hasValue("alice");
        assertThat(e.clientId()).hasValue("agent-42");
        assertThat(e.source()).hasValue("mobile");
        assertThat(e.callerType()).hasValue("agent");
        assertThat(e.method()).hasValue("POST");
        assertThat(e.authority()).hasValue("payments.bank.svc");
        assertThat(e.path()).hasValue("/v1/payments");
        assertThat(e.route()).hasValue("payments-v1");
        assertThat(e.status()).hasValue(201);
        assertThat(e.latencyUs()).hasValue(12_345);
        assertThat(e.requestBytes()).hasValue(321);
        assertThat(e.responseBytes()).hasValue(4567);
        assertThat(e.isStream()).isFalse();
        assertThat(e.details())
                .containsEntry("node", "sidecar~10.0.0.7~payments-7f9.bank~bank.svc.cluster.local")
                .containsEntry("log_name", "meshguard_als")
                .containsEntry("response_code_details", "via_upstream")
                .containsEntry("protocol", "HTTP2");
        assertThat(e.detailsJson()).doesNotContain("4111111111111111");
    }

    @Test
    void laterMessagesWithoutIdentifier_keepTheStreamsNode_andStreamStaysOpen() {
        EnvoyStream envoy = new EnvoyStream();
        envoy.send(
                http(identifier(), entry("req-1", "/a", 200, "application/json").build()));
        envoy.send(http(
                null,
                entry("req-2", "/b", 200, "application/json").build(),
                entry("req-3", "/c", 404, "application/json").build()));

        await().atMost(10, TimeUnit.SECONDS).until(() -> received.size() == 3);
        assertThat(received).extracting(e -> e.requestId().orElseThrow()).containsExactly("req-1", "req-2", "req-3");
        assertThat(received)
                .allSatisfy(e -> assertThat(e.details().get("node")).asString().startsWith("sidecar~"));
        assertThat(receiver.openStreams()).isEqualTo(1);
        assertThat(envoy.response).isNotDone();
    }

    @Test
    void sseResponse_becomesSummaryWithoutSizesOrQueryString() {
        EnvoyStream envoy = new EnvoyStream();
        envoy.send(http(
                identifier(),
                entry("req-sse", "/v1/chat/stream?prompt=my+iban+is", 200, "text/event-stream; charset=utf-8")
                        .build()));

        await().atMost(10, TimeUnit.SECONDS).until(() -> received.size() == 1);
        AuditEvent e = received.get(0);
        assertThat(e.isStream()).isTrue();
        assertThat(e.path()).hasValue("/v1/chat/stream");
        assertThat(e.status()).hasValue(200);
        assertThat(e.latencyUs()).hasValue(12_345);
        assertThat(e.tenant()).hasValue("acme");
        assertThat(e.subject()).hasValue("alice");
        assertThat(e.clientId()).hasValue("agent-42");
        assertThat(e.requestBytes()).isEmpty();
        assertThat(e.responseBytes()).isEmpty();
        assertThat(e.details())
                .containsOnlyKeys("node", AccessLogMapper.REPORTER_DETAIL, AccessLogMapper.REPORTER_KIND_DETAIL);
    }

    @Test
    void queryString_isKept_whenConfigured_exceptForStreams() throws Exception {
        AccessLogMapper keep = new AccessLogMapper(AccessLogHeaders.defaults(), new PathPolicy(true));
        assertThat(keep.toEvent(entry("r", "/a?x=1", 200, "application/json").build(), "", "", LOCAL)
                        .path())
                .hasValue("/a?x=1");
        assertThat(keep.toEvent(entry("r", "/a?x=1", 200, "text/event-stream").build(), "", "", LOCAL)
                        .path())
                .hasValue("/a");
    }

    @Test
    void accessLogRow_cardNumbersInPathQueryAndHeaders_areMaskedBeforeTheRowExists() throws Exception {
        // DLP never sees paths, query strings or headers: the audit masks them itself
        AccessLogMapper keep = new AccessLogMapper(AccessLogHeaders.defaults(), new PathPolicy(true));
        HTTPAccessLogEntry.Builder b =
                entry("r-4532015112830366", "/cards/4532-0151-1283-0366?pan=5105105105105100", 200, "application/json");
        b.getRequestBuilder().putRequestHeaders("x-user-id", "user 4532 0151 1283 0366");
        AuditEvent e = keep.toEvent(b.build(), "", "", LOCAL);
        assertThat(e.path()).hasValue("/cards/****-****-****-0366?pan=************5100");
        assertThat(e.subject()).hasValue("user **** **** **** 0366");
        assertThat(e.requestId()).hasValue("r-************0366");
    }

    @Test
    void extAuthzDenial_isMarkedAsDenyDecision() throws Exception {
        HTTPAccessLogEntry.Builder denied = entry("r", "/a", 403, "text/plain");
        denied.getCommonPropertiesBuilder()
                .setResponseFlags(ResponseFlags.newBuilder()
                        .setUnauthorizedDetails(ResponseFlags.Unauthorized.newBuilder()
                                .setReason(ResponseFlags.Unauthorized.Reason.EXTERNAL_SERVICE)));
        AuditEvent e = new AccessLogMapper(AccessLogHeaders.defaults(), PathPolicy.DROP_QUERY)
                .toEvent(denied.build(), "n", "l", LOCAL);
        assertThat(e.decision()).hasValue("deny");
        assertThat(e.reason()).hasValue("ext_authz_denied");
        assertThat(e.details()).containsEntry("response_flags", List.of("unauthorized_details"));
    }

    @Test
    void canaryHeader_isRecordedAsItsKind_andAnyOtherValueIsIgnored() throws Exception {
        AccessLogMapper mapper = new AccessLogMapper(AccessLogHeaders.defaults(), PathPolicy.DROP_QUERY);
        HTTPAccessLogEntry.Builder canary = entry("c-1", "/a", 401, "application/json");
        canary.getRequestBuilder().putRequestHeaders("x-meshguard-canary", "expired_token");
        assertThat(mapper.toEvent(canary.build(), "n", "l", LOCAL).details())
                .containsEntry(AccessLogMapper.CANARY_DETAIL, "expired_token");

        HTTPAccessLogEntry.Builder forged = entry("c-2", "/a", 200, "application/json");
        forged.getRequestBuilder().putRequestHeaders("x-meshguard-canary", "<script>free text</script>");
        assertThat(mapper.toEvent(forged.build(), "n", "l", LOCAL).details())
                .doesNotContainKey(AccessLogMapper.CANARY_DETAIL);
        assertThat(mapper.toEvent(entry("c-3", "/a", 200, "application/json").build(), "n", "l", LOCAL)
                        .details())
                .doesNotContainKey(AccessLogMapper.CANARY_DETAIL);
    }

    @Test
    void malformedEntry_isCountedAndSkipped_streamStaysUpForTheNextOnes() {
        EnvoyStream envoy = new EnvoyStream();
        envoy.send(
                http(identifier(), entry("req-1", "/a", 200, "application/json").build()));
        HTTPAccessLogEntry noRequest =
                entry("x", "/x", 200, "application/json").clearRequest().build();
        HTTPAccessLogEntry.Builder noTime = entry("y", "/y", 200, "application/json");
        noTime.getCommonPropertiesBuilder().clearStartTime();
        envoy.send(http(
                null,
                noRequest,
                noTime.build(),
                entry("req-2", "/b", 200, "application/json").build()));
        envoy.sendRaw("this is not protobuf at all".getBytes(StandardCharsets.UTF_8));
        envoy.send(http(null, entry("req-3", "/c", 200, "application/json").build()));

        await().atMost(10, TimeUnit.SECONDS).until(() -> received.size() == 3);
        assertThat(received).extracting(e -> e.requestId().orElseThrow()).containsExactly("req-1", "req-2", "req-3");
        await().atMost(10, TimeUnit.SECONDS).until(() -> entries("malformed") == 3.0);
        assertThat(entries("recorded")).isEqualTo(3.0);
        assertThat(envoy.response).isNotDone();
        assertThat(receiver.openStreams()).isEqualTo(1);
    }

    @Test
    void streamCompletedByEnvoy_getsItsResponse() throws Exception {
        EnvoyStream envoy = new EnvoyStream();
        envoy.send(
                http(identifier(), entry("req-1", "/a", 200, "application/json").build()));
        envoy.requests.onCompleted();
        assertThat(envoy.response.get(10, TimeUnit.SECONDS)).isEqualTo(StreamAccessLogsResponse.getDefaultInstance());
        await().atMost(10, TimeUnit.SECONDS).until(() -> receiver.openStreams() == 0);
        assertThat(received).hasSize(1);
    }

    @Test
    void tcpEntries_areIgnoredAndCounted() {
        EnvoyStream envoy = new EnvoyStream();
        envoy.send(StreamAccessLogsMessage.newBuilder()
                .setIdentifier(identifier())
                .setTcpLogs(StreamAccessLogsMessage.TCPAccessLogEntries.newBuilder()
                        .addLogEntry(io.envoyproxy.envoy.data.accesslog.v3.TCPAccessLogEntry.getDefaultInstance()))
                .build());
        envoy.send(http(null, entry("req-1", "/a", 200, "application/json").build()));
        await().atMost(10, TimeUnit.SECONDS).until(() -> received.size() == 1);
        assertThat(entries("ignored_tcp")).isEqualTo(1.0);
    }
}
