package io.meshguard.dlpserver;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.meshguard.runtime.config.Config;
import io.meshguard.runtime.config.ConfigLoader;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.LoopbackGrpc;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * What a replica does at its configured limit of held streams ({@code grpc.max_concurrent_calls}, read as
 * {@code meshguard dlp} reads it): the streams it holds go on masking a card number split across SSE events, the
 * next stream is refused at once with RESOURCE_EXHAUSTED naming the setting (Envoy's ext_proc filter, with
 * {@code failure_mode_allow: false} as meshguard configures it, fails that request closed), the refusal is counted,
 * and a stream that ends frees its place.
 */
@IntegrationTest
class HeldStreamLimitTest {
    private static final String CARD = "4532015112830366";

    @Test
    void heldSseStreams_atMaxConcurrentCalls_refuseTheNextCountItAndKeepMasking() throws Exception {
        Path dir = Files.createTempDirectory("dlp-limit");
        Path policy = dir.resolve("dlp.yaml");
        Files.writeString(policy, ServerFixture.POLICY, StandardCharsets.UTF_8);
        Config config = ConfigLoader.load(
                DlpServerSettings.schema(),
                Optional.empty(),
                Map.of(
                        "MESHGUARD_GRPC_BIND", "127.0.0.1",
                        "MESHGUARD_GRPC_PORT", "0",
                        "MESHGUARD_GRPC_MAX_CONCURRENT_CALLS", "2",
                        "MESHGUARD_DLP_POLICY", policy.toString(),
                        "MESHGUARD_DLP_HASH_KEY", "0123456789abcdef0123456789abcdef"));
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        List<DlpAuditSink.FindingEvent> findings = new java.util.concurrent.CopyOnWriteArrayList<>();
        DlpServer server = DlpServer.create(
                DlpServerSettings.from(config),
                new DlpAuditSink() {
                    @Override
                    public void finding(FindingEvent e) {
                        findings.add(e);
                    }

                    @Override
                    public void apiCall(ApiCallEvent e) {}
                },
                meters);
        server.start();
        ManagedChannel channel = LoopbackGrpc.channelTo(server.grpcPort());
        try {
            List<EnvoyStream> held = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                EnvoyStream s = openSse(channel);
                assertThat(s.next().hasRequestHeaders()).isTrue();
                assertThat(s.next().hasResponseHeaders()).isTrue();
                s.responseBody(event(" card " + CARD.substring(0, 8)), false);
                s.responseBody(event(CARD.substring(8) + " on file. "), false);
                assertThat(maskedWhileOpen(s))
                        .as("stream %d: the split card masked while held", i)
                        .isTrue();
                held.add(s);
            }

            EnvoyStream refused = openSse(channel);
            Object answer = refused.nextEvent(Duration.ofSeconds(10));
            assertThat(answer).isInstanceOf(Throwable.class);
            Status status = Status.fromThrowable((Throwable) answer);
            assertThat(status.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
            assertThat(status.getDescription()).contains("grpc.max_concurrent_calls");
            assertThat(meters.get("meshguard.grpc.calls.rejected").counter().count())
                    .isEqualTo(1.0);

            // the held streams are untouched by the refusal: they go on and end as usual
            EnvoyStream first = held.get(0);
            first.responseBody(event(" and " + CARD + " again. "), false);
            first.responseBody("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8), true);
            String rest = new String(EnvoyStream.responseBytes(first.untilResponseEnd()), StandardCharsets.UTF_8);
            assertThat(rest)
                    .doesNotContain(CARD)
                    .doesNotContain(CARD.substring(0, 8))
                    .contains("[DONE]");
            first.halfClose();
            assertThat(findings).hasSizeGreaterThanOrEqualTo(3);

            // the ended stream's place is free again
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (meters.get("meshguard.grpc.calls.in_flight").gauge().value() > 1 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            EnvoyStream next = openSse(channel);
            assertThat(next.next().hasRequestHeaders()).isTrue();
            assertThat(meters.get("meshguard.grpc.calls.rejected").counter().count())
                    .isEqualTo(1.0);
            next.close();
            held.get(1).close();
            refused.close();
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            server.close();
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder())
                        .forEach(p -> p.toFile().delete());
            }
        }
    }

    /** A stream past its request headers, as Envoy opens one for a streamed LLM answer. */
    private static EnvoyStream openSse(ManagedChannel channel) {
        EnvoyStream s = new EnvoyStream(channel, BodySendMode.NONE, BodySendMode.FULL_DUPLEX_STREAMED);
        s.requestHeaders(true, ":method", "POST", ":path", "/v1/chat/completions");
        s.responseHeaders(false, ":status", "200", "content-type", "text/event-stream");
        return s;
    }

    private static byte[] event(String content) {
        return ("data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + content
                        + "\"}}]}\n\n")
                .getBytes(StandardCharsets.UTF_8);
    }

    /** Whether the events' answers, before any end of stream, carry the card masked and none of its digits. */
    private static boolean maskedWhileOpen(EnvoyStream s) throws InterruptedException {
        StringBuilder seen = new StringBuilder();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            Object o = s.nextEvent(Duration.ofMillis(200));
            if (o instanceof ProcessingResponse r && r.hasResponseBody()) {
                seen.append(new String(EnvoyStream.responseBytes(List.of(r)), StandardCharsets.UTF_8));
                if (seen.toString().contains("on file.")) {
                    String text = seen.toString();
                    return !text.contains(CARD.substring(0, 8)) && !text.contains(CARD.substring(8, 12));
                }
            } else if (o != null && !(o instanceof ProcessingResponse)) {
                return false;
            }
        }
        return false;
    }
}
