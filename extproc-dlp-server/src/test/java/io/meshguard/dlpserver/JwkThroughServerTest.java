package io.meshguard.dlpserver;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.meshguard.testing.IntegrationTest;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

/**
 * A JWK private key in a JSON response, its private member before its kty and the body cut into small chunks, through
 * the real server in FULL_DUPLEX_STREAMED: blocked (the fixture's default profile blocks private_key) with no byte of
 * the key sent on — also when the key is quoted as JSON text inside a string, pasted into a text/plain or markdown
 * answer, or split across an SSE answer's text deltas — while a JWKS endpoint's public keys pass unchanged.
 */
@IntegrationTest
class JwkThroughServerTest {
    private static final String D = "ujEzElxkO2qWzEBazI83Jt6k_CiI-eKijdFzcZaES7K";
    private static final String X = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";

    @AutoClose
    private static final ServerFixture fx = ServerFixture.started();

    /** Each chunking of {@code body} ends in an immediate response, and the client got no six bytes of the key. */
    private static void assertBlocked_noSixBytesOfTheKeySent(String body, int... chunks) throws Exception {
        for (int chunk : chunks) {
            List<ProcessingResponse> answers = respond(body, chunk);
            assertThat(answers.get(answers.size() - 1).hasImmediateResponse())
                    .as("chunk %d", chunk)
                    .isTrue();
            String sent = new String(EnvoyStream.responseBytes(answers), StandardCharsets.UTF_8);
            for (int k = 0; k + 6 <= D.length(); k++) {
                assertThat(sent).as("chunk %d", chunk).doesNotContain(D.substring(k, k + 6));
            }
        }
    }

    private static List<ProcessingResponse> respond(String body, int chunk) throws Exception {
        return respond(body, chunk, "application/json");
    }

    private static List<ProcessingResponse> respond(String body, int chunk, String contentType) throws Exception {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        try (EnvoyStream s = new EnvoyStream(fx.channel, BodySendMode.NONE, BodySendMode.FULL_DUPLEX_STREAMED)) {
            s.requestLine(true, "GET", "/keys", "idp");
            s.next();
            s.responseHeaders(false, ":status", "200", "content-type", contentType);
            s.next();
            for (int at = 0; at < b.length; at += chunk) {
                int n = Math.min(chunk, b.length - at);
                s.responseBody(Arrays.copyOfRange(b, at, at + n), at + n == b.length);
            }
            return s.untilResponseEnd();
        }
    }

    @Test
    void privateJwk_memberBeforeKty_inSmallChunks_isBlocked_noByteOfTheKeySent() throws Exception {
        String body = "{\"keys\":[{\"d\":\"" + D + "\",\"crv\":\"P-256\",\"x\":\"" + X + "\",\"y\":\"" + X
                + "\",\"kty\":\"EC\"}]}";
        assertBlocked_noSixBytesOfTheKeySent(body, 1, 5, 13, 64);
    }

    @Test
    void privateJwk_quotedAsJsonTextInAString_inSmallChunks_isBlocked_noByteOfTheKeySent() throws Exception {
        // A key pasted into a message's text, its quotes escaped, as an LLM API answer or prompt carries it
        String body = "{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":\"{\\\"d\\\":\\\"" + D
                + "\\\",\\\"crv\\\":\\\"P-256\\\",\\\"x\\\":\\\"" + X + "\\\",\\\"kty\\\":\\\"EC\\\"}\"}}]}";
        assertBlocked_noSixBytesOfTheKeySent(body, 1, 7, 64);
    }

    private static void assertBlockedWithoutTheKey(List<ProcessingResponse> answers, String what) {
        assertThat(answers.get(answers.size() - 1).hasImmediateResponse())
                .as(what)
                .isTrue();
        String sent = new String(EnvoyStream.responseBytes(answers), StandardCharsets.UTF_8);
        for (int k = 0; k + 6 <= D.length(); k++) {
            assertThat(sent).as(what).doesNotContain(D.substring(k, k + 6));
        }
    }

    @Test
    void privateJwk_inProse_textPlainAndMarkdown_inSmallChunks_isBlocked_noByteOfTheKeySent() throws Exception {
        // A key pasted into text that is not a JSON body
        String key = "{ \"d\" : \"" + D + "\", \"crv\":\"P-256\",\n \"x\":\"" + X + "\",\"\\u006bty\":\"EC\"}";
        for (String type : new String[] {"text/plain; charset=utf-8", "text/markdown"}) {
            for (int chunk : new int[] {1, 6, 13, 64}) {
                assertBlockedWithoutTheKey(
                        respond("The key you asked for: " + key + "\nKeep it safe.", chunk, type),
                        type + " chunk " + chunk);
            }
        }
    }

    @Test
    void privateJwk_splitAcrossSseTextDeltas_isBlocked_noByteOfTheKeySent() throws Exception {
        String answer = "Here: {\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" + X + "\",\"d\":\"" + D + "\"} done";
        // an event stream already started ends with an error event (StreamedBlockTest), not a local reply
        assertThat(assertSseBlockedWithoutTheKey(answer))
                .allSatisfy(sent -> assertThat(sent).contains("Here"));
    }

    @Test
    void jwksEndpoint_publicKeysOnly_passUnchanged() throws Exception {
        String body = "{\"keys\":[{\"kty\":\"EC\",\"use\":\"sig\",\"crv\":\"P-256\",\"x\":\"" + X + "\",\"y\":\"" + X
                + "\"},{\"kty\":\"RSA\",\"e\":\"AQAB\",\"n\":\"" + X + D + "\"}]}";
        int chunk = 1 + new Random(5).nextInt(20);
        List<ProcessingResponse> answers = respond(body, chunk);
        assertThat(new String(EnvoyStream.responseBytes(answers), StandardCharsets.UTF_8))
                .isEqualTo(body);
    }

    @Test
    void privateJwk_asEscapedJsonInALogLine_textPlainMarkdownAndSse_inSmallChunks_isBlocked_noByteOfTheKeySent()
            throws Exception {
        // The key's quotes escaped once (a log line's msg) or twice (that line quoted once more)
        String jwk = "{\"d\":\"" + D + "\",\"crv\":\"P-256\",\"x\":\"" + X + "\",\"kty\":\"EC\"}";
        String once = jwk.replace("\"", "\\\"");
        String twice = once.replace("\\", "\\\\").replace("\"", "\\\"");
        for (String escaped : new String[] {once, twice}) {
            String line = "2026-11-23T10:00:00Z ERROR signer msg=\"" + escaped + "\" user=42\n";
            for (String type : new String[] {"text/plain", "text/markdown; charset=utf-8"}) {
                for (int chunk : new int[] {1, 6, 13, 64}) {
                    assertBlockedWithoutTheKey(respond(line, chunk, type), type + " chunk " + chunk + " " + escaped);
                }
            }
            assertSseBlockedWithoutTheKey("The log says: " + line);
        }
    }

    @Test
    void privateJwk_asYamlPythonOrJsLiteral_textPlainMarkdownAndSse_inSmallChunks_isBlocked_noByteOfTheKeySent()
            throws Exception {
        // Keys pasted in syntaxes that are not JSON
        String[] keys = {
            "jwks:\n  - d: " + D + "\n    crv: P-256\n    x: " + X + "\n    kty: EC\n",
            "{kty: EC, crv: P-256, x: " + X + ", d: " + D + "}",
            "key = {'kty': 'EC', 'd': '" + D + "'}\n",
            "const jwk = {\n  kty: \"EC\",\n  d: \"" + D + "\",\n};\n"
        };
        for (String key : keys) {
            for (String type : new String[] {"text/plain; charset=utf-8", "text/markdown"}) {
                for (int chunk : new int[] {1, 6, 13, 64}) {
                    assertBlockedWithoutTheKey(
                            respond("Here:\n" + key + "done", chunk, type), type + " chunk " + chunk + " " + key);
                }
            }
            assertSseBlockedWithoutTheKey("Here:\n" + key + "done");
        }
    }

    @Test
    void publicJwk_asYamlAndEscapedJson_passesUnchanged() throws Exception {
        String body = "keys:\n  - kty: EC\n    crv: P-256\n    x: " + X + "\n    y: " + X + "\nlog: msg=\"{\\\"kty\\\":"
                + "\\\"RSA\\\",\\\"e\\\":\\\"AQAB\\\",\\\"n\\\":\\\"" + X + D + "\\\"}\"\nanswer d: "
                + D.substring(0, 20) + "\n";
        for (int chunk : new int[] {1, 7, 64}) {
            List<ProcessingResponse> answers = respond(body, chunk, "text/plain");
            assertThat(new String(EnvoyStream.responseBytes(answers), StandardCharsets.UTF_8))
                    .isEqualTo(body);
        }
    }

    /**
     * {@code answer} streamed as an SSE answer's text deltas of 4 characters, in Envoy chunks of 1, 9 and 64 bytes:
     * blocked, no 6 bytes of the key sent. Returns what was sent for each chunk size.
     */
    private static List<String> assertSseBlockedWithoutTheKey(String answer) throws Exception {
        StringBuilder sse = new StringBuilder();
        for (int at = 0; at < answer.length(); at += 4) {
            String token = answer.substring(at, Math.min(answer.length(), at + 4))
                    .replace("\\", "\\\\")
                    .replace("\"", "\\\"")
                    .replace("\n", "\\n");
            sse.append("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"")
                    .append(token)
                    .append("\"}}]}\n\n");
        }
        sse.append("data: [DONE]\n\n");
        List<String> sentPerChunking = new java.util.ArrayList<>();
        for (int chunk : new int[] {1, 9, 64}) {
            String sent = new String(
                    EnvoyStream.responseBytes(respond(sse.toString(), chunk, "text/event-stream")),
                    StandardCharsets.UTF_8);
            assertThat(sent).as("chunk %d %s", chunk, answer).contains("\"dlp_blocked\"");
            for (int k = 0; k + 6 <= D.length(); k++) {
                assertThat(sent).as("chunk %d %s", chunk, answer).doesNotContain(D.substring(k, k + 6));
            }
            sentPerChunking.add(sent);
        }
        return sentPerChunking;
    }
}
