package io.meshguard.dlpserver;

import static io.meshguard.dlpserver.ServerFixture.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.meshguard.testing.IntegrationTest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

/**
 * How a DLP stream ends, against what Envoy does with it (envoyproxy/envoy
 * source/extensions/filters/http/ext_proc/ext_proc.cc):
 * <ul>
 *   <li>an OK close by the processor makes Envoy pass the REST of the request and response unprocessed
 *       ({@code onGrpcClose} → {@code processing_complete_}), so the server must never complete first: it completes
 *       after Envoy half-closes (an immediate_response ends the HTTP stream anyway);</li>
 *   <li>a response-only stream is a local reply of a filter before ext_proc (an ext_authz 401): it is scanned but
 *       writes no api_call row.</li>
 * </ul>
 */
@IntegrationTest
class StreamEndTest {
    @AutoClose
    private final ServerFixture fx = ServerFixture.started();

    @Test
    void answeredStream_staysOpenUntilEnvoyHalfCloses_soNothingPassesUnprocessed() throws Exception {
        try (EnvoyStream s = new EnvoyStream(fx.channel, BodySendMode.NONE, BodySendMode.FULL_DUPLEX_STREAMED)) {
            s.requestLine(true, "GET", "/v1/chat/completions", "llm", "x-request-id", "open-1");
            assertThat(s.next().hasRequestHeaders()).isTrue();
            s.responseHeaders(false, ":status", "200", "content-type", "application/json");
            assertThat(s.next().hasResponseHeaders()).isTrue();
            s.responseBody(utf8("{\"a\":\"card 4111 1111 1111 1111\"}"), true);
            List<ProcessingResponse> answers = s.untilResponseEnd();
            assertThat(new String(EnvoyStream.responseBytes(answers), StandardCharsets.UTF_8))
                    .doesNotContain("4111 1111 1111 1111");

            assertThat(s.nextEvent(Duration.ofMillis(300)))
                    .as("the server must not end the stream first")
                    .isNull();
            s.halfClose();
            assertThat(s.nextEvent(Duration.ofSeconds(30))).isEqualTo("completed");
        }
    }

    /** Published class "local replies meeting DLP's response phase" (Envoy GHSA-cf3q-gqg7-3fm9 / CVE-2025-30157). */
    @Test
    void localReplyMeetingTheResponsePhase_isScanned_butWritesNoApiCallRow() throws Exception {
        try (EnvoyStream s = new EnvoyStream(fx.channel, BodySendMode.NONE, BodySendMode.FULL_DUPLEX_STREAMED)) {
            s.responseHeaders(false, ":status", "401", "content-type", "application/json");
            assertThat(s.next().hasResponseHeaders()).isTrue();
            s.responseBody(utf8("{\"error\":\"missing_credential\"}"), true);
            List<ProcessingResponse> answers = s.untilResponseEnd();
            assertThat(new String(EnvoyStream.responseBytes(answers), StandardCharsets.UTF_8))
                    .contains("missing_credential");
            s.halfClose();
            assertThat(s.nextEvent(Duration.ofSeconds(30))).isEqualTo("completed");
        }
        assertThat(fx.calls).as("no audit row for a denial's reply").isEmpty();
        assertThat(fx.meters
                        .get("meshguard_dlp_local_reply_streams_total")
                        .counter()
                        .count())
                .isEqualTo(1.0);

        // the same reply after the request's headers is an ordinary call and keeps its row
        try (EnvoyStream s = new EnvoyStream(fx.channel, BodySendMode.NONE, BodySendMode.FULL_DUPLEX_STREAMED)) {
            s.requestLine(true, "GET", "/nowhere", "api", "x-request-id", "nr-1");
            assertThat(s.next().hasRequestHeaders()).isTrue();
            s.responseHeaders(true, ":status", "404");
            assertThat(s.next().hasResponseHeaders()).isTrue();
            s.halfClose();
            assertThat(s.nextEvent(Duration.ofSeconds(30))).isEqualTo("completed");
        }
        assertThat(fx.calls).extracting(DlpAuditSink.ApiCallEvent::requestId).containsExactly("nr-1");
    }
}
