package io.meshguard.dlpserver;

import static io.meshguard.dlpserver.EnvoyStream.removed;
import static io.meshguard.dlpserver.EnvoyStream.setHeader;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.airlift.compress.zstd.ZstdOutputStream;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode;
import io.envoyproxy.envoy.service.ext_proc.v3.CommonResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.meshguard.dlp.content.ContentDecoder;
import io.meshguard.testing.IntegrationTest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * br and zstd bodies through the real server, driven as Envoy drives it: decoded in one pass, scanned, and sent on
 * as identity (content-encoding removed; content-length removed, or set to the new length for BUFFERED bodies);
 * corrupt or truncated data and decompression bombs are refused, never half-scanned.
 */
@IntegrationTest
class CompressedBodiesTest {
    @AutoClose
    private static final ServerFixture fx = ServerFixture.started();

    static byte[] resource(String name) throws IOException {
        try (InputStream in = CompressedBodiesTest.class.getResourceAsStream("/compressed/" + name)) {
            return in.readAllBytes();
        }
    }

    static byte[] zstd(byte[] plain) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ZstdOutputStream z = new ZstdOutputStream(out)) {
            z.write(plain);
        }
        return out.toByteArray();
    }

    private static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    /** The assistant's text: every delta.content of the stream, joined. */
    private static String deltaText(String sse) throws IOException {
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        StringBuilder text = new StringBuilder();
        for (String line : sse.split("\n")) {
            if (line.startsWith("data: {")) {
                text.append(json.readTree(line.substring(6))
                        .path("choices")
                        .path(0)
                        .path("delta")
                        .path("content")
                        .asText());
            }
        }
        return text.toString();
    }

    /** Plays one FULL_DUPLEX response with the given coding, fed in chunks of {@code chunk} bytes. */
    private static String duplexResponse(String contentType, String coding, byte[] body, int chunk) throws Exception {
        try (EnvoyStream s = new EnvoyStream(fx.channel, BodySendMode.NONE, BodySendMode.FULL_DUPLEX_STREAMED)) {
            s.requestHeaders(true, ":path", "/v1/chat/completions");
            s.next();
            s.responseHeaders(
                    false,
                    ":status",
                    "200",
                    "content-type",
                    contentType,
                    "content-encoding",
                    coding,
                    "content-length",
                    Integer.toString(body.length));
            assertThat(removed(s.next().getResponseHeaders().getResponse()))
                    .as("the body goes on decoded: neither its coding nor its length stay")
                    .contains("content-encoding", "content-length");
            for (int i = 0; i < body.length; i += chunk) {
                int end = Math.min(body.length, i + chunk);
                s.responseBody(Arrays.copyOfRange(body, i, end), end == body.length);
            }
            return utf8(EnvoyStream.responseBytes(s.untilResponseEnd()));
        }
    }

    @Test
    void brJsonResponse_withKoreanText_isDecodedMaskedAndSentAsIdentity_atEveryChunkSize() throws Exception {
        byte[] br = resource("account.json.br");
        String expected = utf8(resource("account.json"))
                .replace("960121-1021413", "******-*******")
                .replace("5105 1051 0510 5100", "**** **** **** 5100");
        for (int chunk : new int[] {1, 3, 16, 64, br.length}) {
            assertThat(duplexResponse("application/json", "br", br, chunk))
                    .as("chunk %d", chunk)
                    .isEqualTo(expected);
        }
    }

    @Test
    void brSseResponse_cardSplitOverTokenDeltas_isMaskedIdenticallyAtEveryChunkSize() throws Exception {
        byte[] br = resource("stream.sse.br");
        String plain = utf8(resource("stream.sse"));
        List<String> outs = new ArrayList<>();
        for (int chunk : new int[] {1, 5, 40, br.length}) {
            outs.add(duplexResponse("text/event-stream", "br", br, chunk));
        }
        assertThat(outs).allMatch(o -> o.equals(outs.get(0)));
        String out = outs.get(0);
        assertThat(deltaText(out)).isEqualTo("카드번호는 **** **** **** 1111 입니다. 감사합니다");
        assertThat(out).doesNotContain("4111").endsWith("data: [DONE]\n\n");
        // framing kept: as many events as came in
        assertThat(out.split("\n\n", -1)).hasSameSizeAs(plain.split("\n\n", -1));
    }

    @Test
    void zstdResponse_severalFramesAndASkippableOne_isDecodedMaskedAndSentAsIdentity() throws Exception {
        String a = "첫 번째 프레임: 카드 4111 1111 1111 1111 끝\n";
        String b = "두 번째 프레임: 주민등록번호 960121-1021413\n";
        ByteArrayOutputStream two = new ByteArrayOutputStream();
        two.writeBytes(zstd(a.getBytes(StandardCharsets.UTF_8)));
        // a skippable frame (magic 0x184D2A50, 4 bytes of user data) between the two: carries no content
        two.writeBytes(new byte[] {0x50, 0x2A, 0x4D, 0x18, 4, 0, 0, 0, 'm', 'e', 't', 'a'});
        two.writeBytes(zstd(b.getBytes(StandardCharsets.UTF_8)));
        byte[] body = two.toByteArray();
        String expected = (a + b)
                .replace("4111 1111 1111 1111", "**** **** **** 1111")
                .replace("960121-1021413", "******-*******");
        for (int chunk : new int[] {1, 7, body.length}) {
            assertThat(duplexResponse("text/plain", "zstd", body, chunk))
                    .as("chunk %d", chunk)
                    .isEqualTo(expected);
        }
    }

    @Test
    void zstdRequest_buffered_setsContentLengthToTheDecodedRewrittenBody() throws Exception {
        byte[] plain = "{\"memo\":\"카드 5105 1051 0510 5100 으로 결제\"}".getBytes(StandardCharsets.UTF_8);
        byte[] body = zstd(plain);
        try (EnvoyStream s = new EnvoyStream(fx.channel, BodySendMode.BUFFERED, BodySendMode.NONE)) {
            s.requestHeaders(
                    false,
                    ":method",
                    "POST",
                    ":path",
                    "/x",
                    "content-type",
                    "application/json",
                    "content-encoding",
                    "zstd",
                    "content-length",
                    Integer.toString(body.length));
            assertThat(removed(s.next().getRequestHeaders().getResponse())).contains("content-encoding");
            s.requestBody(body, true);
            CommonResponse r = s.next().getRequestBody().getResponse();
            byte[] out = r.getBodyMutation().getBody().toByteArray();
            assertThat(utf8(out)).isEqualTo("{\"memo\":\"카드 **** **** **** 5100 으로 결제\"}");
            assertThat(setHeader(r, "content-length")).isEqualTo(Integer.toString(out.length));
        }
    }

    @Test
    void streamedBrRequest_oneAnswerPerChunk_releasesDecodedTextAsTheDecoderProducesIt() throws Exception {
        byte[] br = resource("account.json.br");
        try (EnvoyStream s = new EnvoyStream(fx.channel, BodySendMode.STREAMED, BodySendMode.NONE)) {
            s.requestHeaders(
                    false,
                    ":method",
                    "POST",
                    ":path",
                    "/x",
                    "content-type",
                    "application/json",
                    "content-encoding",
                    "br");
            s.next();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            for (int i = 0; i < br.length; i += 10) {
                int end = Math.min(br.length, i + 10);
                s.requestBody(Arrays.copyOfRange(br, i, end), end == br.length);
                ProcessingResponse r = s.next();
                assertThat(r.hasRequestBody()).isTrue();
                out.writeBytes(r.getRequestBody()
                        .getResponse()
                        .getBodyMutation()
                        .getBody()
                        .toByteArray());
            }
            // The catch-all profile masks cards in requests (RRNs only in responses).
            assertThat(utf8(out.toByteArray()))
                    .isEqualTo(utf8(resource("account.json")).replace("5105 1051 0510 5100", "**** **** **** 5100"));
        }
    }

    private static ProcessingResponse requestThrough(String path, String coding, byte[] body, BodySendMode mode)
            throws Exception {
        EnvoyStream s = new EnvoyStream(fx.channel, mode, BodySendMode.NONE);
        s.requestHeaders(
                false, ":method", "POST", ":path", path, "content-type", "text/plain", "content-encoding", coding);
        s.next();
        s.requestBody(body, true);
        ProcessingResponse r = s.next();
        s.close();
        return r;
    }

    /**
     * Published class "decompression ratio checked inside the decoder's loop, for every coding": Envoy's decompressors
     * were zip-bombable (GHSA-75hv-2jjj-89hh / CVE-2022-29225) and looped on extra brotli input
     * (GHSA-7wp5-c2vq-4f8m / CVE-2024-32976); Netty capped gzip and deflate but not br and zstd
     * (GHSA-f6hv-jmp6-3vwv / CVE-2026-42587). A few kilobytes that inflate to 16 MiB stop at the profile's size limit
     * and are refused, in every coding and body mode, and no decoder thread outlives the refusal.
     */
    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({
        "gzip, BUFFERED",
        "gzip, FULL_DUPLEX_STREAMED",
        "deflate, BUFFERED",
        "deflate, FULL_DUPLEX_STREAMED",
        "br, BUFFERED",
        "br, FULL_DUPLEX_STREAMED",
        "zstd, BUFFERED",
        "zstd, FULL_DUPLEX_STREAMED"
    })
    void decompressionBomb_inEveryCoding_isStoppedAtTheSizeLimit_andBlocked(String coding, BodySendMode mode)
            throws Exception {
        byte[] zeros = new byte[16 * 1024 * 1024];
        byte[] bomb =
                switch (coding) {
                    case "gzip" -> gzip(zeros);
                    case "deflate" -> zlib(zeros);
                    case "br" -> resource("zeros16m.txt.br"); // 14 bytes → 16 MiB
                    case "zstd" -> zstd(zeros);
                    default -> throw new IllegalArgumentException(coding);
                };
        assertThat(bomb.length).isLessThan(64 * 1024);
        ProcessingResponse r = requestThrough("/capped", coding, bomb, mode);
        assertThat(r.getImmediateResponse().getBody().toStringUtf8()).contains("\"reason\":\"oversize\"");
        await().untilAsserted(
                        () -> assertThat(ContentDecoder.activeDecoderThreads()).isZero());
    }

    static byte[] gzip(byte[] plain) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (java.util.zip.GZIPOutputStream z = new java.util.zip.GZIPOutputStream(out)) {
            z.write(plain);
        }
        return out.toByteArray();
    }

    /** HTTP's {@code deflate}: the zlib format (RFC 9110 §8.4.1.2). */
    static byte[] zlib(byte[] plain) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        java.util.zip.Deflater deflater = new java.util.zip.Deflater(java.util.zip.Deflater.BEST_COMPRESSION);
        try (java.util.zip.DeflaterOutputStream z = new java.util.zip.DeflaterOutputStream(out, deflater)) {
            z.write(plain);
        } finally {
            deflater.end();
        }
        return out.toByteArray();
    }

    @Test
    void compressedBodyOverTheLimit_withOversizePass_scansTheLimitAndPassesTheRestNoted() throws Exception {
        String head = "card 4111 1111 1111 1111 ";
        byte[] plain = new byte[200_000];
        Arrays.fill(plain, (byte) 'x');
        System.arraycopy(head.getBytes(StandardCharsets.UTF_8), 0, plain, 0, head.length());
        try (EnvoyStream s = new EnvoyStream(fx.channel, BodySendMode.FULL_DUPLEX_STREAMED, BodySendMode.NONE)) {
            s.requestHeaders(
                    false,
                    ":method",
                    "POST",
                    ":path",
                    "/capped-pass",
                    "content-type",
                    "text/plain",
                    "content-encoding",
                    "zstd",
                    "x-request-id",
                    "zstd-pass");
            s.next();
            s.requestBody(zstd(plain), true);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            while (true) {
                ProcessingResponse r = s.next();
                var piece = r.getRequestBody().getResponse().getBodyMutation().getStreamedResponse();
                out.writeBytes(piece.getBody().toByteArray());
                if (piece.getEndOfStream()) {
                    break;
                }
            }
            byte[] got = out.toByteArray();
            assertThat(got).hasSize(plain.length);
            assertThat(utf8(Arrays.copyOf(got, head.length()))).isEqualTo("card **** **** **** 1111 ");
        }
        await().untilAsserted(() -> assertThat(fx.calls)
                .anyMatch(c -> c.requestId().equals("zstd-pass")
                        && c.notes().getOrDefault("request", "").equals("oversize")));
    }

    @Test
    void truncatedOrCorruptBrAndZstd_areRefused() throws Exception {
        byte[] br = resource("account.json.br");
        byte[] zs = zstd("card 4111 1111 1111 1111".getBytes(StandardCharsets.UTF_8));
        for (Object[] c : new Object[][] {
            {"br", Arrays.copyOf(br, br.length - 5)},
            {"zstd", Arrays.copyOf(zs, zs.length - 3)},
            {"br", "definitely not brotli at all".getBytes(StandardCharsets.UTF_8)},
            {"zstd", "definitely not zstd at all".getBytes(StandardCharsets.UTF_8)}
        }) {
            ProcessingResponse r = requestThrough("/x", (String) c[0], (byte[]) c[1], BodySendMode.BUFFERED);
            assertThat(r.getImmediateResponse().getBody().toStringUtf8())
                    .as("%s", c[0])
                    .contains("\"reason\":\"corrupt_encoding\"");
        }
        await().untilAsserted(
                        () -> assertThat(ContentDecoder.activeDecoderThreads()).isZero());
    }

    @Test
    void emptyBodyDeclaredBrOrZstd_staysEmpty_likeAnEmptyGzipBody() throws Exception {
        for (String coding : new String[] {"br", "zstd", "gzip"}) {
            try (EnvoyStream s = new EnvoyStream(fx.channel, BodySendMode.FULL_DUPLEX_STREAMED, BodySendMode.NONE)) {
                s.requestHeaders(
                        false,
                        ":method",
                        "POST",
                        ":path",
                        "/x",
                        "content-type",
                        "text/plain",
                        "content-encoding",
                        coding);
                s.next();
                s.requestBody(new byte[0], true);
                var piece = s.next()
                        .getRequestBody()
                        .getResponse()
                        .getBodyMutation()
                        .getStreamedResponse();
                assertThat(piece.getBody()).as(coding).isEmpty();
                assertThat(piece.getEndOfStream()).isTrue();
            }
        }
    }

    @Test
    void zstdFrameAskingForAHugeWindow_isRefusedBeforeAnythingIsAllocated() throws Exception {
        // Frame header: magic, descriptor 0x00 (no single segment), window descriptor exponent 21 → 2 GiB window,
        // then one raw block of 5 bytes marked last.
        byte[] frame = {
            (byte) 0x28,
            (byte) 0xB5,
            0x2F,
            (byte) 0xFD,
            0x00,
            (byte) (21 << 3),
            (byte) ((5 << 3) | 1),
            0x00,
            0x00,
            'h',
            'e',
            'l',
            'l',
            'o'
        };
        ProcessingResponse r = requestThrough("/x", "zstd", frame, BodySendMode.BUFFERED);
        assertThat(r.getImmediateResponse().getBody().toStringUtf8()).contains("\"reason\":\"corrupt_encoding\"");
        // The same frame with an 8 MiB window decodes.
        frame[5] = (byte) (13 << 3);
        ProcessingResponse ok = requestThrough("/x", "zstd", frame, BodySendMode.BUFFERED);
        assertThat(ok.getRequestBody().getResponse().getBodyMutation().getBody().toStringUtf8())
                .isEqualTo("hello");
    }

    @Test
    void clientCancelWhileABrBodyIsBeingDecoded_endsTheDecoderThread() throws Exception {
        byte[] br = resource("account.json.br");
        EnvoyStream s = new EnvoyStream(fx.channel, BodySendMode.FULL_DUPLEX_STREAMED, BodySendMode.NONE);
        s.requestHeaders(
                false,
                ":method",
                "POST",
                ":path",
                "/x",
                "content-type",
                "application/json",
                "content-encoding",
                "br",
                "x-request-id",
                "br-cancel");
        s.next();
        s.requestBody(Arrays.copyOf(br, 20), false);
        await().untilAsserted(
                        () -> assertThat(ContentDecoder.activeDecoderThreads()).isPositive());
        s.cancel();
        await().untilAsserted(() -> {
            assertThat(ContentDecoder.activeDecoderThreads()).isZero();
            assertThat(fx.calls)
                    .anyMatch(c ->
                            c.requestId().equals("br-cancel") && c.outcome().equals("cancelled"));
        });
    }
}
