package io.meshguard.dlpserver;

import static io.meshguard.dlpserver.ServerFixture.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.StreamedBodyResponse;
import io.meshguard.testing.IntegrationTest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Upgrades (WebSocket) and gRPC bodies, driven as Envoy drives them. After a 101 the frames come through ext_proc
 * (Istio enables upgrade_configs websocket on every connection manager): a profile refuses the upgrade (the default)
 * or passes its frames byte for byte, counted; gRPC bodies are refused or passed by the profile's {@code grpc}
 * disposition; and a passed body is answered with exactly the bytes that came.
 */
@IntegrationTest
class UpgradeAndGrpcTest {
    private static final BodySendMode DUPLEX = BodySendMode.FULL_DUPLEX_STREAMED;
    private static final String CARD = "4111 1111 1111 1111";

    @AutoClose
    private static final ServerFixture fx = ServerFixture.started();

    private static double counter(String name, String... tags) {
        var c = fx.meters.find(name).tags(tags).counter();
        return c == null ? 0 : c.count();
    }

    private static DlpAuditSink.ApiCallEvent auditRow(String requestId) {
        return fx.apiCallRow(requestId);
    }

    /** A client frame as RFC 6455 section 5.3 masks it: what a scanner sees is the text XORed with the key. */
    private static byte[] maskedFrame(String text) {
        byte[] payload = utf8(text);
        byte[] key = {0x37, (byte) 0xfa, 0x21, 0x3d};
        byte[] frame = new byte[6 + payload.length];
        frame[0] = (byte) 0x81;
        frame[1] = (byte) (0x80 | payload.length);
        System.arraycopy(key, 0, frame, 2, 4);
        for (int i = 0; i < payload.length; i++) {
            frame[6 + i] = (byte) (payload[i] ^ key[i % 4]);
        }
        return frame;
    }

    static Stream<Arguments> upgradeSpellings() {
        return Stream.of(
                Arguments.of("lower case", List.of("upgrade", "websocket", "connection", "upgrade")),
                Arguments.of(
                        "mixed case and a connection list",
                        List.of("Upgrade", "WebSocket", "Connection", "keep-alive, Upgrade")),
                Arguments.of(
                        "protocol list with a version",
                        List.of("upgrade", "h2c, websocket/13", "connection", "Upgrade")),
                Arguments.of("second upgrade header", List.of("upgrade", "h2c", "upgrade", " WEBSOCKET ")),
                Arguments.of("upgrade header alone", List.of("upgrade", "websocket")),
                Arguments.of("HTTP/2 extended CONNECT", List.of(":protocol", "websocket")),
                Arguments.of(
                        "another protocol with connection: upgrade",
                        List.of("upgrade", "mqtt", "connection", "upgrade")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("upgradeSpellings")
    void upgrade_onAProfileWithoutWebsocketPass_isRefusedAtItsHeaders_inEverySpelling(
            String name, List<String> upgradeHeaders) throws Exception {
        double before = counter("meshguard_dlp_websocket_upgrades_total", "profile", "default", "decision", "block");
        List<String> kv = new ArrayList<>(List.of(
                ":method",
                "GET",
                ":path",
                "/notifications",
                ":authority",
                "api",
                "x-request-id",
                "ws-block-" + name.replace(' ', '-')));
        kv.addAll(upgradeHeaders);
        try (EnvoyStream s = new EnvoyStream(fx.channel, DUPLEX, DUPLEX)) {
            s.requestHeaders(false, kv.toArray(String[]::new));
            ProcessingResponse r = s.next();
            assertThat(r.hasImmediateResponse()).as("refused: %s", r).isTrue();
            assertThat(r.getImmediateResponse().getStatus().getCodeValue()).isEqualTo(451);
            assertThat(r.getImmediateResponse().getBody().toStringUtf8()).contains("\"reason\":\"websocket\"");
        }
        assertThat(counter("meshguard_dlp_websocket_upgrades_total", "profile", "default", "decision", "block"))
                .isEqualTo(before + 1);
        assertThat(auditRow("ws-block-" + name.replace(' ', '-')).notes()).containsEntry("websocket", "blocked");
    }

    @Test
    void ordinaryRequests_thatOnlyLookLikeUpgrades_areNotRefused() throws Exception {
        for (List<String> h : List.of(
                List.of("connection", "upgrade"),
                List.of("x-upgrade", "websocket"),
                List.of("upgrade", "websockets", "connection", "keep-alive"))) {
            List<String> kv =
                    new ArrayList<>(List.of(":method", "GET", ":path", "/notifications", ":authority", "api"));
            kv.addAll(h);
            try (EnvoyStream s = new EnvoyStream(fx.channel, DUPLEX, DUPLEX)) {
                s.requestHeaders(true, kv.toArray(String[]::new));
                assertThat(s.next().hasRequestHeaders()).as("%s", h).isTrue();
            }
        }
    }

    @Test
    void upgrade_onAWebsocketPassProfile_framesGoOnByteForByteBothWays_countedAndAudited() throws Exception {
        double before = counter("meshguard_dlp_websocket_upgrades_total", "profile", "chat-ws", "decision", "pass");
        double unscannedBefore =
                counter("meshguard_dlp_unscanned_bytes_total", "direction", "request", "reason", "websocket");
        byte[] clientFrame = maskedFrame("my card is " + CARD);
        byte[] serverFrame = utf8("\u0081\u0020card " + CARD + " on file ok.."); // unmasked, as servers send
        try (EnvoyStream s = new EnvoyStream(fx.channel, DUPLEX, DUPLEX)) {
            s.requestLine(
                    false,
                    "GET",
                    "/ws/chat",
                    "api",
                    "upgrade",
                    "websocket",
                    "connection",
                    "Upgrade",
                    "sec-websocket-key",
                    "dGhlIHNhbXBsZSBub25jZQ==",
                    "x-request-id",
                    "ws-pass");
            assertThat(s.next().hasRequestHeaders()).isTrue();
            s.responseHeaders(
                    false,
                    ":status",
                    "101",
                    "upgrade",
                    "websocket",
                    "connection",
                    "Upgrade",
                    "sec-websocket-accept",
                    "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
            ProcessingResponse headers = s.next();
            assertThat(headers.hasResponseHeaders()).isTrue();
            assertThat(headers.getResponseHeaders().hasResponse())
                    .as("no header change at all")
                    .isFalse();

            // A card in a client frame would be blocked by this profile, and one in a server frame masked: frames
            // are not bodies, so both go on unchanged.
            s.requestBody(clientFrame, false);
            StreamedBodyResponse up =
                    s.next().getRequestBody().getResponse().getBodyMutation().getStreamedResponse();
            assertThat(up.getBody().toByteArray()).isEqualTo(clientFrame);
            assertThat(up.getEndOfStream()).isFalse();
            s.responseBody(serverFrame, false);
            StreamedBodyResponse down =
                    s.next().getResponseBody().getResponse().getBodyMutation().getStreamedResponse();
            assertThat(down.getBody().toByteArray()).isEqualTo(serverFrame);
            s.requestBody(new byte[0], true);
            assertThat(s.next()
                            .getRequestBody()
                            .getResponse()
                            .getBodyMutation()
                            .getStreamedResponse()
                            .getEndOfStream())
                    .isTrue();
            s.responseBody(new byte[0], true);
            assertThat(s.next()
                            .getResponseBody()
                            .getResponse()
                            .getBodyMutation()
                            .getStreamedResponse()
                            .getEndOfStream())
                    .isTrue();
        }
        assertThat(counter("meshguard_dlp_websocket_upgrades_total", "profile", "chat-ws", "decision", "pass"))
                .isEqualTo(before + 1);
        assertThat(counter("meshguard_dlp_unscanned_bytes_total", "direction", "request", "reason", "websocket"))
                .isEqualTo(unscannedBefore + clientFrame.length);
        DlpAuditSink.ApiCallEvent row = auditRow("ws-pass");
        assertThat(row.notes())
                .containsEntry("websocket", "pass")
                .containsEntry("request", "websocket")
                .containsEntry("response", "websocket");
        assertThat(row.findings()).isEmpty();
    }

    @Test
    void upgrade_onAWebsocketPassProfile_thatTheUpstreamRefuses_isAnOrdinaryResponse_andScanned() throws Exception {
        try (EnvoyStream s = new EnvoyStream(fx.channel, DUPLEX, DUPLEX)) {
            s.requestLine(true, "GET", "/ws/chat", "api", "upgrade", "websocket", "connection", "upgrade");
            assertThat(s.next().hasRequestHeaders()).isTrue();
            s.responseHeaders(false, ":status", "200", "content-type", "text/plain");
            assertThat(s.next().hasResponseHeaders()).isTrue();
            s.responseBody(utf8("card " + CARD + "\n"), true);
            String out = new String(EnvoyStream.responseBytes(s.untilResponseEnd()), StandardCharsets.UTF_8);
            assertThat(out).doesNotContain(CARD).endsWith("1111\n");
        }
    }

    @Test
    void upgrade_inStreamedMode_answersEachFrameWithoutAMutation() throws Exception {
        try (EnvoyStream s = new EnvoyStream(fx.channel, BodySendMode.STREAMED, BodySendMode.STREAMED)) {
            s.requestLine(false, "GET", "/ws/chat", "api", "upgrade", "websocket", "connection", "upgrade");
            assertThat(s.next().hasRequestHeaders()).isTrue();
            s.responseHeaders(false, ":status", "101", "upgrade", "websocket");
            assertThat(s.next().hasResponseHeaders()).isTrue();
            s.requestBody(maskedFrame("card " + CARD), false);
            ProcessingResponse r = s.next();
            assertThat(r.hasRequestBody()).isTrue();
            assertThat(r.getRequestBody().getResponse().hasBodyMutation())
                    .as("Envoy's own bytes go on")
                    .isFalse();
        }
    }

    @Test
    void grpc_onAProfileWithGrpcBlock_isRefusedAtItsHeaders_withAGrpcStatus_inEverySpelling() throws Exception {
        for (String type : List.of(
                "application/grpc",
                "application/grpc+proto",
                "application/GRPC+json",
                "application/grpc-web",
                "application/grpc-web-text+proto")) {
            double before = counter("meshguard_dlp_blocks_total", "direction", "request", "reason", "grpc");
            try (EnvoyStream s = new EnvoyStream(fx.channel, DUPLEX, DUPLEX)) {
                s.requestLine(false, "POST", "/bank.Accounts/Get", "api", "content-type", type, "te", "trailers");
                ProcessingResponse r = s.next();
                assertThat(r.hasImmediateResponse()).as(type).isTrue();
                assertThat(r.getImmediateResponse().getStatus().getCodeValue()).isEqualTo(451);
                assertThat(r.getImmediateResponse().getGrpcStatus().getStatus())
                        .as("PERMISSION_DENIED")
                        .isEqualTo(7);
                assertThat(r.getImmediateResponse().getBody().toStringUtf8()).contains("\"reason\":\"grpc\"");
            }
            assertThat(counter("meshguard_dlp_blocks_total", "direction", "request", "reason", "grpc"))
                    .isEqualTo(before + 1);
        }
    }

    @Test
    void grpc_underGrpcPass_framesAreUnpackedAndScanned_cardMaskedInPlace_frameLengthKept() throws Exception {
        // A length-prefixed message whose protobuf string holds a card number: the frame is unpacked and its
        // payload scanned as text (protobuf strings are plain bytes); masking keeps the length, so the frame and
        // the protobuf stay valid. (Before: passed unscanned whatever it held.)
        byte[] message = utf8("\u0000\u0000\u0000\u0000\u001a\n\u0018card " + CARD);
        try (EnvoyStream s = new EnvoyStream(fx.channel, DUPLEX, DUPLEX)) {
            s.requestLine(
                    false,
                    "POST",
                    "/other.Service/Call",
                    "api",
                    "content-type",
                    "application/grpc",
                    "x-request-id",
                    "grpc-pass");
            assertThat(s.next().hasRequestHeaders()).isTrue();
            s.requestBody(message, true);
            StreamedBodyResponse piece =
                    s.next().getRequestBody().getResponse().getBodyMutation().getStreamedResponse();
            assertThat(piece.getBody().toByteArray())
                    .isEqualTo(utf8("\u0000\u0000\u0000\u0000\u001a\n\u0018card **** **** **** 1111"));
            assertThat(piece.getEndOfStream()).isTrue();
        }
        assertThat(fx.findings).anySatisfy(f -> assertThat(f.requestId()).isEqualTo("grpc-pass"));
    }

    @Test
    void binaryBody_passedByPolicy_inLargeChunks_isAnsweredChunkForChunkWithTheSameBytes() throws Exception {
        byte[] chunk = new byte[200_000];
        new java.util.Random(3).nextBytes(chunk);
        try (EnvoyStream s = new EnvoyStream(fx.channel, DUPLEX, DUPLEX)) {
            s.requestLine(false, "PUT", "/files/x", "api", "content-type", "application/octet-stream");
            assertThat(s.next().hasRequestHeaders()).isTrue();
            for (int i = 0; i < 3; i++) {
                s.requestBody(chunk, i == 2);
                // The first message is sniffed (scanned while it looks like text), so its answer may come in
                // FULL_DUPLEX pieces; once the body is known to be binary, later messages are answered with the
                // very bytes that came, one piece each.
                java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
                StreamedBodyResponse piece;
                do {
                    piece = s.next()
                            .getRequestBody()
                            .getResponse()
                            .getBodyMutation()
                            .getStreamedResponse();
                    got.writeBytes(piece.getBody().toByteArray());
                } while (got.size() < chunk.length);
                assertThat(got.toByteArray()).isEqualTo(chunk);
                assertThat(piece.getEndOfStream()).isEqualTo(i == 2);
            }
        }
    }
}
