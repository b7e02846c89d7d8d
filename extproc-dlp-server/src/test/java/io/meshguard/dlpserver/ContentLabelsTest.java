package io.meshguard.dlpserver;

import static io.meshguard.dlpserver.ServerFixture.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode;
import io.envoyproxy.envoy.service.ext_proc.v3.HeaderMutation;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.meshguard.testing.IntegrationTest;
import java.io.ByteArrayOutputStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The sender's content label must not switch scanning off. Each class: multipart (parts by their own
 * type, files, nesting, delimiters and spellings), binary and unknown labels (scanned while the bytes are text),
 * declared charsets (decoded or refused), gRPC frames (unpacked and scanned), duplicated labels and codings. The
 * fixture's default profile masks cards and blocks private keys in requests ({@code non_text: pass}); every case here
 * passed unscanned before.
 */
@IntegrationTest
class ContentLabelsTest {
    private static final String CARD = "4111 1111 1111 1111";
    private static final String MASKED = "**** **** **** 1111";
    private static final String KEY =
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7bq0nK2xJ5Q3u4c0v9z8bq0nK2xJ5Q3u4c0v9z8"
                    + "bq0nK2xJ5Q3u4c0v9z8bq0nK2xJ5Q3u4c0v9z8bq0nK2xJ5Q3u4c0v9z8\n-----END RSA PRIVATE KEY-----\n";
    private static ServerFixture fx;

    @BeforeAll
    static void start() throws Exception {
        // what a label does, not how fast: the shipped 2 s headers deadline failed a cold first charset lookup closed
        // on a starved CI machine (PhaseDeadlineTest covers the deadlines)
        java.time.Duration generous = java.time.Duration.ofSeconds(60);
        fx = new ServerFixture(
                new PhaseDeadlines(generous, generous, generous, java.time.Duration.ZERO),
                io.meshguard.dlp.content.Transformers::forKind);
    }

    @AfterAll
    static void stop() throws Exception {
        fx.close();
    }

    /** What Envoy gets back for a BUFFERED request body: the header answer and the body answer (or a refusal). */
    private record Answer(ProcessingResponse headers, ProcessingResponse body) {
        boolean refused() {
            return headers.hasImmediateResponse() || (body != null && body.hasImmediateResponse());
        }

        String reason() {
            ProcessingResponse r = headers.hasImmediateResponse() ? headers : body;
            return r.getImmediateResponse().getDetails();
        }

        byte[] bytes() {
            return body.getRequestBody()
                    .getResponse()
                    .getBodyMutation()
                    .getBody()
                    .toByteArray();
        }

        String text() {
            return new String(bytes(), StandardCharsets.UTF_8);
        }

        HeaderMutation headerMutation() {
            return headers.getRequestHeaders().getResponse().getHeaderMutation();
        }
    }

    private static Answer send(String path, byte[] body, String... headers) throws Exception {
        List<String> kv = new ArrayList<>(List.of(":method", "POST", ":path", path, ":authority", "api"));
        kv.addAll(List.of(headers));
        try (EnvoyStream s = new EnvoyStream(fx.channel, BodySendMode.BUFFERED, BodySendMode.NONE)) {
            s.requestHeaders(false, kv.toArray(String[]::new));
            ProcessingResponse h = s.next();
            if (h.hasImmediateResponse()) {
                return new Answer(h, null);
            }
            s.requestBody(body, true);
            return new Answer(h, s.next());
        }
    }

    private static Answer send(byte[] body, String... headers) throws Exception {
        return send("/v1/embeddings", body, headers);
    }

    private static String form(String boundary, String... parts) {
        StringBuilder sb = new StringBuilder();
        for (String p : parts) {
            sb.append("--").append(boundary).append("\r\n").append(p).append("\r\n");
        }
        return sb.append("--").append(boundary).append("--\r\n").toString();
    }

    // ---- multipart ------------------------------------------------------------------------------------------------

    @Test
    void multipart_cardInAFormField_isMasked_structureKept() throws Exception {
        String body = form(
                "XyZ",
                "Content-Disposition: form-data; name=\"note\"\r\n\r\npay with " + CARD,
                "Content-Disposition: form-data; name=\"n\"\r\n\r\n42");
        Answer a = send(utf8(body), "content-type", "multipart/form-data; boundary=XyZ");
        assertThat(a.refused()).isFalse();
        assertThat(a.text()).isEqualTo(body.replace(CARD, MASKED));
    }

    @Test
    void multipart_privateKeyUploadedAsAFile_isRefused() throws Exception {
        String body = form(
                "b0undary",
                "Content-Disposition: form-data; name=\"f\"; filename=\"id_rsa\"\r\n"
                        + "Content-Type: application/octet-stream\r\n\r\n" + KEY);
        Answer a = send(utf8(body), "content-type", "multipart/form-data; boundary=b0undary");
        assertThat(a.refused()).isTrue();
        assertThat(a.reason()).isEqualTo("meshguard_dlp_finding");
    }

    @Test
    void multipart_binaryFilePartPassesIntact_textPartAfterItIsStillScanned() throws Exception {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        byte[] png = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R', '4', '1'};
        b.writeBytes(utf8("--B\r\nContent-Disposition: form-data; name=\"img\"; filename=\"a.png\"\r\n"
                + "Content-Type: image/png\r\n\r\n"));
        b.writeBytes(png);
        b.writeBytes(utf8("\r\n--B\r\nContent-Disposition: form-data; name=\"t\"\r\n\r\n" + CARD + "\r\n--B--\r\n"));
        Answer a = send(b.toByteArray(), "content-type", "multipart/form-data; boundary=B");
        byte[] expected = new String(b.toByteArray(), StandardCharsets.ISO_8859_1)
                .replace(CARD, MASKED)
                .getBytes(StandardCharsets.ISO_8859_1);
        assertThat(a.bytes()).isEqualTo(expected);
    }

    @Test
    void multipart_binaryPart_onAProfileThatBlocksNonText_isRefused() throws Exception {
        byte[] body = utf8("--B\r\nContent-Type: application/octet-stream\r\n\r\n\u0000\u0001bin\r\n--B--\r\n");
        Answer a = send("/upload", body, "content-type", "multipart/form-data; boundary=B");
        assertThat(a.refused()).isTrue();
        assertThat(a.reason()).isEqualTo("meshguard_dlp_non_text");
    }

    @Test
    void multipart_cardInAFileName_isMasked() throws Exception {
        String body = form("B", "Content-Disposition: form-data; name=\"f\"; filename=\"" + CARD + ".txt\"\r\n\r\nx");
        Answer a = send(utf8(body), "content-type", "multipart/form-data; boundary=B");
        assertThat(a.text()).isEqualTo(body.replace(CARD, MASKED));
    }

    @Test
    void multipart_bareLfDelimiters_asLenientParsersAccept_partsStillFound() throws Exception {
        // the first part claims to be binary; a lenient upstream sees a second, text part after a bare-LF delimiter
        String body = "--B\nContent-Type: application/octet-stream\n\n\u0000bin\n--B\nContent-Disposition: form-data;"
                + " name=\"t\"\n\n" + CARD + "\n--B--\n";
        Answer a = send(utf8(body), "content-type", "multipart/form-data; boundary=B");
        assertThat(a.text()).isEqualTo(body.replace(CARD, MASKED));
    }

    @Test
    void multipart_nested_isParsedInTurn_andBoundedInDepth() throws Exception {
        String inner = form("in", "Content-Type: text/plain\r\n\r\n" + CARD);
        String outer = form("out", "Content-Type: multipart/mixed; boundary=in\r\n\r\n" + inner);
        Answer a = send(utf8(outer), "content-type", "multipart/form-data; boundary=out");
        assertThat(a.text()).isEqualTo(outer.replace(CARD, MASKED));

        String deep = "x";
        for (int i = 0; i < 6; i++) {
            deep = form("b" + i, "Content-Type: multipart/mixed; boundary=b" + (i - 1) + "\r\n\r\n" + deep);
        }
        Answer d = send(utf8(deep), "content-type", "multipart/form-data; boundary=b5");
        assertThat(d.refused()).isTrue();
        assertThat(d.reason()).isEqualTo("meshguard_dlp_multipart_depth");
    }

    @Test
    void multipart_jsonPart_isScannedAsJson_escapesDecoded() throws Exception {
        String escaped = "\\u0034111 1111 1111 1111";
        String body = form("B", "Content-Type: application/json\r\n\r\n{\"card\":\"" + escaped + "\"}");
        Answer a = send(utf8(body), "content-type", "multipart/form-data; boundary=B");
        assertThat(a.text()).doesNotContain(escaped).contains("1111\"}");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "multipart/form-data; boundary=B",
                "Multipart/Form-Data; Boundary=B",
                "multipart/form-data;boundary=\"B\"",
                " multipart/form-data ; boundary = B ",
                "multipart/mixed; boundary=B",
                "MULTIPART/FORM-DATA; charset=utf-8; boundary=B"
            })
    void multipart_everyLabelSpelling_isParsed(String label) throws Exception {
        String body = form("B", "Content-Disposition: form-data; name=\"a\"\r\n\r\n" + CARD);
        Answer a = send(utf8(body), "content-type", label);
        assertThat(a.text()).as(label).isEqualTo(body.replace(CARD, MASKED));
    }

    @Test
    void multipart_delimiterSplitAcrossMessages_hidesNothing_STREAMED() throws Exception {
        byte[] body = utf8(form(
                "boundary42",
                "Content-Type: application/octet-stream\r\n\r\n\u0000\u0001",
                "Content-Type: text/plain\r\n\r\n" + CARD));
        for (int split = 1; split < body.length; split++) {
            try (EnvoyStream s = new EnvoyStream(fx.channel, BodySendMode.STREAMED, BodySendMode.NONE)) {
                s.requestLine(
                        false,
                        "POST",
                        "/v1/embeddings",
                        "api",
                        "content-type",
                        "multipart/form-data; boundary=boundary42");
                s.next();
                ByteArrayOutputStream got = new ByteArrayOutputStream();
                s.requestBody(java.util.Arrays.copyOfRange(body, 0, split), false);
                got.writeBytes(nextRequestBody(s));
                s.requestBody(java.util.Arrays.copyOfRange(body, split, body.length), true);
                got.writeBytes(nextRequestBody(s));
                assertThat(got.toString(StandardCharsets.ISO_8859_1))
                        .as("split at %d", split)
                        .doesNotContain(CARD)
                        .contains(MASKED);
            }
        }
    }

    // ---- binary and unknown labels ----------------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(
            strings = {
                "application/octet-stream",
                "APPLICATION/OCTET-STREAM",
                "image/png",
                "application/x-unknown-thing",
                "application/pdf; q=1",
                "font/woff2",
                "application/x-protobuf"
            })
    void textBody_underABinaryOrUnknownLabel_isScannedAsText(String label) throws Exception {
        Answer a = send(utf8("pay with " + CARD), "content-type", label);
        assertThat(a.refused()).isFalse();
        assertThat(a.text()).as(label).isEqualTo("pay with " + MASKED);
    }

    @Test
    void jsonBody_underAnOctetStreamLabel_isScannedAsJson_escapesDecoded() throws Exception {
        // FastAPI's request.json() parses whatever the label says
        String escaped = "\\u0034\\u0031\\u0031\\u0031 1111 1111 1111";
        Answer a = send(utf8("{\"note\": \"" + escaped + "\"}"), "content-type", "application/octet-stream");
        assertThat(a.text()).doesNotContain(escaped).contains("1111\"}");
    }

    @Test
    void privateKey_underAnOctetStreamLabel_isRefused() throws Exception {
        Answer a = send(utf8(KEY), "content-type", "application/octet-stream");
        assertThat(a.refused()).isTrue();
    }

    @Test
    void binaryBody_underNonTextPass_goesOnUnchanged() throws Exception {
        byte[] bin = {0, 1, 2, 3, (byte) 0xff, 'x', '4', '1'};
        Answer a = send(bin, "content-type", "application/octet-stream");
        assertThat(a.refused()).isFalse();
        assertThat(a.bytes()).isEqualTo(bin);
    }

    @Test
    void binaryLabel_onAProfileThatBlocksNonText_isStillRefusedAtTheHeaders() throws Exception {
        Answer a = send("/upload", utf8("text"), "content-type", "application/octet-stream");
        assertThat(a.headers().hasImmediateResponse()).isTrue();
    }

    @Test
    void duplicatedContentType_thatDisagrees_isBelievedNeitherWay_scannedAsText() throws Exception {
        // before: the first label won, and a binary-looking prefix let the card through unscanned
        Answer a = send(
                utf8("\u0000 pay with " + CARD),
                "content-type",
                "application/octet-stream",
                "content-type",
                "text/plain");
        assertThat(a.text()).isEqualTo("\u0000 pay with " + MASKED);
    }

    // ---- charsets -------------------------------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(
            strings = {
                "UTF-16",
                "utf-16le",
                "UTF-16BE",
                "utf-32",
                "UTF-32LE",
                "iso-8859-1",
                "latin1",
                "windows-1252",
                "\"utf-16le\""
            })
    void json_inADeclaredCharset_isDecoded_scanned_andGoesOnAsUtf8(String charset) throws Exception {
        Charset cs = Charset.forName(charset.replace("\"", ""));
        String json = "{\"note\": \"pay with " + CARD + "\"}";
        Answer a = send(json.getBytes(cs), "content-type", "application/json; charset=" + charset);
        assertThat(a.refused()).isFalse();
        assertThat(a.text()).as(charset).isEqualTo(json.replace(CARD, MASKED));
        assertThat(a.headerMutation().getSetHeadersList()).anySatisfy(h -> {
            assertThat(h.getHeader().getKey()).isEqualTo("content-type");
            assertThat(h.getHeader().getRawValue().toStringUtf8()).isEqualTo("application/json; charset=utf-8");
        });
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "UTF-16LE",
                "UTF-16BE",
                "UTF-32LE",
                "UTF-32BE",
                "bom:UTF-16LE",
                "bom:UTF-16BE",
                "bom:UTF-32LE",
                "bom:UTF-32BE"
            })
    void json_inUtf16Or32WithoutADeclaredCharset_isDetected_scanned_andGoesOnInItsOwnEncoding(String spec)
            throws Exception {
        // Jackson detects these from the first four bytes (RFC 4627 §3) whatever the label says
        boolean bom = spec.startsWith("bom:");
        Charset cs = Charset.forName(bom ? spec.substring(4) : spec);
        String json = (bom ? "\uFEFF" : "") + "{\"note\": \"pay with " + CARD + "\"}";
        Answer a = send(json.getBytes(cs), "content-type", "application/json");
        assertThat(a.refused()).isFalse();
        assertThat(a.bytes()).as(spec).isEqualTo(json.replace(CARD, MASKED).getBytes(cs));
    }

    @Test
    void unknownCharset_isRefused_whereTheProfileBlocksUnknownEncodings() throws Exception {
        Answer a = send(utf8("{}"), "content-type", "application/json; charset=x-no-such-charset");
        assertThat(a.refused()).isTrue();
        assertThat(a.reason()).isEqualTo("meshguard_dlp_unknown_charset");
    }

    @Test
    void malformedInput_inTheDeclaredCharset_isRefused() throws Exception {
        byte[] odd = "{\"a\":1}".getBytes(StandardCharsets.UTF_16LE);
        Answer a = send(
                java.util.Arrays.copyOf(odd, odd.length - 1), "content-type", "application/json; charset=utf-16le");
        assertThat(a.refused()).isTrue();
        assertThat(a.reason()).isEqualTo("meshguard_dlp_corrupt_charset");
    }

    // ---- gRPC -----------------------------------------------------------------------------------------------------

    private static byte[] frame(int flag, byte[] message) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(flag);
        b.writeBytes(java.nio.ByteBuffer.allocate(4).putInt(message.length).array());
        b.writeBytes(message);
        return b.toByteArray();
    }

    @Test
    void grpc_frames_areUnpacked_cardMaskedInEachFrame() throws Exception {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(frame(0, utf8("\n\u0013" + CARD)));
        body.writeBytes(frame(0, utf8("\n\u0002ok")));
        body.writeBytes(frame(0, utf8("\n\u0013" + CARD)));
        Answer a = send("/other.Service/Call", body.toByteArray(), "content-type", "application/grpc+proto");
        assertThat(a.text()).isEqualTo(body.toString(StandardCharsets.UTF_8).replace(CARD, MASKED));
    }

    @Test
    void grpc_findingWhoseRewriteWouldChangeTheLength_isRefused_notSentCorrupt() throws Exception {
        // the default profile hashes e-mails: a hash is longer than the address, and protobuf length-prefixes it
        Answer a = send(
                "/other.Service/Call", frame(0, utf8("\n\u0011alice@bank.co.kr")), "content-type", "application/grpc");
        assertThat(a.refused()).isTrue();
        assertThat(a.reason()).isEqualTo("meshguard_dlp_grpc_rewrite");
    }

    private static byte[] gzip(byte[] b) throws Exception {
        ByteArrayOutputStream z = new ByteArrayOutputStream();
        try (GZIPOutputStream g = new GZIPOutputStream(z)) {
            g.write(b);
        }
        return z.toByteArray();
    }

    @Test
    void grpc_compressedFrame_isDecompressedAndScanned_cleanGoesOnAsItCame_cardIsRefused() throws Exception {
        byte[] clean = frame(1, gzip(utf8("\n\u0005hello")));
        Answer ok = send("/other.Service/Call", clean, "content-type", "application/grpc", "grpc-encoding", "gzip");
        assertThat(ok.refused()).isFalse();
        assertThat(ok.bytes()).isEqualTo(clean);
        // a card inside a compressed message cannot be masked without re-compressing it: refused, never passed
        byte[] card = frame(1, gzip(utf8("\n\u0013" + CARD)));
        Answer a = send("/other.Service/Call", card, "content-type", "application/grpc", "grpc-encoding", "gzip");
        assertThat(a.refused()).isTrue();
        assertThat(a.reason()).isEqualTo("meshguard_dlp_grpc_rewrite");
    }

    @Test
    void grpc_compressedFrameInAnUnknownFormat_isRefused_whereTheProfileBlocksUnknownEncodings() throws Exception {
        Answer a = send(
                "/other.Service/Call",
                frame(1, new byte[] {(byte) 0xff, 6, 0, 0, 's', 'N', 'a', 'P'}),
                "content-type",
                "application/grpc",
                "grpc-encoding",
                "snappy");
        assertThat(a.refused()).isTrue();
        assertThat(a.reason()).isEqualTo("meshguard_dlp_grpc_compressed");
    }

    // ---- content-encoding -----------------------------------------------------------------------------------------

    @Test
    void duplicatedContentEncoding_identityThenGzip_isDecoded() throws Exception {
        // before: the first line (identity) won, and the gzip bytes went on unscanned to an upstream that decodes
        ByteArrayOutputStream z = new ByteArrayOutputStream();
        try (GZIPOutputStream g = new GZIPOutputStream(z)) {
            g.write(utf8("pay with " + CARD));
        }
        Answer a = send(
                z.toByteArray(),
                "content-type",
                "text/plain",
                "content-encoding",
                "identity",
                "content-encoding",
                "gzip");
        assertThat(a.refused()).isFalse();
        assertThat(a.text()).isEqualTo("pay with " + MASKED);
    }

    @ParameterizedTest
    @ValueSource(strings = {"gzip, gzip", "br, gzip", "GZIP , deflate"})
    void stackedContentCodings_areRefused_whereTheProfileBlocksUnknownEncodings(String coding) throws Exception {
        Answer a = send(utf8("x"), "content-type", "text/plain", "content-encoding", coding);
        assertThat(a.refused()).as(coding).isTrue();
        assertThat(a.reason()).isEqualTo("meshguard_dlp_unknown_encoding");
    }

    /** The request body the next answer passes on (a buffered or streamed body mutation). */
    private static byte[] nextRequestBody(EnvoyStream s) throws Exception {
        return s.next()
                .getRequestBody()
                .getResponse()
                .getBodyMutation()
                .getBody()
                .toByteArray();
    }
}
