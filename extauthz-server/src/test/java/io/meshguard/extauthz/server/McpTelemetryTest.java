package io.meshguard.extauthz.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.grpc.ManagedChannel;
import io.meshguard.extauthz.tools.CheckRequests;
import io.meshguard.runtime.tracing.Tracing;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.LoopbackGrpc;
import io.meshguard.testing.OtlpTraceReceiver;
import io.meshguard.testing.TestIssuer;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.proto.trace.v1.Span;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An MCP request's Check on a real OTLP collector and in the metrics: the span carries OpenTelemetry's MCP attributes,
 * the counter counts by route, method, listed tool and decision, and neither takes a client's free text: an unknown
 * method or an unlisted tool is {@code _OTHER}, however many different ones a client makes up.
 */
@IntegrationTest
class McpTelemetryTest {
    private static final String CHECK = "envoy.service.auth.v3.Authorization/Check";

    @TempDir
    static Path dir;

    static TestIssuer idp;
    static OtlpTraceReceiver collector;
    static Tracing tracing;
    static ExtAuthzServer server;
    static ManagedChannel channel;
    static final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    @BeforeAll
    static void start() throws Exception {
        idp = new TestIssuer();
        Path policy = dir.resolve("authz.yaml");
        Files.writeString(policy, """
                issuers:
                  - name: agents-idp
                    issuer: %s
                    discovery: %s/.well-known/openid-configuration
                    algorithms: [RS256]
                    claims: {subject: sub, roles: roles, scopes: scope}
                routes:
                  - name: mcp-bank
                    match: {hosts: [mcp.bank.test], path: /mcp, methods: [POST]}
                    auth: jwt
                    roles: [agent]
                    mcp:
                      tools:
                        - {name: get_balance}
                        - {name: transfer_funds, roles: [payments-agent]}
                  - name: statements
                    match: {hosts: [api.bank.test], path: /statements, methods: [GET]}
                    auth: jwt
                """.formatted(idp.issuer(), idp.issuer()));
        collector = OtlpTraceReceiver.start();
        tracing = Tracing.fromEnvironment(
                Map.of(
                        "OTEL_TRACES_EXPORTER", "otlp",
                        "OTEL_EXPORTER_OTLP_ENDPOINT", collector.endpoint(),
                        "OTEL_BSP_SCHEDULE_DELAY", "20"),
                "meshguard-extauthz",
                registry);
        server = ExtAuthzServer.withApiKeyStore(
                ExtAuthzConfig.onLoopback(policy, Duration.ofMillis(100)),
                registry,
                Optional.empty(),
                e -> {},
                Clock.systemUTC(),
                tracing);
        server.start();
        await().atMost(Duration.ofSeconds(20)).until(() -> server.notReady().isEmpty());
        channel = LoopbackGrpc.channelTo(server.grpcPort());
    }

    @AfterAll
    static void stop() {
        channel.shutdownNow();
        server.close();
        tracing.close();
        collector.close();
        idp.close();
    }

    private static String agentToken() {
        Map<String, Object> claims = new HashMap<>();
        claims.put("sub", "agent-7");
        claims.put("roles", List.of("agent"));
        return idp.token(claims, Duration.ofMinutes(5));
    }

    /** A Check in a trace of its own; the trace id. */
    private static String check(String host, String path, String... headers) {
        String trace = HexFormat.of().formatHex(randomBytes(16));
        Map<String, List<String>> h = new LinkedHashMap<>();
        h.put("authorization", List.of("Bearer " + agentToken()));
        h.put("traceparent", List.of("00-" + trace + "-" + HexFormat.of().formatHex(randomBytes(8)) + "-01"));
        for (int i = 0; i < headers.length; i += 2) {
            h.put(headers[i], List.of(headers[i + 1]));
        }
        AuthorizationGrpc.newBlockingStub(channel)
                .withDeadlineAfter(Duration.ofSeconds(30))
                .check(CheckRequests.of("POST", host, path, h, Map.of(), CheckRequests.Encoding.HEADERS));
        return trace;
    }

    private static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        ThreadLocalRandom.current().nextBytes(b);
        return b;
    }

    private static String toolCall(String tool) {
        return check(
                "mcp.bank.test",
                "/mcp",
                "mcp-protocol-version",
                "2026-07-28",
                "mcp-method",
                "tools/call",
                "mcp-name",
                tool);
    }

    private static Span span(String trace) {
        return await().atMost(Duration.ofSeconds(20))
                .until(
                        () -> collector.spans(CHECK).stream()
                                .filter(s ->
                                        OtlpTraceReceiver.hex(s.getTraceId()).equals(trace))
                                .findFirst(),
                        Optional::isPresent)
                .orElseThrow();
    }

    private static double count(String method, String tool, String decision) {
        Counter c = registry.find("meshguard_authz_mcp_requests_total")
                .tags("route", "mcp-bank", "method", method, "tool", tool, "decision", decision)
                .counter();
        return c == null ? 0 : c.count();
    }

    @Test
    void toolCall_listedTool_spanCarriesTheMcpConventions_andCountsUnderItsName() {
        double before = count("tools/call", "get_balance", "allow");
        Span span = span(toolCall("get_balance"));
        assertThat(OtlpTraceReceiver.attribute(span, "mcp.method.name")).contains("tools/call");
        assertThat(OtlpTraceReceiver.attribute(span, "mcp.protocol.version")).contains("2026-07-28");
        assertThat(OtlpTraceReceiver.attribute(span, "gen_ai.operation.name")).contains("execute_tool");
        assertThat(OtlpTraceReceiver.attribute(span, "gen_ai.tool.name")).contains("get_balance");
        assertThat(count("tools/call", "get_balance", "allow")).isEqualTo(before + 1);
    }

    @Test
    void toolCall_listedToolTheCallerMayNotCall_countsAsDenied() {
        double before = count("tools/call", "transfer_funds", "deny");
        Span span = span(toolCall("transfer_funds"));
        assertThat(OtlpTraceReceiver.attribute(span, "gen_ai.tool.name")).contains("transfer_funds");
        assertThat(OtlpTraceReceiver.attribute(span, "meshguard.decision")).contains("deny");
        assertThat(count("tools/call", "transfer_funds", "deny")).isEqualTo(before + 1);
    }

    @Test
    void toolCall_madeUpToolNames_areOneOtherSeries_neverTheirOwn() {
        double before = count("tools/call", "_OTHER", "deny");
        String last = "";
        for (int i = 0; i < 50; i++) {
            last = toolCall("exfiltrate_" + i + "_4539148803436467");
        }
        Span span = span(last);
        assertThat(OtlpTraceReceiver.attribute(span, "gen_ai.tool.name")).contains("_OTHER");
        assertThat(count("tools/call", "_OTHER", "deny")).isEqualTo(before + 50);
        assertThat(registry.find("meshguard_authz_mcp_requests_total").counters())
                .allSatisfy(c -> assertThat(c.getId().getTag("tool")).doesNotStartWith("exfiltrate"));
        assertThat(collector.spans(CHECK))
                .allSatisfy(s -> assertThat(s.toString()).doesNotContain("4539148803436467"));
    }

    @Test
    void unknownMethod_isOther_andNamesNoTool() {
        // the route lists tools but no methods: any method passes, named as the conventions name an unknown one
        double before = count("_OTHER", "", "allow");
        Span span = span(check(
                "mcp.bank.test", "/mcp", "mcp-protocol-version", "2026-07-28", "mcp-method", "admin/dump_everything"));
        assertThat(OtlpTraceReceiver.attribute(span, "mcp.method.name")).contains("_OTHER");
        assertThat(OtlpTraceReceiver.attribute(span, "gen_ai.tool.name")).isEmpty();
        assertThat(count("_OTHER", "", "allow")).isEqualTo(before + 1);
    }

    @Test
    void requestWithoutMcpHeaders_addsNoMcpAttributeNorCount() {
        double series = registry.find("meshguard_authz_mcp_requests_total").counters().stream()
                .mapToDouble(Counter::count)
                .sum();
        Span span = span(check("api.bank.test", "/statements"));
        assertThat(OtlpTraceReceiver.attribute(span, "mcp.method.name")).isEmpty();
        assertThat(registry.find("meshguard_authz_mcp_requests_total").counters().stream()
                        .mapToDouble(Counter::count)
                        .sum())
                .isEqualTo(series);
    }

    @Test
    void malformedVersion_isNotRecordedAsAVersion() {
        Span span = span(check(
                "mcp.bank.test", "/mcp", "mcp-protocol-version", "latest-and-greatest", "mcp-method", "tools/list"));
        assertThat(OtlpTraceReceiver.attribute(span, "mcp.protocol.version")).isEmpty();
        assertThat(OtlpTraceReceiver.attribute(span, "meshguard.decision")).contains("deny");
    }
}
