package io.meshguard.extauthz.server;

import static io.meshguard.extauthz.Fixtures.RS1;
import static io.meshguard.extauthz.Fixtures.claims;
import static io.meshguard.extauthz.Fixtures.headers;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.rpc.Code;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import io.meshguard.catalogmodel.apikey.ApiKeyService;
import io.meshguard.catalogmodel.apikey.InMemoryApiKeyStore;
import io.meshguard.extauthz.Fixtures;
import io.meshguard.extauthz.tools.CheckRequests;
import io.meshguard.extauthz.tools.TestKeys;
import io.meshguard.runtime.tracing.Tracing;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.JwksServer;
import io.meshguard.testing.LoopbackGrpc;
import io.meshguard.testing.OtlpTraceReceiver;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.proto.trace.v1.Status;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Check spans as a real OTLP collector receives them: the parent Envoy puts in the call's metadata (W3C, B3 single,
 * B3 multi), the request's own headers as fallback, the sampled flag obeyed, and nothing secret on any span.
 */
@IntegrationTest
class CheckTracingTest {
    private static final String CHECK = "envoy.service.auth.v3.Authorization/Check";
    private static final SecureRandom RANDOM = new SecureRandom();

    @TempDir
    static Path dir;

    static JwksServer jwks;
    static OtlpTraceReceiver collector;
    static Tracing tracing;
    static ExtAuthzServer server;
    static ManagedChannel channel;
    static String apiKey;
    static final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    @BeforeAll
    static void start() throws Exception {
        jwks = new JwksServer(Fixtures.ISSUER, TestKeys.publicSet(List.of(RS1)));
        Path policy = dir.resolve("authz.yaml");
        Files.writeString(policy, Fixtures.policyYaml("discovery: " + jwks.discoveryUri(), ""));
        collector = OtlpTraceReceiver.start();
        tracing = Tracing.fromEnvironment(
                Map.of(
                        "OTEL_TRACES_EXPORTER",
                        "otlp",
                        "OTEL_EXPORTER_OTLP_ENDPOINT",
                        collector.endpoint(),
                        "OTEL_BSP_SCHEDULE_DELAY",
                        "20",
                        "OTEL_SERVICE_NAME",
                        "extauthz-under-test"),
                "meshguard-extauthz",
                registry);
        InMemoryApiKeyStore keys = new InMemoryApiKeyStore();
        apiKey = new ApiKeyService(keys, Clock.systemUTC())
                .create(
                        "partner",
                        "partner-owner",
                        "tenant-from-key",
                        List.of("user"),
                        List.of(),
                        "big",
                        Optional.empty())
                .text();
        ExtAuthzConfig config = ExtAuthzConfig.onLoopback(policy, Duration.ofMillis(100));
        server = ExtAuthzServer.withApiKeyStore(
                config, registry, Optional.of(keys), e -> {}, Clock.systemUTC(), tracing);
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
        jwks.close();
    }

    private static String hex(int bytes) {
        byte[] b = new byte[bytes];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    private static CheckResponse check(Map<String, String> callMetadata, Map<String, List<String>> requestHeaders) {
        Metadata metadata = new Metadata();
        callMetadata.forEach((k, v) -> metadata.put(Metadata.Key.of(k, Metadata.ASCII_STRING_MARSHALLER), v));
        CheckRequest request = CheckRequests.of(
                "GET", "api.test.example", "/api/orders", requestHeaders, Map.of(), CheckRequests.Encoding.HEADERS);
        return AuthorizationGrpc.newBlockingStub(channel)
                .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(metadata))
                .withDeadlineAfter(Duration.ofSeconds(30))
                .check(request);
    }

    private static Span spanOfTrace(String traceId) {
        return await().atMost(Duration.ofSeconds(20))
                .until(
                        () -> collector.spans(CHECK).stream()
                                .filter(s ->
                                        OtlpTraceReceiver.hex(s.getTraceId()).equals(traceId))
                                .findFirst(),
                        Optional::isPresent)
                .orElseThrow();
    }

    private static Map<String, List<String>> tokenHeaders(String tenant) {
        String token = RS1.sign(claims("alice", tenant, List.of("user")).build());
        return headers("authorization", "Bearer " + token, "x-tenant-id", tenant);
    }

    @Test
    void check_parentInW3cCallMetadata_isEnvoysEgressSpan_evenWhenTheRequestCarriesAnother() {
        String trace = hex(16);
        String egress = hex(8);
        Map<String, List<String>> request = tokenHeaders("big-tenant");
        request.put("traceparent", List.of("00-" + hex(16) + "-" + hex(8) + "-01"));
        CheckResponse r =
                check(Map.of("traceparent", "00-" + trace + "-" + egress + "-01", "tracestate", "vendor=x"), request);
        assertThat(r.getStatus().getCode()).isEqualTo(Code.OK_VALUE);

        Span span = spanOfTrace(trace);
        assertThat(OtlpTraceReceiver.hex(span.getParentSpanId())).isEqualTo(egress);
        assertThat(span.getTraceState()).isEqualTo("vendor=x");
        assertThat(span.getKind()).isEqualTo(Span.SpanKind.SPAN_KIND_SERVER);
        assertThat(OtlpTraceReceiver.attribute(span, "rpc.system")).contains("grpc");
        assertThat(OtlpTraceReceiver.attribute(span, "rpc.service")).contains("envoy.service.auth.v3.Authorization");
        assertThat(OtlpTraceReceiver.attribute(span, "rpc.method")).contains("Check");
        assertThat(OtlpTraceReceiver.attribute(span, "rpc.grpc.status_code")).contains("0");
        assertThat(OtlpTraceReceiver.attribute(span, "meshguard.parent_source")).contains("grpc_metadata");
        assertThat(OtlpTraceReceiver.attribute(span, "meshguard.decision")).contains("allow");
        assertThat(OtlpTraceReceiver.attribute(span, "meshguard.reason")).contains("allowed");
        assertThat(OtlpTraceReceiver.attribute(span, "meshguard.route")).contains("api");
        assertThat(OtlpTraceReceiver.attribute(span, "meshguard.auth_method")).contains("jwt");
        assertThat(span.getStatus().getCode()).isEqualTo(Status.StatusCode.STATUS_CODE_UNSET);
        assertThat(collector.resourceAttribute("service.name")).contains("extauthz-under-test");
    }

    @Test
    void check_parentInB3SingleCallMetadata_isUsed() {
        String trace = hex(16);
        String egress = hex(8);
        check(Map.of("b3", trace + "-" + egress + "-1"), tokenHeaders("big-tenant"));
        Span span = spanOfTrace(trace);
        assertThat(OtlpTraceReceiver.hex(span.getParentSpanId())).isEqualTo(egress);
        assertThat(OtlpTraceReceiver.attribute(span, "meshguard.parent_source")).contains("grpc_metadata");
    }

    @Test
    void check_parentInB3MultiCallMetadata_isUsed_asEnvoysZipkinTracerSendsIt() {
        String trace = hex(16);
        String egress = hex(8);
        check(
                Map.of("x-b3-traceid", trace, "x-b3-spanid", egress, "x-b3-parentspanid", hex(8), "x-b3-sampled", "1"),
                tokenHeaders("big-tenant"));
        Span span = spanOfTrace(trace);
        assertThat(OtlpTraceReceiver.hex(span.getParentSpanId())).isEqualTo(egress);
    }

    @Test
    void check_noContextInCallMetadata_fallsBackToTheCheckRequestsTraceparent() {
        // opa-envoy-plugin#681 / opa#7449: spans started new traces although the request carried traceparent
        String trace = hex(16);
        String parent = hex(8);
        Map<String, List<String>> request = tokenHeaders("big-tenant");
        request.put("traceparent", List.of("00-" + trace + "-" + parent + "-01"));
        check(Map.of(), request);
        Span span = spanOfTrace(trace);
        assertThat(OtlpTraceReceiver.hex(span.getParentSpanId())).isEqualTo(parent);
        assertThat(OtlpTraceReceiver.attribute(span, "meshguard.parent_source")).contains("request_headers");
    }

    @Test
    void check_b3HeadersOnlyInTheRequest_fallBackToThem() {
        String trace = hex(16);
        String parent = hex(8);
        Map<String, List<String>> request = tokenHeaders("big-tenant");
        request.put("x-b3-traceid", List.of(trace));
        request.put("x-b3-spanid", List.of(parent));
        request.put("x-b3-sampled", List.of("1"));
        check(Map.of(), request);
        assertThat(OtlpTraceReceiver.hex(spanOfTrace(trace).getParentSpanId())).isEqualTo(parent);
    }

    @Test
    void check_unsampledParent_isNotExported() {
        String unsampled = hex(16);
        check(Map.of("traceparent", "00-" + unsampled + "-" + hex(8) + "-00"), tokenHeaders("big-tenant"));
        // the batch processor exports in the order spans end: once the later, sampled span has arrived, the
        // unsampled one would have arrived too
        String sampled = hex(16);
        check(Map.of("traceparent", "00-" + sampled + "-" + hex(8) + "-01"), tokenHeaders("big-tenant"));
        spanOfTrace(sampled);
        assertThat(collector.spans())
                .noneMatch(s -> OtlpTraceReceiver.hex(s.getTraceId()).equals(unsampled));
    }

    @Test
    void deny_isRecordedWithItsReason_butIsNotAnError() {
        String trace = hex(16);
        CheckResponse r =
                check(Map.of("traceparent", "00-" + trace + "-" + hex(8) + "-01"), headers("x-tenant-id", "t1"));
        assertThat(r.getStatus().getCode()).isEqualTo(Code.UNAUTHENTICATED_VALUE);
        Span span = spanOfTrace(trace);
        assertThat(OtlpTraceReceiver.attribute(span, "meshguard.decision")).contains("deny");
        assertThat(OtlpTraceReceiver.attribute(span, "meshguard.reason")).contains("missing_credential");
        assertThat(OtlpTraceReceiver.attribute(span, "meshguard.http_status")).contains("401");
        assertThat(OtlpTraceReceiver.attribute(span, "meshguard.auth_method")).contains("none");
        assertThat(span.getStatus().getCode()).isEqualTo(Status.StatusCode.STATUS_CODE_UNSET);
    }

    @Test
    void apiKeyCheck_recordsMethodAndTier() {
        String trace = hex(16);
        CheckResponse r = check(
                Map.of("traceparent", "00-" + trace + "-" + hex(8) + "-01"),
                headers("x-api-key", apiKey, "x-tenant-id", "tenant-from-key"));
        assertThat(r.getStatus().getCode()).isEqualTo(Code.OK_VALUE);
        Span span = spanOfTrace(trace);
        assertThat(OtlpTraceReceiver.attribute(span, "meshguard.auth_method")).contains("apikey");
        assertThat(OtlpTraceReceiver.attribute(span, "meshguard.tier")).contains("big");
    }

    @Test
    void noSpan_carriesATokenApiKeyClaimTenantOrSubject() {
        String subject = "subject-" + hex(6);
        String tenant = "tenant-" + hex(6);
        String claimValue = "claim-" + hex(6);
        String token = RS1.sign(claims(subject, tenant, List.of("user"))
                .claim("azp", claimValue)
                .claim("email", claimValue + "@bank.example")
                .build());
        String expired = RS1.sign(claims(subject, tenant, List.of("user"))
                .expirationTime(java.util.Date.from(java.time.Instant.now().minusSeconds(3600)))
                .build());
        String forged =
                token.substring(0, token.lastIndexOf('.') + 1) + "AAAA" + token.substring(token.lastIndexOf('.') + 5);
        String marker = hex(16);
        List<Map<String, List<String>>> requests = List.of(
                headers("authorization", "Bearer " + token, "x-tenant-id", tenant),
                headers("authorization", "Bearer " + expired, "x-tenant-id", tenant),
                headers("authorization", "Bearer " + forged, "x-tenant-id", tenant),
                headers("authorization", "Bearer " + token, "x-tenant-id", "someone-else-" + tenant),
                headers("x-api-key", apiKey, "x-tenant-id", "tenant-from-key"),
                headers("x-api-key", apiKey + "x", "x-tenant-id", "tenant-from-key"),
                headers("authorization", "Bearer " + token, "x-api-key", apiKey, "x-tenant-id", tenant));
        for (Map<String, List<String>> request : requests) {
            check(Map.of("traceparent", "00-" + hex(16) + "-" + hex(8) + "-01"), request);
        }
        check(Map.of("traceparent", "00-" + marker + "-" + hex(8) + "-01"), headers("x-tenant-id", "t"));
        spanOfTrace(marker);

        String everything = collector.allText();
        assertThat(collector.spans(CHECK)).hasSizeGreaterThanOrEqualTo(requests.size() + 1);
        List<String> secrets = List.of(
                token,
                token.split("\\.")[1],
                token.split("\\.")[2],
                expired.split("\\.")[2],
                forged,
                apiKey,
                apiKey.substring(apiKey.length() - 16),
                subject,
                tenant,
                claimValue,
                "tenant-from-key",
                "partner-owner",
                "alice");
        for (String secret : secrets) {
            assertThat(everything)
                    .as("exported spans must not contain %s", secret)
                    .doesNotContain(secret);
        }
    }

    @Test
    void offByDefault_exportsNothing_andNeverConnects() throws Exception {
        try (OtlpTraceReceiver quiet = OtlpTraceReceiver.start()) {
            // only the endpoint is set: the exporter stays off until OTEL_TRACES_EXPORTER=otlp
            Tracing off = Tracing.fromEnvironment(
                    Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", quiet.endpoint()),
                    "meshguard-extauthz",
                    new SimpleMeterRegistry());
            ExtAuthzConfig config = ExtAuthzConfig.onLoopback(dir.resolve("authz.yaml"), Duration.ofMillis(100));
            ExtAuthzServer plain = new ExtAuthzServer(
                    config, new SimpleMeterRegistry(), Optional.empty(), e -> {}, Clock.systemUTC(), off);
            plain.start();
            ManagedChannel ch = LoopbackGrpc.channelTo(plain.grpcPort());
            try {
                Metadata metadata = new Metadata();
                metadata.put(
                        Metadata.Key.of("traceparent", Metadata.ASCII_STRING_MARSHALLER),
                        "00-" + hex(16) + "-" + hex(8) + "-01");
                CheckResponse r = AuthorizationGrpc.newBlockingStub(ch)
                        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(metadata))
                        .check(CheckRequests.of(
                                "GET",
                                "api.test.example",
                                "/healthz",
                                Map.of(),
                                Map.of(),
                                CheckRequests.Encoding.HEADERS));
                assertThat(r.getStatus().getCode()).isEqualTo(Code.OK_VALUE);
            } finally {
                ch.shutdownNow();
                plain.close();
                off.close();
            }
            assertThat(off.enabled()).isFalse();
            assertThat(quiet.requests()).isEmpty();
            assertThat(quiet.connections()).isZero();
        }
    }
}
