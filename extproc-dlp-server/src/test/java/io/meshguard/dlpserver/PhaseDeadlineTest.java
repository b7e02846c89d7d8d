package io.meshguard.dlpserver;

import static io.meshguard.dlpserver.ServerFixture.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.grpc.Status;
import io.meshguard.testing.IntegrationTest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * With FULL_DUPLEX_STREAMED, Envoy times out no ext_proc call (processor_state.cc skips the message timer) and Istio
 * disables stream_idle_timeout, so a stalled scan must be ended by the server itself. Each test stalls a real scan
 * (a transformer blocked on a latch, made through the server's own wiring) and checks that the stream ends while
 * the scan is still stalled: failed closed, counted, audited, and nothing of the body passed on.
 */
@IntegrationTest
class PhaseDeadlineTest {
    /** Long enough for a cold JVM's first exchange on a loaded machine; only the stalled phase ever waits for it. */
    private static final Duration DEADLINE = Duration.ofSeconds(3);

    private static final BodySendMode DUPLEX = BodySendMode.FULL_DUPLEX_STREAMED;
    private static final StallingTransformers stall = new StallingTransformers();
    private static ServerFixture fx;

    @BeforeAll
    static void start() throws Exception {
        fx = new ServerFixture(new PhaseDeadlines(DEADLINE, DEADLINE, DEADLINE, Duration.ZERO), stall);
        // One whole exchange per content kind first: class loading and first compilations are not a stall.
        for (String type : List.of("application/json", "text/plain")) {
            try (EnvoyStream s = new EnvoyStream(fx.channel, DUPLEX, DUPLEX)) {
                s.requestLine(false, "POST", "/v1/chat/completions", "api", "content-type", type);
                s.next();
                s.requestBody(utf8("{\"q\":\"warm 4111 1111 1111 1111\"}"), false);
                s.requestTrailers();
                ProcessingResponse r;
                do {
                    r = s.next();
                } while (!r.hasRequestTrailers() && !r.hasImmediateResponse());
            }
        }
        await().until(() -> fx.server.service().openStreams() == 0);
    }

    @AfterEach
    void releaseStall() {
        stall.release();
        await().until(() -> fx.server.service().openStreams() == 0);
    }

    @AfterAll
    static void stop() throws Exception {
        fx.close();
    }

    private static double overDeadline(String phase, String direction) {
        var c = fx.meters
                .find("meshguard_dlp_streams_over_deadline_total")
                .tag("phase", phase)
                .tag("direction", direction)
                .counter();
        return c == null ? 0 : c.count();
    }

    private static double oldestSeconds() {
        return fx.meters.get("meshguard_dlp_stream_oldest_seconds").gauge().value();
    }

    private static DlpAuditSink.ApiCallEvent auditRow(String requestId) {
        return fx.apiCallRow(requestId);
    }

    private static void assertStalledThenEnds(CountDownLatch stalled) throws InterruptedException {
        assertThat(stalled.await(30, TimeUnit.SECONDS)).as("the scan stalled").isTrue();
    }

    private static void assert504(ProcessingResponse r, String phase) {
        assertThat(r.hasImmediateResponse())
                .as("an immediate response, got %s", r)
                .isTrue();
        assertThat(r.getImmediateResponse().getStatus().getCodeValue()).isEqualTo(504);
        assertThat(r.getImmediateResponse().getBody().toStringUtf8())
                .contains("\"error\":\"dlp_timeout\"")
                .contains("\"phase\":\"" + phase + "\"");
        assertThat(r.getImmediateResponse().getDetails()).isEqualTo("meshguard_dlp_deadline_" + phase);
    }

    @Test
    void stalledRequestBodyScan_endsWith504WhileStillStalled_andNoByteOfTheBodyGoesUpstream() throws Exception {
        double before = overDeadline("body", "request");
        try (EnvoyStream s = new EnvoyStream(fx.channel, DUPLEX, DUPLEX)) {
            s.requestLine(
                    false,
                    "POST",
                    "/v1/chat/completions",
                    "api",
                    "content-type",
                    "application/json",
                    "x-request-id",
                    "req-stall-body");
            assertThat(s.next().hasRequestHeaders()).isTrue();
            CountDownLatch stalled = stall.stallAt(StallingTransformers.Where.WRITE);
            s.requestBody(utf8("{\"messages\":[{\"content\":\"card 4111 1111 1111 1111\"}]}"), true);
            assertStalledThenEnds(stalled);
            assertThat(oldestSeconds())
                    .as("the stalled stream is the oldest open one")
                    .isPositive();

            ProcessingResponse answer = s.next();
            assertThat(stall.stillStalled())
                    .as("ended by the server's deadline, not by the scan")
                    .isTrue();
            assert504(answer, "request_body");
            assertThat(s.nextEvent(Duration.ofSeconds(30))).isEqualTo("completed");
            assertThat(overDeadline("body", "request")).isEqualTo(before + 1);

            stall.release(); // the scan comes back: whatever it decided is never sent
            await().until(() -> fx.server.service().openStreams() == 0);
            assertThat(s.drainNow()).isEmpty();
        }
        DlpAuditSink.ApiCallEvent row = auditRow("req-stall-body");
        assertThat(row.outcome()).isEqualTo("deadline");
        assertThat(row.notes()).containsEntry("deadline", "request_body");
        await().until(() -> oldestSeconds() == 0);
    }

    @Test
    void stalledRequestHeaders_endWith504() throws Exception {
        double before = overDeadline("headers", "request");
        try (EnvoyStream s = new EnvoyStream(fx.channel, DUPLEX, DUPLEX)) {
            CountDownLatch stalled = stall.stallAt(StallingTransformers.Where.CREATE);
            s.requestLine(
                    false,
                    "POST",
                    "/v1/chat/completions",
                    "api",
                    "content-type",
                    "application/json",
                    "x-request-id",
                    "req-stall-headers");
            assertStalledThenEnds(stalled);
            ProcessingResponse answer = s.next();
            assertThat(stall.stillStalled()).isTrue();
            assert504(answer, "request_headers");
            assertThat(overDeadline("headers", "request")).isEqualTo(before + 1);
            stall.release();
        }
        assertThat(auditRow("req-stall-headers").notes()).containsEntry("deadline", "request_headers");
    }

    @Test
    void stalledTrailers_whereTheHeldBackTailIsDecided_endWith504() throws Exception {
        try (EnvoyStream s = new EnvoyStream(fx.channel, DUPLEX, DUPLEX)) {
            s.requestLine(
                    false,
                    "POST",
                    "/v1/chat/completions",
                    "api",
                    "content-type",
                    "text/plain",
                    "x-request-id",
                    "req-stall-trailers");
            assertThat(s.next().hasRequestHeaders()).isTrue();
            CountDownLatch stalled = stall.stallAt(StallingTransformers.Where.FINISH);
            s.requestBody(utf8("my card is 4111 1111 1111"), false); // the scan holds the tail back
            s.requestTrailers();
            assertStalledThenEnds(stalled);
            List<Object> sofar = new java.util.ArrayList<>();
            ProcessingResponse answer;
            do {
                answer = s.next();
                sofar.add(answer);
            } while (answer.hasRequestBody());
            assertThat(stall.stillStalled()).isTrue();
            assert504(answer, "request_trailers");
            // What went upstream before the stall is text the scan had decided; the held-back digits never did.
            String upstream = new String(
                    EnvoyStream.requestBytes(
                            sofar.stream().map(ProcessingResponse.class::cast).toList()),
                    StandardCharsets.UTF_8);
            assertThat(upstream).doesNotContain("4111");
        }
    }

    @Test
    void stalledResponseBodyAfterTheResponseStarted_endsTheStreamWithAnError_soEnvoyResetsIt() throws Exception {
        double before = overDeadline("body", "response");
        try (EnvoyStream s = new EnvoyStream(fx.channel, DUPLEX, DUPLEX)) {
            s.requestLine(true, "GET", "/report", "api", "x-request-id", "req-stall-response");
            assertThat(s.next().hasRequestHeaders()).isTrue();
            s.responseHeaders(false, ":status", "200", "content-type", "text/plain");
            assertThat(s.next().hasResponseHeaders()).isTrue(); // the client has the headers now
            CountDownLatch stalled = stall.stallAt(StallingTransformers.Where.WRITE);
            s.responseBody(utf8("account holder card 4111 1111 1111 1111, balance 10"), true);
            assertStalledThenEnds(stalled);
            Object end = s.nextEvent(Duration.ofSeconds(30));
            assertThat(stall.stillStalled()).isTrue();
            assertThat(end)
                    .as("a gRPC error, not an answer carrying body bytes")
                    .isInstanceOf(Throwable.class);
            assertThat(Status.fromThrowable((Throwable) end).getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
            assertThat(overDeadline("body", "response")).isEqualTo(before + 1);
            stall.release();
        }
        assertThat(auditRow("req-stall-response").outcome()).isEqualTo("deadline");
    }

    @Test
    void wholeStreamBound_endsAnIdleBoundedStream_butNotAnEventStreamOpenedBeforeIt() throws Exception {
        // Long enough for the event stream to get its response headers answered first on a loaded machine.
        Duration bound = Duration.ofSeconds(2);
        try (ServerFixture own = new ServerFixture(
                        new PhaseDeadlines(
                                Duration.ofSeconds(30), Duration.ofSeconds(30), Duration.ofSeconds(30), bound),
                        io.meshguard.dlp.content.Transformers::forKind);
                EnvoyStream events = new EnvoyStream(own.channel, DUPLEX, DUPLEX)) {
            events.requestLine(true, "GET", "/events", "api");
            assertThat(events.next().hasRequestHeaders()).isTrue();
            events.responseHeaders(false, ":status", "200", "content-type", "text/event-stream");
            assertThat(events.next().hasResponseHeaders()).isTrue();
            try (EnvoyStream idle = new EnvoyStream(own.channel, DUPLEX, DUPLEX)) {
                idle.requestLine(true, "GET", "/slow", "api", "x-request-id", "req-idle");
                assertThat(idle.next().hasRequestHeaders()).isTrue();
                assert504(idle.next(), "stream"); // the upstream never answered: 504 from the server's own bound
                assertThat(idle.nextEvent(Duration.ofSeconds(30))).isEqualTo("completed");
            }
            // The event stream is older than the one that was ended, and it still flows.
            events.responseBody(utf8("data: hello\n\n"), true);
            ProcessingResponse r = events.next();
            assertThat(r.hasResponseBody()).isTrue();
            assertThat(r.getResponseBody()
                            .getResponse()
                            .getBodyMutation()
                            .getStreamedResponse()
                            .getBody()
                            .toStringUtf8())
                    .isEqualTo("data: hello\n\n");
            await().until(() -> own.calls.stream()
                    .anyMatch(c -> c.requestId().equals("req-idle")
                            && c.notes().getOrDefault("deadline", "").equals("stream")));
        }
    }
}
