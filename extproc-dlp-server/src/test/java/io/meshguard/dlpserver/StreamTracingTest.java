package io.meshguard.dlpserver;

import static io.meshguard.dlpserver.ServerFixture.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.grpc.Metadata;
import io.meshguard.runtime.tracing.Tracing;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.OtlpTraceReceiver;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.proto.trace.v1.Status;
import java.nio.charset.StandardCharsets;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * ext_proc streams as a real OTLP collector receives them: one span per stream whatever the chunk count, findings and
 * blocks as events that name the detector and action only, and no detected value anywhere in what is exported.
 */
@IntegrationTest
class StreamTracingTest {
    private static final String PROCESS = "envoy.service.ext_proc.v3.ExternalProcessor/Process";
    private static final SecureRandom RANDOM = new SecureRandom();

    static OtlpTraceReceiver collector;
    static Tracing tracing;
    static ServerFixture fx;

    @BeforeAll
    static void start() throws Exception {
        collector = OtlpTraceReceiver.start();
        tracing = collector.tracing("meshguard-dlp");
        fx = new ServerFixture(tracing);
    }

    @AfterAll
    static void stop() throws Exception {
        fx.close();
        tracing.close();
        collector.close();
    }

    private static String hex(int bytes) {
        byte[] b = new byte[bytes];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    private static Metadata traceparent(String trace, String parent) {
        Metadata m = new Metadata();
        m.put(Metadata.Key.of("traceparent", Metadata.ASCII_STRING_MARSHALLER), "00-" + trace + "-" + parent + "-01");
        return m;
    }

    private static Span spanOfTrace(String trace) {
        return await().atMost(Duration.ofSeconds(20))
                .until(
                        () -> collector.spans(PROCESS).stream()
                                .filter(s ->
                                        OtlpTraceReceiver.hex(s.getTraceId()).equals(trace))
                                .findFirst(),
                        Optional::isPresent)
                .orElseThrow();
    }

    private static String pem() throws Exception {
        KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
        rsa.initialize(2048);
        String body = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(rsa.generateKeyPair().getPrivate().getEncoded());
        return "-----BEGIN PRIVATE KEY-----\n" + body + "\n-----END PRIVATE KEY-----\n";
    }

    @Test
    void sseResponseWithCardsAcrossManyChunks_isOneSpan_withFindingEvents_andNoValueAnywhere() throws Exception {
        String trace = hex(16);
        String egress = hex(8);
        String card = "4111 1111 1111 1111";
        String otherCard = "5105105105105100";
        String mail = "kim." + hex(4) + "@bank.co.kr";
        try (EnvoyStream s = new EnvoyStream(
                fx.channel, BodySendMode.BUFFERED, BodySendMode.FULL_DUPLEX_STREAMED, traceparent(trace, egress))) {
            byte[] request = utf8("{\"note\":\"pay " + otherCard + "\",\"mail\":\"" + mail + "\"}");
            s.requestLine(
                    false,
                    "POST",
                    "/api/chat",
                    "svc",
                    "content-type",
                    "application/json",
                    "content-length",
                    Integer.toString(request.length),
                    "x-tenant-id",
                    "bank-a");
            s.next();
            s.requestBody(request, true);
            s.next();
            s.responseHeaders(false, ":status", "200", "content-type", "text/event-stream");
            s.next();
            for (int i = 0; i < 40; i++) {
                s.responseBody(utf8("data: {\"delta\":\"chunk " + i + " card " + card + "\"}\n\n"), false);
            }
            s.responseBody(new byte[0], true);
            List<ProcessingResponse> answers = s.untilResponseEnd();
            assertThat(new String(EnvoyStream.responseBytes(answers), StandardCharsets.UTF_8))
                    .doesNotContain(card);
            s.halfClose();
        }

        Span span = spanOfTrace(trace);
        assertThat(collector.spans(PROCESS).stream()
                        .filter(x -> OtlpTraceReceiver.hex(x.getTraceId()).equals(trace)))
                .hasSize(1);
        assertThat(OtlpTraceReceiver.hex(span.getParentSpanId())).isEqualTo(egress);
        assertThat(span.getKind()).isEqualTo(Span.SpanKind.SPAN_KIND_SERVER);
        assertThat(OtlpTraceReceiver.attribute(span, "rpc.service"))
                .contains("envoy.service.ext_proc.v3.ExternalProcessor");
        assertThat(OtlpTraceReceiver.attribute(span, "rpc.method")).contains("Process");
        assertThat(OtlpTraceReceiver.attribute(span, "meshguard.decision")).contains("rewritten");
        assertThat(OtlpTraceReceiver.attribute(span, "meshguard.profile")).contains("default");
        assertThat(OtlpTraceReceiver.attribute(span, "meshguard.dlp.findings")).contains("42");
        assertThat(span.getEventsList()).hasSize(StreamSpan.MAX_FINDING_EVENTS);
        Span.Event first = span.getEvents(0);
        assertThat(first.getName()).isEqualTo("meshguard.dlp.finding");
        assertThat(first.getAttributesList())
                .extracting(kv -> kv.getKey())
                .containsExactlyInAnyOrder("meshguard.dlp.detector", "meshguard.dlp.action", "meshguard.dlp.direction");
        assertThat(span.getStatus().getCode()).isEqualTo(Status.StatusCode.STATUS_CODE_UNSET);

        String everything = collector.allText();
        for (String secret : List.of(card, card.replace(" ", ""), otherCard, "1111 1111", mail, "bank-a")) {
            assertThat(everything)
                    .as("exported spans must not contain %s", secret)
                    .doesNotContain(secret);
        }
    }

    @Test
    void privateKeyInRequest_blocks_withABlockEventNamingTheDetector_andNoKeyMaterialExported() throws Exception {
        String trace = hex(16);
        String key = pem();
        try (EnvoyStream s =
                new EnvoyStream(fx.channel, BodySendMode.BUFFERED, BodySendMode.NONE, traceparent(trace, hex(8)))) {
            s.requestLine(false, "POST", "/api/keys", "svc", "content-type", "text/plain");
            s.next();
            s.requestBody(utf8("here is my key\n" + key), true);
            ProcessingResponse r = s.next();
            assertThat(r.hasImmediateResponse()).isTrue();
        }
        Span span = spanOfTrace(trace);
        assertThat(OtlpTraceReceiver.attribute(span, "meshguard.decision")).contains("blocked");
        assertThat(span.getEventsList()).anySatisfy(e -> {
            assertThat(e.getName()).isEqualTo("meshguard.dlp.block");
            assertThat(e.getAttributesList()).anySatisfy(kv -> {
                assertThat(kv.getKey()).isEqualTo("meshguard.dlp.detector");
                assertThat(kv.getValue().getStringValue()).isEqualTo("private_key");
            });
        });
        // a block is the policy working, not a server failure
        assertThat(span.getStatus().getCode()).isEqualTo(Status.StatusCode.STATUS_CODE_UNSET);
        String everything = collector.allText();
        for (String line : key.lines().filter(l -> !l.startsWith("-----")).toList()) {
            assertThat(everything).doesNotContain(line);
        }
        assertThat(everything).doesNotContain("BEGIN PRIVATE KEY");
    }

    @Test
    void noContextInStreamMetadata_fallsBackToTheRequestHeadersMessage() throws Exception {
        String trace = hex(16);
        String parent = hex(8);
        try (EnvoyStream s = new EnvoyStream(fx.channel, BodySendMode.NONE, BodySendMode.NONE)) {
            s.requestHeaders(
                    true,
                    ":path",
                    "/plain",
                    ":authority",
                    "svc",
                    "x-b3-traceid",
                    trace,
                    "x-b3-spanid",
                    parent,
                    "x-b3-sampled",
                    "1");
            s.next();
            s.halfClose();
        }
        Span span = spanOfTrace(trace);
        assertThat(OtlpTraceReceiver.hex(span.getParentSpanId())).isEqualTo(parent);
        assertThat(OtlpTraceReceiver.attribute(span, "meshguard.parent_source")).contains("request_headers");
    }
}
