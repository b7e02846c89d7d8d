package io.meshguard.dlpserver;

import static io.meshguard.dlpserver.EnvoyStream.removed;
import static io.meshguard.dlpserver.EnvoyStream.setHeader;
import static io.meshguard.dlpserver.ServerFixture.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode;
import io.envoyproxy.envoy.service.ext_proc.v3.CommonResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.grpc.Status;
import io.meshguard.testing.IntegrationTest;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

@IntegrationTest
class ExtProcProtocolTest {
    @AutoClose
    private static final ServerFixture fx = ServerFixture.started();

    private static String sse(String... tokens) {
        StringBuilder sb = new StringBuilder();
        int id = 0;
        for (String t : tokens) {
            sb.append("id: ")
                    .append(id++)
                    .append("\ndata: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"")
                    .append(t)
                    .append("\"}}]}\n\n");
        }
        return sb.append("data: [DONE]\n\n").toString();
    }

    private static String streamedBody(List<ProcessingResponse> answers) {
        return new String(EnvoyStream.responseBytes(answers), StandardCharsets.UTF_8);
    }

    @Test
    void fullDuplexSse_holdsBackSplitNumbers_andOutputIsIdenticalAtEveryChunkSize() throws Exception {
        byte[] body = utf8(sse("card 4111", " 1111 1", "111 1111", " thanks"));
        String expected = null;
        for (int chunk : new int[] {1, 3, 7, 16, 61, 4096}) {
            try (EnvoyStream s = new EnvoyStream(fx.channel, BodySendMode.NONE, BodySendMode.FULL_DUPLEX_STREAMED)) {
                s.requestLine(true, "POST", "/v1/chat/completions", "llm");
                assertThat(s.next().hasRequestHeaders()).isTrue();
                s.responseHeaders(false, ":status", "200", "content-type", "text/event-stream");
                ProcessingResponse h = s.next();
                assertThat(h.hasResponseHeaders()).isTrue();
                assertThat(removed(h.getResponseHeaders().getResponse())).contains("content-length");
                for (int i = 0; i < body.length; i += chunk) {
                    int n = Math.min(chunk, body.length - i);
                    s.responseBody(java.util.Arrays.copyOfRange(body, i, i + n), i + n == body.length);
                }
                String out = streamedBody(s.untilResponseEnd());
                assertThat(out)
                        .doesNotContain("4111")
                        .contains("\"content\":\"card **** **** **** 1111\"")
                        .contains("id: 2\ndata: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\"}}]}")
                        .endsWith("data: [DONE]\n\n");
                if (expected == null) {
                    expected = out;
                }
                assertThat(out).as("chunk size %d", chunk).isEqualTo(expected);
            }
        }
    }

    @Test
    void fullDuplex_bodyEndedByTrailers_flushesWithoutEndOfStream_thenAnswersTrailers() throws Exception {
        try (EnvoyStream s = new EnvoyStream(fx.channel, BodySendMode.NONE, BodySendMode.FULL_DUPLEX_STREAMED)) {
            s.requestHeaders(true, ":path", "/plain", ":authority", "svc");
            s.next();
            s.responseHeaders(false, ":status", "200", "content-type", "text/plain");
            s.next();
            s.responseBody(utf8("pan 4111 1111 1111 "), false);
            s.responseBody(utf8("1111"), false);
            s.responseTrailers();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            while (true) {
                ProcessingResponse r = s.next();
                if (r.hasResponseTrailers()) {
                    break;
                }
                var piece = r.getResponseBody().getResponse().getBodyMutation().getStreamedResponse();
                assertThat(piece.getEndOfStream()).isFalse();
                out.writeBytes(piece.getBody().toByteArray());
            }
            assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("pan ****-****-****-1111".replace('-', ' '));
        }
    }

    @Test
    void buffered_jsonRequest_setsContentLengthToTheNewBody() throws Exception {
        byte[] body = utf8("{\"mail\":\"kim@bank.co.kr\",\"pan\":\"4111-1111-1111-1111\"}");
        try (EnvoyStream s = new EnvoyStream(fx.channel, BodySendMode.BUFFERED, BodySendMode.NONE)) {
            s.requestLine(
                    false,
                    "POST",
                    "/api/pay",
                    "pay",
                    "content-type",
                    "application/json",
                    "content-length",
                    Integer.toString(body.length),
                    "x-tenant-id",
                    "bank-a");
            ProcessingResponse h = s.next();
            assertThat(removed(h.getRequestHeaders().getResponse())).doesNotContain("content-length");
            s.requestBody(body, true);
            CommonResponse c = s.next().getRequestBody().getResponse();
            String out = c.getBodyMutation().getBody().toStringUtf8();
            assertThat(out).startsWith("{\"mail\":\"[email:").contains("\"pan\":\"****-****-****-1111\"}");
            assertThat(setHeader(c, "content-length")).isEqualTo(Integer.toString(utf8(out).length));
        }
    }

    @Test
    void hashTokens_areStablePerTenant_andDifferAcrossTenants() throws Exception {
        String a1 = hashedMail("bank-a");
        assertThat(hashedMail("bank-a")).isEqualTo(a1);
        assertThat(hashedMail("bank-b")).isNotEqualTo(a1);
    }

    private static String hashedMail(String tenant) throws Exception {
        try (EnvoyStream s = new EnvoyStream(fx.channel, BodySendMode.BUFFERED, BodySendMode.NONE)) {
            s.requestHeaders(false, ":path", "/x", "content-type", "text/plain", "x-tenant-id", tenant);
            s.next();
            s.requestBody(utf8("to kim@bank.co.kr"), true);
            return s.next()
                    .getRequestBody()
                    .getResponse()
                    .getBodyMutation()
                    .getBody()
                    .toStringUtf8();
        }
    }

    @Test
    void streamed_oneAnswerPerChunk_carriesTheHeldBackTailIntoTheNextAnswer() throws Exception {
        try (EnvoyStream s = new EnvoyStream(fx.channel, BodySendMode.STREAMED, BodySendMode.NONE)) {
            s.requestHeaders(false, ":path", "/x", "content-type", "text/plain");
            s.next();
            String[] chunks = {"card 4111 11", "11 1111 1111", " end"};
            StringBuilder out = new StringBuilder();
            for (int i = 0; i < chunks.length; i++) {
                s.requestBody(utf8(chunks[i]), i == chunks.length - 1);
                ProcessingResponse r = s.next();
                assertThat(r.hasRequestBody()).isTrue();
                out.append(r.getRequestBody()
                        .getResponse()
                        .getBodyMutation()
                        .getBody()
                        .toStringUtf8());
            }
            assertThat(out.toString()).isEqualTo("card **** **** **** 1111 end");
            assertThat(s.nextEvent(Duration.ofMillis(200))).isNull(); // no extra answers
        }
    }

    @Test
    void blockingFinding_inRequest_getsImmediateResponseWithExplicitStatusAndJson() throws Exception {
        try (EnvoyStream s = new EnvoyStream(fx.channel, BodySendMode.FULL_DUPLEX_STREAMED, BodySendMode.NONE)) {
            s.requestHeaders(
                    false,
                    ":path",
                    "/v1/chat/completions",
                    "content-type",
                    "application/json",
                    "x-request-id",
                    "req-1");
            s.next();
            s.requestBody(utf8("{\"messages\":[{\"content\":\"my card is 5555 5555 5555 "), false);
            s.requestBody(utf8("4444\"}]}"), true);
            ProcessingResponse r = s.next();
            StringBuilder forwarded = new StringBuilder();
            while (r.hasRequestBody()) { // the decided prefix may already have gone on
                forwarded.append(r.getRequestBody()
                        .getResponse()
                        .getBodyMutation()
                        .getStreamedResponse()
                        .getBody()
                        .toStringUtf8());
                r = s.next();
            }
            assertThat(forwarded.toString()).doesNotContain("5555");
            assertThat(r.hasImmediateResponse()).isTrue();
            assertThat(r.getImmediateResponse().getStatus().getCodeValue()).isEqualTo(451);
            assertThat(r.getImmediateResponse().getBody().toStringUtf8())
                    .contains("\"error\":\"dlp_blocked\"", "\"detector\":\"card\"", "\"request_id\":\"req-1\"")
                    .doesNotContain("5555");
        }
        await().untilAsserted(() -> assertThat(fx.calls)
                .anyMatch(c -> c.requestId().equals("req-1") && c.outcome().equals("blocked")));
    }

    @Test
    void auditedFindingLength_isInCharacters_withKoreanTextAroundAndInTheMatch() throws Exception {
        try (EnvoyStream s = new EnvoyStream(fx.channel, BodySendMode.NONE, BodySendMode.FULL_DUPLEX_STREAMED)) {
            s.requestHeaders(true, ":path", "/x", "x-request-id", "len-ko");
            s.next();
            s.responseHeaders(false, ":status", "200", "content-type", "text/plain");
            s.next();
            s.responseBody(utf8("이 문서는 대외비 입니다. 주민등록번호 960121-1021413 확인"), true);
            assertThat(streamedBody(s.untilResponseEnd())).isEqualTo("이 문서는 대외비 입니다. 주민등록번호 ******-***1413 확인");
        }
        await().untilAsserted(() -> {
            // 대외비: 3 characters (9 UTF-8 bytes); the RRN: 14 characters.
            assertThat(fx.findings)
                    .anyMatch(
                            f -> f.requestId().equals("len-ko") && f.detector().equals("marking") && f.length() == 3);
            assertThat(fx.findings)
                    .anyMatch(
                            f -> f.requestId().equals("len-ko") && f.detector().equals("kr_rrn") && f.length() == 14);
        });
    }

    @Test
    void headersOnlyRequest_andTrailersOnlyResponse_getOneAnswerEach() throws Exception {
        try (EnvoyStream s =
                new EnvoyStream(fx.channel, BodySendMode.FULL_DUPLEX_STREAMED, BodySendMode.FULL_DUPLEX_STREAMED)) {
            s.requestHeaders(true, ":method", "GET", ":path", "/v1/chat/completions");
            ProcessingResponse h = s.next();
            assertThat(h.hasRequestHeaders()).isTrue();
            assertThat(setHeader(h.getRequestHeaders().getResponse(), "accept-encoding"))
                    .isEqualTo("identity");
            s.responseHeaders(false, ":status", "200", "content-type", "application/grpc");
            assertThat(s.next().hasResponseHeaders()).isTrue();
            s.responseTrailers();
            assertThat(s.next().hasResponseTrailers()).isTrue();
            s.halfClose();
            assertThat(s.nextEvent(Duration.ofSeconds(10))).isEqualTo("completed");
        }
    }

    @Test
    void bufferedPartial_cutAtEnvoysLimit_isBlockedOrScannedToItsEndAsTheOversizePolicySays() throws Exception {
        try (EnvoyStream s = new EnvoyStream(fx.channel, BodySendMode.BUFFERED_PARTIAL, BodySendMode.NONE)) {
            s.requestHeaders(false, ":method", "POST", ":path", "/capped", "content-type", "text/plain");
            s.next();
            s.requestBody(utf8("card 4111 1111 1111 1111 and"), false); // no end_of_stream: the rest bypasses us
            assertThat(s.next().getImmediateResponse().getBody().toStringUtf8()).contains("\"reason\":\"oversize\"");
        }
        try (EnvoyStream s = new EnvoyStream(fx.channel, BodySendMode.BUFFERED_PARTIAL, BodySendMode.NONE)) {
            s.requestHeaders(
                    false,
                    ":method",
                    "POST",
                    ":path",
                    "/capped-pass",
                    "content-type",
                    "text/plain",
                    "content-length",
                    "999999",
                    "x-request-id",
                    "partial-pass");
            s.next();
            s.requestBody(utf8("card 4111 1111 1111 1111 then 5105 1051"), false);
            CommonResponse r = s.next().getRequestBody().getResponse();
            // Nothing held back (it would be lost): the possible start of a card number at the end goes out too.
            assertThat(r.getBodyMutation().getBody().toStringUtf8())
                    .isEqualTo("card **** **** **** 1111 then 5105 1051");
            assertThat(setHeader(r, "content-length"))
                    .as("the rest still follows: no length for part of it")
                    .isNull();
        }
        await().untilAsserted(() -> assertThat(fx.calls)
                .anyMatch(c -> c.requestId().equals("partial-pass")
                        && c.notes().getOrDefault("request", "").equals("oversize")));
    }

    @Test
    void interleavedDirections_keepSeparateState() throws Exception {
        try (EnvoyStream s = new EnvoyStream(fx.channel, BodySendMode.STREAMED, BodySendMode.STREAMED)) {
            s.requestHeaders(false, ":path", "/x", "content-type", "text/plain");
            s.next();
            s.requestBody(utf8("req 4111 1111"), false);
            String reqOut = s.next()
                    .getRequestBody()
                    .getResponse()
                    .getBodyMutation()
                    .getBody()
                    .toStringUtf8();
            s.responseHeaders(false, ":status", "200", "content-type", "text/plain");
            s.next();
            s.responseBody(utf8("resp 5555 5555"), false);
            String respOut = s.next()
                    .getResponseBody()
                    .getResponse()
                    .getBodyMutation()
                    .getBody()
                    .toStringUtf8();
            s.requestBody(utf8(" 1111 1111"), true);
            reqOut += s.next()
                    .getRequestBody()
                    .getResponse()
                    .getBodyMutation()
                    .getBody()
                    .toStringUtf8();
            s.responseBody(utf8(" 5555 4444"), true);
            respOut += s.next()
                    .getResponseBody()
                    .getResponse()
                    .getBodyMutation()
                    .getBody()
                    .toStringUtf8();
            assertThat(reqOut).isEqualTo("req **** **** **** 1111");
            assertThat(respOut).isEqualTo("resp **** **** **** 4444");
        }
    }

    @Test
    void differentModesPerDirection_asAfterARouteOverride_areEachHonoured() throws Exception {
        try (EnvoyStream s = new EnvoyStream(fx.channel, BodySendMode.BUFFERED, BodySendMode.FULL_DUPLEX_STREAMED)) {
            s.requestHeaders(false, ":path", "/x", "content-type", "text/plain");
            s.next();
            s.requestBody(utf8("a 4111111111111111"), true);
            assertThat(s.next()
                            .getRequestBody()
                            .getResponse()
                            .getBodyMutation()
                            .getBody()
                            .toStringUtf8())
                    .isEqualTo("a ************1111");
            s.responseHeaders(false, ":status", "200", "content-type", "text/plain");
            s.next();
            s.responseBody(utf8("b 4111111111111111"), true);
            assertThat(streamedBody(s.untilResponseEnd())).isEqualTo("b ************1111");
        }
    }

    @Test
    void gzipResponse_isDecodedScannedAndSentAsIdentity() throws Exception {
        ByteArrayOutputStream z = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(z)) {
            gz.write(utf8("{\"rrn\":\"960121-1021413\",\"ok\":true}"));
        }
        byte[] compressed = z.toByteArray();
        try (EnvoyStream s = new EnvoyStream(fx.channel, BodySendMode.NONE, BodySendMode.FULL_DUPLEX_STREAMED)) {
            s.requestHeaders(true, ":path", "/x");
            s.next();
            s.responseHeaders(
                    false,
                    ":status",
                    "200",
                    "content-type",
                    "application/json",
                    "content-encoding",
                    "gzip",
                    "content-length",
                    Integer.toString(compressed.length));
            assertThat(removed(s.next().getResponseHeaders().getResponse()))
                    .contains("content-encoding", "content-length");
            s.responseBody(java.util.Arrays.copyOfRange(compressed, 0, 7), false);
            s.responseBody(java.util.Arrays.copyOfRange(compressed, 7, compressed.length), true);
            assertThat(streamedBody(s.untilResponseEnd())).isEqualTo("{\"rrn\":\"******-***1413\",\"ok\":true}");
        }
    }

    @Test
    void undecodableEncoding_isBlockedWhenPolicySaysSo() throws Exception {
        try (EnvoyStream s = new EnvoyStream(fx.channel, BodySendMode.NONE, BodySendMode.FULL_DUPLEX_STREAMED)) {
            s.requestHeaders(true, ":path", "/x");
            s.next();
            s.responseHeaders(
                    false, ":status", "200", "content-type", "application/json", "content-encoding", "compress");
            ProcessingResponse r = s.next();
            assertThat(r.hasImmediateResponse()).isTrue();
            assertThat(r.getImmediateResponse().getBody().toStringUtf8()).contains("unknown_encoding");
        }
    }

    @Test
    void corruptGzip_failsClosed() throws Exception {
        try (EnvoyStream s = new EnvoyStream(fx.channel, BodySendMode.FULL_DUPLEX_STREAMED, BodySendMode.NONE)) {
            s.requestHeaders(
                    false, ":method", "POST", ":path", "/x", "content-type", "text/plain", "content-encoding", "gzip");
            s.next();
            s.requestBody(utf8("this is not gzip at all"), true);
            assertThat(s.next().getImmediateResponse().getBody().toStringUtf8()).contains("corrupt_encoding");
        }
        // A response whose headers already went out gets the local reply too: Envoy resets the stream, so the
        // client sees a failed response rather than an empty body that looks complete.
        try (EnvoyStream s = new EnvoyStream(fx.channel, BodySendMode.NONE, BodySendMode.FULL_DUPLEX_STREAMED)) {
            s.requestHeaders(true, ":path", "/x");
            s.next();
            s.responseHeaders(false, ":status", "200", "content-type", "text/plain", "content-encoding", "gzip");
            s.next();
            s.responseBody(utf8("this is not gzip at all"), true);
            assertThat(s.next().getImmediateResponse().getBody().toStringUtf8()).contains("corrupt_encoding");
        }
    }

    @Test
    void nonTextBody_isBlockedOrPassedAsThePolicySays() throws Exception {
        try (EnvoyStream s = new EnvoyStream(fx.channel, BodySendMode.FULL_DUPLEX_STREAMED, BodySendMode.NONE)) {
            s.requestHeaders(false, ":path", "/upload", "content-type", "image/png");
            assertThat(s.next().getImmediateResponse().getBody().toStringUtf8()).contains("non_text");
        }
        byte[] png = {(byte) 0x89, 'P', 'N', 'G', '4', '1', '1', '1'};
        try (EnvoyStream s = new EnvoyStream(fx.channel, BodySendMode.FULL_DUPLEX_STREAMED, BodySendMode.NONE)) {
            s.requestHeaders(false, ":path", "/other", "content-type", "image/png");
            s.next();
            s.requestBody(png, true);
            ProcessingResponse r = s.next();
            assertThat(r.getRequestBody()
                            .getResponse()
                            .getBodyMutation()
                            .getStreamedResponse()
                            .getBody()
                            .toByteArray())
                    .isEqualTo(png);
        }
    }

    @Test
    void oneOversizedChunk_isBlockedNotHalfScanned() throws Exception {
        try (EnvoyStream s = new EnvoyStream(fx.channel, BodySendMode.FULL_DUPLEX_STREAMED, BodySendMode.NONE)) {
            s.requestHeaders(false, ":path", "/small", "content-type", "text/plain");
            s.next();
            s.requestBody(new byte[4096], false);
            ProcessingResponse r = s.next();
            assertThat(r.getImmediateResponse().getBody().toStringUtf8()).contains("oversize");
        }
    }

    @Test
    void chunkLargerThanTheGrpcLimit_failsTheStream() throws Exception {
        try (EnvoyStream s = new EnvoyStream(fx.channel, BodySendMode.FULL_DUPLEX_STREAMED, BodySendMode.NONE)) {
            s.requestHeaders(false, ":path", "/x", "content-type", "text/plain");
            s.next();
            s.requestBody(new byte[9 * 1024 * 1024], false);
            Object e = s.nextEvent(Duration.ofSeconds(30));
            // The server refuses the message (RESOURCE_EXHAUSTED); the client side may see the reset as CANCELLED.
            // Either way the stream fails, and Envoy fails closed (failure_mode_allow off).
            assertThat(e).isInstanceOf(Throwable.class);
            assertThat(Status.fromThrowable((Throwable) e).getCode())
                    .isIn(Status.Code.RESOURCE_EXHAUSTED, Status.Code.CANCELLED);
        }
    }

    @Test
    void clientCancelMidStream_leavesNoStateBehind() throws Exception {
        await().until(() -> fx.server.service().openStreams() == 0);
        int before = 0;
        EnvoyStream s = new EnvoyStream(fx.channel, BodySendMode.FULL_DUPLEX_STREAMED, BodySendMode.NONE);
        s.requestHeaders(false, ":path", "/x", "content-type", "text/plain", "x-request-id", "cancel-me");
        s.next();
        s.requestBody(utf8("partial 4111 1111"), false);
        s.next();
        assertThat(fx.server.service().openStreams()).isEqualTo(before + 1);
        s.cancel();
        await().untilAsserted(() -> {
            assertThat(fx.server.service().openStreams()).isEqualTo(before);
            assertThat(fx.calls)
                    .anyMatch(c ->
                            c.requestId().equals("cancel-me") && c.outcome().equals("cancelled"));
        });
    }

    @Test
    void fiftyMegabyteBody_streamsThroughWithEveryFindingMasked() throws Exception {
        // 512 lines per 64-ish KB chunk; one line in 32 carries a card number.
        byte[] line = utf8("고객 문의 내용입니다. The quick brown fox jumps over the lazy dog; card 4111 1111 1111 1111 ok.\n");
        byte[] plain = utf8("고객 문의 내용입니다. The quick brown fox jumps over the lazy dog; card xxxx xxxx xxxx xxxx ok.\n");
        assertThat(plain.length).isEqualTo(line.length);
        int lines = 50 * 1024 * 1024 / line.length;
        byte[] chunk = new byte[line.length * 512];
        for (int i = 0; i < 512; i++) {
            System.arraycopy(i % 32 == 0 ? line : plain, 0, chunk, i * line.length, line.length);
        }
        long outBytes = 0;
        long cards = 0;
        try (EnvoyStream s = new EnvoyStream(fx.channel, BodySendMode.FULL_DUPLEX_STREAMED, BodySendMode.NONE)) {
            s.requestHeaders(false, ":path", "/x", "content-type", "text/plain");
            s.next();
            int sent = 0;
            while (sent < lines) {
                int n = Math.min(512, lines - sent);
                sent += n;
                s.requestBody(n == 512 ? chunk : java.util.Arrays.copyOf(chunk, n * line.length), sent == lines);
                // Read what is available without waiting, so memory stays flat on both sides.
                for (Object o : s.drainNow()) {
                    byte[] b = ((ProcessingResponse) o)
                            .getRequestBody()
                            .getResponse()
                            .getBodyMutation()
                            .getStreamedResponse()
                            .getBody()
                            .toByteArray();
                    outBytes += b.length;
                    cards += count(b);
                }
            }
            while (true) {
                ProcessingResponse r = s.next();
                var piece = r.getRequestBody().getResponse().getBodyMutation().getStreamedResponse();
                outBytes += piece.getBody().size();
                cards += count(piece.getBody().toByteArray());
                if (piece.getEndOfStream()) {
                    break;
                }
            }
        }
        assertThat(outBytes).isEqualTo((long) lines * line.length);
        assertThat(cards).isEqualTo((lines + 31) / 32);
    }

    private static long count(byte[] b) {
        String s = new String(b, StandardCharsets.ISO_8859_1);
        assertThat(s).doesNotContain("4111 ");
        long n = 0;
        for (int i = s.indexOf("**** **** **** 1111"); i >= 0; i = s.indexOf("**** **** **** 1111", i + 1)) {
            n++;
        }
        return n;
    }

    @Test
    void policyReload_swapsValidEdits_andKeepsTheRunningPolicyOnInvalidOnes() throws Exception {
        java.nio.file.Path file = fx.dir.resolve("dlp.yaml");
        try {
            java.nio.file.Files.writeString(file, ServerFixture.POLICY.replace("card: block", "card: explode"));
            assertThat(fx.server.policy().reload()).isFalse();
            assertThat(fx.server.policy().get().profiles())
                    .extracting(p -> p.name())
                    .contains("small")
                    .doesNotContain("tiny");
            java.nio.file.Files.writeString(file, ServerFixture.POLICY.replace("name: small", "name: tiny"));
            assertThat(fx.server.policy().reload()).isTrue();
            assertThat(fx.server.policy().get().profiles())
                    .extracting(p -> p.name())
                    .contains("tiny");
        } finally {
            java.nio.file.Files.writeString(file, ServerFixture.POLICY);
            fx.server.policy().reload();
        }
    }

    @Test
    void streamed_tailStillHeldWhenTrailersEndTheBody_isRefusedNotTruncated() throws Exception {
        try (EnvoyStream s = new EnvoyStream(fx.channel, BodySendMode.STREAMED, BodySendMode.NONE)) {
            s.requestHeaders(false, ":path", "/x", "content-type", "text/plain");
            s.next();
            s.requestBody(utf8("card 4111 11"), false);
            assertThat(s.next()
                            .getRequestBody()
                            .getResponse()
                            .getBodyMutation()
                            .getBody()
                            .toStringUtf8())
                    .isEqualTo("card ");
            s.requestTrailers();
            ProcessingResponse r = s.next();
            assertThat(r.hasImmediateResponse()).isTrue();
            assertThat(r.getImmediateResponse().getBody().toStringUtf8()).contains("incomplete_scan");
        }
    }
}
