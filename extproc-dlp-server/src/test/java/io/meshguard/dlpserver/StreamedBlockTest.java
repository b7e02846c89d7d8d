package io.meshguard.dlpserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.StreamedBodyResponse;
import io.meshguard.dlp.content.SseTransformer;
import io.meshguard.dlp.policy.Direction;
import io.meshguard.dlp.policy.DlpPolicy;
import io.meshguard.dlp.policy.DlpPolicyParser;
import io.meshguard.dlp.scan.ValueHasher;
import io.meshguard.testing.IntegrationTest;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A block decided after a streamed response started (its headers already went to the client with our answer). An
 * event stream ends cleanly: what was decided before the block, then the SSE error event, then one empty answer per
 * later chunk, and end_of_stream exactly when Envoy's last chunk carried it. Any other body ends with a local reply,
 * which Envoy turns into a reset: a text body that simply stopped would look whole. The tests replay the same
 * response at several chunk sizes and check every answer's exact bytes. The bytes decided before the block come
 * from the same engine run outside the server ({@link BodyScan}, same chunks), so what is checked here is the
 * server's protocol: nothing after the block leaks.
 */
@IntegrationTest
class StreamedBlockTest {
    private static final String KEY =
            "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\\n" + "-----END PRIVATE KEY-----";
    private static final String[] TOKENS = {
        "Hello, ", "your card 4111 1111 1111 1111 is on file. ", "Here it is: ", KEY, " bye"
    };
    private static final int[] CHUNK_SIZES = {1, 7, 64, 300, Integer.MAX_VALUE};

    private static ServerFixture fx;
    private static DlpPolicy policy;

    @BeforeAll
    static void start() throws Exception {
        fx = new ServerFixture();
        policy = DlpPolicyParser.parse(fx.dir.resolve("dlp.yaml"));
    }

    @AfterAll
    static void stop() throws Exception {
        fx.close();
    }

    private static String event(int id, String token) {
        return "id: " + id + "\ndata: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + token + "\"}}]}\n\n";
    }

    private static byte[] sseStream() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < TOKENS.length; i++) {
            sb.append(event(i, TOKENS[i]));
        }
        return sb.append("data: [DONE]\n\n").toString().getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] textBody() {
        return String.join("", TOKENS).replace("\\n", "\n").getBytes(StandardCharsets.UTF_8);
    }

    private static List<byte[]> chunks(byte[] body, int size) {
        List<byte[]> out = new ArrayList<>();
        for (int i = 0; i < body.length; i += size) {
            out.add(Arrays.copyOfRange(body, i, (int) Math.min(body.length, (long) i + size)));
        }
        return out;
    }

    /** What the engine decides per chunk until it blocks; the last entry's index is the blocking chunk. */
    private record Oracle(List<byte[]> beforeBlock, int blockingChunk) {
        byte[] released() {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            beforeBlock.forEach(out::writeBytes);
            return out.toByteArray();
        }
    }

    private static Oracle oracle(String contentType, List<byte[]> chunks) {
        BodyScan scan = BodyScan.open(
                policy,
                Direction.RESPONSE,
                "",
                "/x",
                contentType,
                "",
                ValueHasher.forTenant("0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.UTF_8), ""),
                (f, location) -> {});
        List<byte[]> out = new ArrayList<>();
        for (int i = 0; i < chunks.size(); i++) {
            byte[] got = scan.write(chunks.get(i));
            if (i == chunks.size() - 1 && scan.blocked().isEmpty()) {
                byte[] rest = scan.finish();
                got = Arrays.copyOf(got, got.length + rest.length);
                System.arraycopy(rest, 0, got, got.length - rest.length, rest.length);
            }
            if (scan.blocked().isPresent()) {
                assertThat(scan.blocked().get().finding().orElseThrow().detector())
                        .isEqualTo("private_key");
                return new Oracle(out, i);
            }
            out.add(got);
        }
        throw new AssertionError("the engine did not block the body");
    }

    private static byte[] errorEvent() {
        return SseTransformer.errorEvent("blocked by DLP");
    }

    @Test
    void fullDuplexSse_blockedAfterStart_errorEventThenEveryLaterChunkSwallowed_atEveryChunkSize() throws Exception {
        byte[] body = sseStream();
        String plain = new String(body, StandardCharsets.UTF_8);
        for (int size : CHUNK_SIZES) {
            List<byte[]> chunks = chunks(body, size);
            Oracle o = oracle("text/event-stream", chunks);
            List<StreamedBodyResponse> pieces = playFullDuplex("text/event-stream", chunks, "fd-sse-" + size);

            List<String> expected = new ArrayList<>();
            List<Boolean> expectedEnds = new ArrayList<>();
            for (byte[] decided : o.beforeBlock()) {
                if (decided.length > 0) {
                    expected.add(new String(decided, StandardCharsets.UTF_8));
                    expectedEnds.add(false);
                }
            }
            int last = chunks.size() - 1;
            expected.add(new String(errorEvent(), StandardCharsets.UTF_8));
            expectedEnds.add(o.blockingChunk() == last);
            for (int i = o.blockingChunk() + 1; i <= last; i++) {
                expected.add("");
                expectedEnds.add(i == last);
            }
            assertThat(pieces)
                    .as("chunk size %d", size)
                    .extracting(p -> p.getBody().toStringUtf8())
                    .containsExactlyElementsOf(expected);
            assertThat(pieces).extracting(StreamedBodyResponse::getEndOfStream).containsExactlyElementsOf(expectedEnds);

            // Independent of the engine: what went out before the error event is whole events of the original
            // stream (rewritten), before the key, and the error event is well-formed SSE.
            String released = new String(o.released(), StandardCharsets.UTF_8);
            assertThat(released).doesNotContain("BEGIN PRIVATE", "MIIE", "bye", "4111 1111");
            assertThat(released.isEmpty() || released.endsWith("\n\n")).isTrue();
            assertThat(plain.replace("4111 1111 1111 1111", "**** **** **** 1111"))
                    .startsWith(released);
            assertThat(new String(errorEvent(), StandardCharsets.UTF_8))
                    .matches("event: error\ndata: \\{\"error\":\\{\"type\":\"dlp_blocked\".*\\}\\}\n\n");
            if (size == 1) {
                // Byte by byte, every event before the key's went out as soon as it was complete.
                assertThat(released)
                        .isEqualTo(event(0, TOKENS[0])
                                + event(1, "your card **** **** **** 1111 is on file. ")
                                + event(2, TOKENS[2]));
            }
            if (size == Integer.MAX_VALUE) {
                assertThat(released).isEmpty();
            }
        }
    }

    @Test
    void streamedSse_blockedAfterStart_oneAnswerPerChunk_errorEventThenEmptyAnswers_atEveryChunkSize()
            throws Exception {
        byte[] body = sseStream();
        for (int size : CHUNK_SIZES) {
            List<byte[]> chunks = chunks(body, size);
            Oracle o = oracle("text/event-stream", chunks);
            List<byte[]> answers = playStreamed("text/event-stream", chunks, "st-sse-" + size);
            assertThat(answers).as("one answer per chunk, size %d", size).hasSize(chunks.size());
            for (int i = 0; i < chunks.size(); i++) {
                byte[] want = i < o.blockingChunk()
                        ? o.beforeBlock().get(i)
                        : i == o.blockingChunk() ? errorEvent() : new byte[0];
                assertThat(new String(answers.get(i), StandardCharsets.UTF_8))
                        .as("answer %d of size %d", i, size)
                        .isEqualTo(new String(want, StandardCharsets.UTF_8));
            }
        }
    }

    @Test
    void fullDuplexText_blockedAfterStart_heldBackTailNeverReleased_streamIsReset() throws Exception {
        byte[] body = textBody();
        String masked = new String(body, StandardCharsets.UTF_8).replace("4111 1111 1111 1111", "**** **** **** 1111");
        int keyAt = masked.indexOf("-----BEGIN");
        for (int size : CHUNK_SIZES) {
            List<byte[]> chunks = chunks(body, size);
            Oracle o = oracle("text/plain", chunks);
            List<ProcessingResponse> answers =
                    playUntilLocalReply(BodySendMode.FULL_DUPLEX_STREAMED, chunks, "fd-text-" + size);
            String got = new String(EnvoyStream.responseBytes(answers), StandardCharsets.UTF_8);
            assertThat(got).as("chunk size %d", size).isEqualTo(new String(o.released(), StandardCharsets.UTF_8));
            assertThat(masked).startsWith(got);
            assertThat(got.length()).isLessThanOrEqualTo(keyAt);
            // no piece ends the body: the client must not see a clean end of a body that was cut
            assertThat(answers).filteredOn(ProcessingResponse::hasResponseBody).noneMatch(r -> r.getResponseBody()
                    .getResponse()
                    .getBodyMutation()
                    .getStreamedResponse()
                    .getEndOfStream());
            if (size == Integer.MAX_VALUE) {
                assertThat(got).isEmpty();
            }
        }
    }

    @Test
    void streamedText_blockedAfterStart_chunksBeforeTheBlockAnswered_thenTheStreamIsReset() throws Exception {
        byte[] body = textBody();
        for (int size : CHUNK_SIZES) {
            List<byte[]> chunks = chunks(body, size);
            Oracle o = oracle("text/plain", chunks);
            List<ProcessingResponse> answers = playUntilLocalReply(BodySendMode.STREAMED, chunks, "st-text-" + size);
            assertThat(answers).as("chunk size %d", size).hasSize(o.blockingChunk());
            for (int i = 0; i < o.blockingChunk(); i++) {
                assertThat(answers.get(i)
                                .getResponseBody()
                                .getResponse()
                                .getBodyMutation()
                                .getBody()
                                .toByteArray())
                        .as("answer %d of size %d", i, size)
                        .isEqualTo(o.beforeBlock().get(i));
            }
        }
    }

    @Test
    void blockAfterStart_isAudited_findingAndApiCallWithTheBlock() throws Exception {
        playFullDuplex("text/event-stream", chunks(sseStream(), 64), "audit-block");
        await().untilAsserted(() -> {
            assertThat(fx.findings)
                    .anyMatch(f -> f.requestId().equals("audit-block")
                            && f.detector().equals("private_key")
                            && f.action().equals("block"));
            assertThat(fx.calls)
                    .anyMatch(c -> c.requestId().equals("audit-block")
                            && c.outcome().equals("blocked")
                            && c.notes().get("block").equals("response:finding:private_key:after_response_started"));
        });
    }

    @Test
    void fullDuplexSse_bodyEndedByTrailers_afterABlock_trailersStillAnswered() throws Exception {
        byte[] body = sseStream();
        try (EnvoyStream s = new EnvoyStream(fx.channel, BodySendMode.NONE, BodySendMode.FULL_DUPLEX_STREAMED)) {
            s.requestHeaders(true, ":path", "/x", "x-request-id", "trailers-after-block");
            s.next();
            s.responseHeaders(false, ":status", "200", "content-type", "text/event-stream");
            s.next();
            s.responseBody(body, false);
            StreamedBodyResponse piece =
                    s.next().getResponseBody().getResponse().getBodyMutation().getStreamedResponse();
            assertThat(piece.getBody().toByteArray()).isEqualTo(errorEvent());
            assertThat(piece.getEndOfStream()).isFalse(); // Envoy has not ended the body: neither may we
            s.responseBody("data: more\n\n".getBytes(StandardCharsets.UTF_8), false);
            assertThat(s.next()
                            .getResponseBody()
                            .getResponse()
                            .getBodyMutation()
                            .getStreamedResponse()
                            .getBody())
                    .isEmpty();
            s.responseTrailers();
            assertThat(s.next().hasResponseTrailers()).isTrue();
            assertThat(s.nextEvent(Duration.ofMillis(300))).isNull();
        }
    }

    @Test
    void fullDuplexSse_blockDecidedOnlyWhenTrailersEndTheBody_errorEventThenTrailersAnswer() throws Exception {
        // A key whose END line never comes is only decided once the body has ended: here, by trailers.
        String body = event(0, "Hello, ") + event(1, "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC");
        try (EnvoyStream s = new EnvoyStream(fx.channel, BodySendMode.NONE, BodySendMode.FULL_DUPLEX_STREAMED)) {
            s.requestHeaders(true, ":path", "/x", "x-request-id", "block-at-trailers");
            s.next();
            s.responseHeaders(false, ":status", "200", "content-type", "text/event-stream");
            s.next();
            s.responseBody(body.getBytes(StandardCharsets.UTF_8), false);
            s.responseTrailers();
            List<ProcessingResponse> answers = new ArrayList<>();
            do {
                answers.add(s.next());
            } while (!answers.get(answers.size() - 1).hasResponseTrailers());
            byte[] released = EnvoyStream.responseBytes(answers);
            assertThat(new String(released, StandardCharsets.UTF_8))
                    .isEqualTo(event(0, "Hello, ") + new String(errorEvent(), StandardCharsets.UTF_8));
            assertThat(answers).filteredOn(ProcessingResponse::hasResponseBody).noneMatch(r -> r.getResponseBody()
                    .getResponse()
                    .getBodyMutation()
                    .getStreamedResponse()
                    .getEndOfStream());
            assertThat(s.nextEvent(Duration.ofMillis(200))).isNull();
        }
    }

    @Test
    void streamedSse_tailStillHeldWhenTrailersEndIt_isReset_noAnswerCouldCarryTheEvent() throws Exception {
        String body = event(0, "Hello, ") + event(1, "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC");
        try (EnvoyStream s = new EnvoyStream(fx.channel, BodySendMode.NONE, BodySendMode.STREAMED)) {
            s.requestHeaders(true, ":path", "/x", "x-request-id", "streamed-sse-trailers");
            s.next();
            s.responseHeaders(false, ":status", "200", "content-type", "text/event-stream");
            s.next();
            s.responseBody(body.getBytes(StandardCharsets.UTF_8), false);
            assertThat(s.next()
                            .getResponseBody()
                            .getResponse()
                            .getBodyMutation()
                            .getBody()
                            .toStringUtf8())
                    .isEqualTo(event(0, "Hello, "));
            s.responseTrailers();
            assertThat(s.next().hasImmediateResponse()).isTrue();
            assertThat(s.nextEvent(Duration.ofMillis(200))).isNull();
        }
        await().untilAsserted(() -> assertThat(fx.calls)
                .anyMatch(c -> c.requestId().equals("streamed-sse-trailers")
                        && c.notes().get("block").equals("response:incomplete_scan:after_response_started:reset")));
    }

    @Test
    void streamedResponse_tailStillHeldWhenTrailersEndIt_isDroppedAndTheStreamReset() throws Exception {
        try (EnvoyStream s = new EnvoyStream(fx.channel, BodySendMode.NONE, BodySendMode.STREAMED)) {
            s.requestHeaders(true, ":path", "/x", "x-request-id", "streamed-tail");
            s.next();
            s.responseHeaders(false, ":status", "200", "content-type", "text/plain");
            s.next();
            s.responseBody("card 4111 11".getBytes(StandardCharsets.UTF_8), false);
            assertThat(s.next()
                            .getResponseBody()
                            .getResponse()
                            .getBodyMutation()
                            .getBody()
                            .toStringUtf8())
                    .isEqualTo("card ");
            s.responseTrailers();
            // No answer is left that could carry the held-back "4111 11": it is dropped, never sent unscanned, and
            // the client is told the body is incomplete (Envoy resets a started response on a local reply).
            assertThat(s.next().hasImmediateResponse()).isTrue();
            assertThat(s.nextEvent(Duration.ofMillis(200))).isNull();
        }
        await().untilAsserted(() -> assertThat(fx.calls)
                .anyMatch(c -> c.requestId().equals("streamed-tail")
                        && c.notes().get("block").equals("response:incomplete_scan:after_response_started:reset")));
    }

    /** Plays a FULL_DUPLEX response; returns every streamed piece up to the one with end_of_stream. */
    private static List<StreamedBodyResponse> playFullDuplex(String contentType, List<byte[]> chunks, String id)
            throws Exception {
        try (EnvoyStream s = new EnvoyStream(fx.channel, BodySendMode.NONE, BodySendMode.FULL_DUPLEX_STREAMED)) {
            s.requestHeaders(true, ":path", "/x", "x-request-id", id);
            s.next();
            s.responseHeaders(false, ":status", "200", "content-type", contentType);
            assertThat(s.next().hasResponseHeaders()).isTrue();
            for (int i = 0; i < chunks.size(); i++) {
                s.responseBody(chunks.get(i), i == chunks.size() - 1);
            }
            List<StreamedBodyResponse> pieces = new ArrayList<>();
            while (true) {
                ProcessingResponse r = s.next();
                assertThat(r.hasResponseBody())
                        .as("only body pieces, never a local reply")
                        .isTrue();
                StreamedBodyResponse p =
                        r.getResponseBody().getResponse().getBodyMutation().getStreamedResponse();
                pieces.add(p);
                if (p.getEndOfStream()) {
                    break;
                }
            }
            assertThat(s.nextEvent(Duration.ofMillis(200)))
                    .as("nothing after end_of_stream")
                    .isNull();
            return pieces;
        }
    }

    /**
     * Plays a text response in the given mode, all chunks sent as Envoy would; returns every answer up to the local
     * reply the block ends with (Envoy resets a started response on it), and checks nothing comes after it.
     */
    private static List<ProcessingResponse> playUntilLocalReply(BodySendMode mode, List<byte[]> chunks, String id)
            throws Exception {
        try (EnvoyStream s = new EnvoyStream(fx.channel, BodySendMode.NONE, mode)) {
            s.requestHeaders(true, ":path", "/x", "x-request-id", id);
            s.next();
            s.responseHeaders(false, ":status", "200", "content-type", "text/plain");
            assertThat(s.next().hasResponseHeaders()).isTrue();
            List<ProcessingResponse> answers = new ArrayList<>();
            for (int i = 0; i < chunks.size(); i++) {
                s.responseBody(chunks.get(i), i == chunks.size() - 1);
            }
            while (true) {
                ProcessingResponse r = s.next();
                if (r.hasImmediateResponse()) {
                    assertThat(r.getImmediateResponse().getStatus().getCodeValue())
                            .isEqualTo(policy.block().status());
                    break;
                }
                assertThat(r.hasResponseBody()).isTrue();
                answers.add(r);
            }
            assertThat(s.nextEvent(Duration.ofMillis(200)))
                    .as("nothing after the local reply")
                    .isNull();
            return answers;
        }
    }

    /** Plays a STREAMED response chunk by chunk; returns the body of the one answer each chunk gets. */
    private static List<byte[]> playStreamed(String contentType, List<byte[]> chunks, String id) throws Exception {
        try (EnvoyStream s = new EnvoyStream(fx.channel, BodySendMode.NONE, BodySendMode.STREAMED)) {
            s.requestHeaders(true, ":path", "/x", "x-request-id", id);
            s.next();
            s.responseHeaders(false, ":status", "200", "content-type", contentType);
            assertThat(s.next().hasResponseHeaders()).isTrue();
            List<byte[]> answers = new ArrayList<>();
            for (int i = 0; i < chunks.size(); i++) {
                s.responseBody(chunks.get(i), i == chunks.size() - 1);
                ProcessingResponse r = s.next();
                assertThat(r.hasResponseBody()).as("answer to chunk %d", i).isTrue();
                assertThat(r.getResponseBody().getResponse().getBodyMutation().hasBody())
                        .isTrue();
                answers.add(r.getResponseBody()
                        .getResponse()
                        .getBodyMutation()
                        .getBody()
                        .toByteArray());
            }
            assertThat(s.nextEvent(Duration.ofMillis(200)))
                    .as("no extra answers")
                    .isNull();
            return answers;
        }
    }
}
