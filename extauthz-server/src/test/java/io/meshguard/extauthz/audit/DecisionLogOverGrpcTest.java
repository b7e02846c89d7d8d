package io.meshguard.extauthz.audit;

import static io.meshguard.extauthz.Fixtures.RS1;
import static io.meshguard.extauthz.Fixtures.claims;
import static io.meshguard.extauthz.Fixtures.headers;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.grpc.ManagedChannel;
import io.meshguard.audit.DecisionLog;
import io.meshguard.audit.DecisionLogSettings;
import io.meshguard.extauthz.Fixtures;
import io.meshguard.extauthz.server.ExtAuthzConfig;
import io.meshguard.extauthz.server.ExtAuthzServer;
import io.meshguard.extauthz.tools.CheckRequests;
import io.meshguard.extauthz.tools.TestKeys;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.JwksServer;
import io.meshguard.testing.LoopbackGrpc;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The decision log as a server writes it: real Checks over gRPC on loopback, the server's own {@link
 * AuditSinkDecisions} into a {@link DecisionLog} whose output stream is captured, then every captured line parsed.
 */
@IntegrationTest
class DecisionLogOverGrpcTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void checks_allowDenyAndHostileInput_eachDecisionOneParsableLineWithoutCredentials() throws Exception {
        ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        DecisionLog decisionLog = new DecisionLog(
                DecisionLogSettings.defaults(Map.of("service", "meshguard-extauthz")), stdout, "stdout", registry);
        decisionLog.start();
        AuditSinkDecisions toLog = new AuditSinkDecisions(decisionLog);
        ConcurrentLinkedQueue<AuthzDecisionEvent> recorded = new ConcurrentLinkedQueue<>();
        String token = RS1.sign(claims("alice", "big-tenant", List.of("user"))
                .claim("azp", "web")
                .build());
        List<CheckRequest> checks = new ArrayList<>();
        try (JwksServer jwks = new JwksServer(Fixtures.ISSUER, TestKeys.publicSet(List.of(RS1)))) {
            Path policy = dir.resolve("authz.yaml");
            Files.writeString(policy, Fixtures.policyYaml("discovery: " + jwks.discoveryUri(), ""));
            ExtAuthzConfig config = ExtAuthzConfig.onLoopback(policy, Duration.ofMinutes(1));
            ExtAuthzServer server = new ExtAuthzServer(
                    config,
                    registry,
                    Optional.empty(),
                    e -> {
                        recorded.add(e);
                        toLog.record(e);
                    },
                    Clock.systemUTC());
            server.start();
            ManagedChannel channel = LoopbackGrpc.channelTo(server.grpcPort());
            try {
                var stub = AuthorizationGrpc.newBlockingStub(channel).withDeadlineAfter(Duration.ofSeconds(30));
                checks.add(CheckRequests.of(
                        "GET",
                        "api.test.example",
                        "/api/orders?iban=DE89370400440532013000",
                        headers(
                                "authorization",
                                "Bearer " + token,
                                "x-tenant-id",
                                "big-tenant",
                                "x-request-id",
                                "req-allow"),
                        Map.of(),
                        CheckRequests.Encoding.HEADERS));
                checks.add(CheckRequests.of(
                        "GET",
                        "api.test.example",
                        "/api/orders",
                        headers("x-tenant-id", "big-tenant", "x-request-id", "req-no-token"),
                        Map.of(),
                        CheckRequests.Encoding.HEADERS));
                checks.add(CheckRequests.of(
                        "POST",
                        "api.test.example",
                        "/admin/x\"y%0a..%2fz",
                        headers(
                                "authorization",
                                "Bearer " + token,
                                "x-tenant-id",
                                "big-tenant",
                                "x-request-id",
                                "req-bad-path"),
                        Map.of(),
                        CheckRequests.Encoding.HEADERS));
                // Envoy's header map carries raw bytes: a request id with a quote, a line break, broken UTF-8 and
                // a control byte, and a path with a tab and a terminal escape sequence.
                CheckRequest.Builder hostile = CheckRequests.of(
                        "GET",
                        "api.test.example",
                        "/api/o\trders\u001b[2J",
                        headers("authorization", "Bearer " + token, "x-tenant-id", "big-tenant"),
                        Map.of(),
                        CheckRequests.Encoding.HEADER_MAP)
                        .toBuilder();
                hostile.getAttributesBuilder()
                        .getRequestBuilder()
                        .getHttpBuilder()
                        .getHeaderMapBuilder()
                        .addHeaders(HeaderValue.newBuilder()
                                .setKey("x-request-id")
                                .setRawValue(ByteString.copyFrom(
                                        new byte[] {'r', '"', '\n', (byte) 0xC3, 0x28, (byte) 0xFF, 0x01, '}'})));
                checks.add(hostile.build());
                for (CheckRequest check : checks) {
                    stub.check(check);
                }
            } finally {
                channel.shutdownNow();
                server.close();
            }
        }
        decisionLog.close(); // drains, as the server's component stack does at shutdown

        byte[] output = stdout.toByteArray();
        StandardCharsets.UTF_8
                .newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT)
                .decode(ByteBuffer.wrap(output));
        String text = new String(output, StandardCharsets.UTF_8);
        assertThat(text)
                .endsWith("\n")
                .doesNotContain(token)
                .doesNotContain(token.substring(token.lastIndexOf('.')))
                .doesNotContain("DE89370400440532013000");
        List<String> lines = text.lines().toList();
        assertThat(lines).hasSize(checks.size()).hasSameSizeAs(recorded);
        List<JsonNode> parsed = new ArrayList<>();
        for (String line : lines) {
            parsed.add(JSON.readTree(line));
        }
        for (AuthzDecisionEvent e : recorded) {
            JsonNode line = parsed.stream()
                    .filter(p -> p.get("request_id").asText().equals(e.requestId()))
                    .findFirst()
                    .orElseThrow(() -> new AssertionError("no line for request id " + e.requestId()));
            assertThat(line.get("type").asText()).isEqualTo("meshguard/decision_log");
            assertThat(line.get("kind").asText()).isEqualTo("authz_decision");
            assertThat(line.get("labels").get("service").asText()).isEqualTo("meshguard-extauthz");
            assertThat(line.get("decision").asText()).isEqualTo(e.decision());
            assertThat(line.get("reason").asText()).isEqualTo(e.reason());
            assertThat(line.get("status").asInt()).isEqualTo(e.status());
            assertThat(line.get("path").asText()).isEqualTo(e.path().split("\\?")[0]);
            assertThat(line.get("latency_us").asLong()).isEqualTo(e.latencyMicros());
        }
        JsonNode allowed = parsed.stream()
                .filter(p -> p.get("request_id").asText().equals("req-allow"))
                .findFirst()
                .orElseThrow();
        assertThat(allowed.get("decision").asText()).isEqualTo("allow");
        assertThat(allowed.get("subject").asText()).isEqualTo("alice");
        assertThat(allowed.get("tenant").asText()).isEqualTo("big-tenant");
        assertThat(allowed.get("route").asText()).isEqualTo("api");
        assertThat(allowed.get("path").asText()).isEqualTo("/api/orders");
        assertThat(parsed.stream()
                        .filter(p -> p.get("request_id").asText().equals("req-no-token"))
                        .findFirst()
                        .orElseThrow()
                        .get("status")
                        .asInt())
                .isEqualTo(401);
        // extauthz replaces a request id it cannot use by its own; the refused path reaches the log as it came
        assertThat(recorded).noneMatch(e -> e.requestId().contains("\n"));
        assertThat(recorded).anyMatch(e -> e.path().contains("\t") && e.path().contains("\u001b"));
        assertThat(text).contains("\\t").contains("\\u001b");
        assertThat(registry.get("meshguard.decision_log.events.written")
                        .counter()
                        .count())
                .isEqualTo(checks.size());
    }
}
