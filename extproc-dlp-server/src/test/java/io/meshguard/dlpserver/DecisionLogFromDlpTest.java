package io.meshguard.dlpserver;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode;
import io.grpc.ManagedChannel;
import io.meshguard.audit.DecisionLog;
import io.meshguard.audit.DecisionLogSettings;
import io.meshguard.runtime.grpc.GrpcServerSettings;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.LoopbackGrpc;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real ext_proc stream with a card number: the decision log gets a finding line and a summary line, value-free. */
@IntegrationTest
class DecisionLogFromDlpTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void cardInRequestBody_findingAndSummaryLinesParse_withoutTheCardNumber(@TempDir Path dir) throws Exception {
        Path policy = dir.resolve("dlp.yaml");
        Files.writeString(policy, ServerFixture.POLICY);
        ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        DecisionLog decisionLog = new DecisionLog(
                DecisionLogSettings.defaults(Map.of("service", "meshguard-dlp")), stdout, "stdout", meters);
        decisionLog.start();
        DlpServer server = DlpServer.create(
                new DlpServerSettings(
                        GrpcServerSettings.defaults(0).withAddress("127.0.0.1", 0),
                        policy,
                        "k".repeat(32).getBytes(StandardCharsets.UTF_8),
                        Duration.ofHours(1)),
                new AuditLogRecorder(decisionLog),
                meters);
        server.start();
        ManagedChannel ch = LoopbackGrpc.channelTo(server.grpcPort());
        try (EnvoyStream s = new EnvoyStream(ch, BodySendMode.BUFFERED, BodySendMode.NONE, new io.grpc.Metadata())) {
            s.requestLine(
                    false,
                    "POST",
                    "/pay?pan=5105105105105100",
                    "pay.bank",
                    "content-type",
                    "application/json",
                    "x-request-id",
                    "r-43",
                    "x-tenant-id",
                    "bank-a");
            s.next();
            s.requestBody("{\"pan\":\"5105 1051 0510 5100\"}".getBytes(StandardCharsets.UTF_8), true);
            s.next();
            s.halfClose();
            // the stream's summary is recorded as the server ends the stream: wait for that, not for the channel
            assertThat(s.nextEvent(Duration.ofSeconds(30))).isEqualTo("completed");
        } finally {
            ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            server.close();
        }
        decisionLog.close(); // drains what the stream recorded, as the server's stack does at shutdown

        String text = stdout.toString(StandardCharsets.UTF_8);
        assertThat(text).doesNotContain("5105").doesNotContain("5100");
        List<JsonNode> lines = new ArrayList<>();
        for (String line : text.lines().toList()) {
            lines.add(JSON.readTree(line));
        }
        assertThat(lines).extracting(l -> l.get("kind").asText()).containsExactly("dlp_finding", "api_call");
        JsonNode finding = lines.get(0);
        assertThat(finding.get("type").asText()).isEqualTo("meshguard/decision_log");
        assertThat(finding.get("labels").get("service").asText()).isEqualTo("meshguard-dlp");
        assertThat(finding.get("request_id").asText()).isEqualTo("r-43");
        assertThat(finding.get("tenant").asText()).isEqualTo("bank-a");
        assertThat(finding.get("path").asText()).isEqualTo("/pay");
        assertThat(finding.get("details").get("detector").asText()).isEqualTo("card");
        assertThat(finding.get("details").get("value_hmac").asText()).hasSize(64);
        assertThat(finding.get("details").get("length").asInt()).isEqualTo(19);
        assertThat(lines.get(1).get("details").get("dlp_findings").get("card").asInt())
                .isEqualTo(1);
    }
}
