package io.meshguard.dlpserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode;
import io.grpc.ManagedChannel;
import io.meshguard.audit.AuditEvent;
import io.meshguard.audit.AuditKind;
import io.meshguard.runtime.grpc.GrpcServerSettings;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.LoopbackGrpc;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Findings and stream summaries reach the audit module's sink as dlp_finding and api_call events, value-free. */
@IntegrationTest
class AuditLogRecorderTest {
    @Test
    void findingAndSummary_becomeAuditEvents_withoutTheValue(@TempDir Path dir) throws Exception {
        Path policy = dir.resolve("dlp.yaml");
        Files.writeString(policy, ServerFixture.POLICY);
        List<AuditEvent> events = new CopyOnWriteArrayList<>();
        DlpServer server = DlpServer.create(
                new DlpServerSettings(
                        GrpcServerSettings.defaults(0).withAddress("127.0.0.1", 0),
                        policy,
                        "k".repeat(32).getBytes(StandardCharsets.UTF_8),
                        Duration.ofHours(1)),
                new AuditLogRecorder(e -> events.add(e)),
                new SimpleMeterRegistry());
        server.start();
        ManagedChannel ch = LoopbackGrpc.channelTo(server.grpcPort());
        io.grpc.Metadata routeHint = new io.grpc.Metadata();
        routeHint.put(RouteHint.ROUTE_KEY, "payments-create");
        try (EnvoyStream s = new EnvoyStream(ch, BodySendMode.BUFFERED, BodySendMode.NONE, routeHint)) {
            s.requestLine(
                    false,
                    "POST",
                    "/pay?x=1",
                    "pay.bank",
                    "content-type",
                    "application/json",
                    "x-request-id",
                    "r-42",
                    "x-tenant-id",
                    "bank-a",
                    "traceparent",
                    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
            s.next();
            s.requestBody("{\"pan\":\"5105 1051 0510 5100\"}".getBytes(StandardCharsets.UTF_8), true);
            s.next();
            s.halfClose();
            await().until(() -> events.size() == 2);
        } finally {
            ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            server.close();
        }
        AuditEvent finding = events.get(0);
        assertThat(finding.kind()).isEqualTo(AuditKind.DLP_FINDING);
        assertThat(finding.requestId()).contains("r-42");
        assertThat(finding.tenant()).contains("bank-a");
        assertThat(finding.traceId()).contains("4bf92f3577b34da6a3ce929d0e0e4736");
        assertThat(finding.detailsJson())
                .contains(
                        "\"detector\":\"card\"",
                        "\"direction\":\"request\"",
                        "\"location\":\"/pan\"",
                        "\"length\":19",
                        "\"value_hmac\":\"",
                        "\"hmac_key_id\":\"dlp-")
                .doesNotContain("5105");
        AuditEvent call = events.get(1);
        assertThat(call.kind()).isEqualTo(AuditKind.API_CALL);
        assertThat(call.detailsJson()).contains("\"card\":1");
        assertThat(call.path()).contains("/pay");
        assertThat(finding.route()).contains("payments-create");
        assertThat(call.route()).contains("payments-create");
    }

    @Test
    void apiCallRow_cardNumberInThePath_isMasked(@TempDir Path dir) throws Exception {
        // DLP scans bodies, not paths: the audit's own masking keeps the card out of the api_call row
        Path policy = dir.resolve("dlp.yaml");
        Files.writeString(policy, ServerFixture.POLICY);
        List<AuditEvent> events = new CopyOnWriteArrayList<>();
        DlpServer server = DlpServer.create(
                new DlpServerSettings(
                        GrpcServerSettings.defaults(0).withAddress("127.0.0.1", 0),
                        policy,
                        "k".repeat(32).getBytes(StandardCharsets.UTF_8),
                        Duration.ofHours(1)),
                new AuditLogRecorder(e -> events.add(e)),
                new SimpleMeterRegistry());
        server.start();
        ManagedChannel ch = LoopbackGrpc.channelTo(server.grpcPort());
        try (EnvoyStream s = new EnvoyStream(ch, BodySendMode.BUFFERED, BodySendMode.NONE)) {
            s.requestLine(true, "GET", "/cards/4532015112830366/balance", "pay.bank", "x-request-id", "r-43");
            s.next();
            s.halfClose();
            await().until(() -> events.size() == 1);
        } finally {
            ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            server.close();
        }
        assertThat(events.get(0).path()).contains("/cards/************0366/balance");
    }
}
