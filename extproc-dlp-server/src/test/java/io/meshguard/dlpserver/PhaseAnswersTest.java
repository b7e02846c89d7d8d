package io.meshguard.dlpserver;

import static io.meshguard.dlpserver.ServerFixture.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.meshguard.testing.IntegrationTest;
import java.time.Duration;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

/**
 * Published class "an ext_proc server answering a phase not asked for": Envoy up to 1.34 ignores a response whose
 * kind is not the phase it waits for and resumes the paused stream unprocessed; from 1.35 it fails the stream
 * ({@code ext_proc_fail_close_spurious_resp}; openkruise/agents#834 shows the bypass shape). So the DLP server answers
 * each message with the response of that very phase, and a message Envoy would never send in that place (a
 * phase's headers twice, the request's headers after the response's) ends the stream with an error, never an answer
 * for another phase.
 */
@IntegrationTest
class PhaseAnswersTest {
    @AutoClose
    private final ServerFixture fx = ServerFixture.started();

    @Test
    void everyPhase_isAnsweredWithItsOwnResponseKind_neverAnother() throws Exception {
        try (EnvoyStream s = new EnvoyStream(fx.channel, BodySendMode.BUFFERED, BodySendMode.BUFFERED)) {
            s.requestLine(false, "POST", "/orders", "api", "content-type", "text/plain");
            assertThat(s.next().getResponseCase()).isEqualTo(ProcessingResponse.ResponseCase.REQUEST_HEADERS);
            s.requestBody(utf8("card 4111 1111 1111 1111"), false);
            assertThat(s.next().getResponseCase()).isEqualTo(ProcessingResponse.ResponseCase.REQUEST_BODY);
            s.requestTrailers();
            assertThat(s.next().getResponseCase()).isEqualTo(ProcessingResponse.ResponseCase.REQUEST_TRAILERS);
            s.responseHeaders(false, ":status", "200", "content-type", "text/plain");
            assertThat(s.next().getResponseCase()).isEqualTo(ProcessingResponse.ResponseCase.RESPONSE_HEADERS);
            s.responseBody(utf8("ok"), false);
            assertThat(s.next().getResponseCase()).isEqualTo(ProcessingResponse.ResponseCase.RESPONSE_BODY);
            s.responseTrailers();
            assertThat(s.next().getResponseCase()).isEqualTo(ProcessingResponse.ResponseCase.RESPONSE_TRAILERS);
            s.halfClose();
            assertThat(s.nextEvent(Duration.ofSeconds(30))).isEqualTo("completed");
        }
    }

    @Test
    void requestHeadersTwice_failsTheStream_neverASecondAnswer() throws Exception {
        try (EnvoyStream s = new EnvoyStream(fx.channel, BodySendMode.BUFFERED, BodySendMode.BUFFERED)) {
            s.requestLine(true, "GET", "/orders", "api");
            assertThat(s.next().getResponseCase()).isEqualTo(ProcessingResponse.ResponseCase.REQUEST_HEADERS);
            s.requestLine(true, "GET", "/admin", "api");
            assertThat(s.nextEvent(Duration.ofSeconds(30))).isInstanceOf(Throwable.class);
        }
    }

    @Test
    void responseHeadersTwice_orRequestHeadersAfterTheResponse_failTheStream_neverAnsweredAsAnotherPhase()
            throws Exception {
        try (EnvoyStream s = new EnvoyStream(fx.channel, BodySendMode.BUFFERED, BodySendMode.BUFFERED)) {
            s.requestLine(true, "GET", "/orders", "api");
            assertThat(s.next().getResponseCase()).isEqualTo(ProcessingResponse.ResponseCase.REQUEST_HEADERS);
            s.responseHeaders(false, ":status", "200", "content-type", "text/plain");
            assertThat(s.next().getResponseCase()).isEqualTo(ProcessingResponse.ResponseCase.RESPONSE_HEADERS);
            s.responseHeaders(false, ":status", "200", "content-type", "text/plain");
            assertThat(s.nextEvent(Duration.ofSeconds(30))).isInstanceOf(Throwable.class);
        }
        try (EnvoyStream s = new EnvoyStream(fx.channel, BodySendMode.BUFFERED, BodySendMode.BUFFERED)) {
            s.requestLine(true, "GET", "/orders", "api");
            assertThat(s.next().getResponseCase()).isEqualTo(ProcessingResponse.ResponseCase.REQUEST_HEADERS);
            s.responseHeaders(true, ":status", "204");
            assertThat(s.next().getResponseCase()).isEqualTo(ProcessingResponse.ResponseCase.RESPONSE_HEADERS);
            s.requestLine(true, "GET", "/admin", "api");
            assertThat(s.nextEvent(Duration.ofSeconds(30))).isInstanceOf(Throwable.class);
        }
    }
}
