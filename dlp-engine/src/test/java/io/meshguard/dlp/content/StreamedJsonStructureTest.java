package io.meshguard.dlp.content;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.dlp.scan.ActionKind;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * SSE events and JSON lines carry whole JSON documents: JWK private members are found in them whatever the member
 * order, keys are context for their values, and deep nesting has a defined outcome.
 */
class StreamedJsonStructureTest {
    private static final Bodies.Factory SSE = SseTransformer::new;
    private static final Bodies.Factory NDJSON = SseTransformer::jsonLines;
    private static final String R = "[REDACTED:private_key]";
    private static final String D = JwkPrivateKeysTest.D;
    private static final String X = JwkPrivateKeysTest.X;

    @Test
    void sseEvent_withAPrivateJwk_inAnyMemberOrder_isRedacted_everyChunking() {
        String jwk = "{\"d\":\"" + D + "\",\"crv\":\"P-256\",\"x\":\"" + X + "\",\"kty\":\"EC\"}";
        String in = "event: key\ndata: {\"keys\":[" + jwk + "]}\n\n";
        Bodies.Result whole = Bodies.whole(SSE, ActionKind.REDACT, in);
        assertThat(whole.text()).isEqualTo(in.replace(D, R));
        assertThat(whole.findings()).containsExactly("private_key@sse:/keys/0/d");
        byte[] b = in.getBytes(StandardCharsets.UTF_8);
        for (int max = 1; max < 12; max++) {
            assertThat(Bodies.run(SSE, Bodies.rules(ActionKind.REDACT), b, new Random(max), max)
                            .text())
                    .isEqualTo(whole.text());
        }
    }

    @Test
    void ndjsonLines_privateKeysFound_publicJwksPass() {
        String in = "{\"kty\":\"oct\",\"k\":\"" + D + "\"}\n{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" + X
                + "\",\"y\":\"" + X + "\"}]}\n{\"\\u0064\":\"" + D + "\",\"kty\":\"OKP\"}\n";
        Bodies.Result r = Bodies.whole(NDJSON, ActionKind.REDACT, in);
        assertThat(r.text()).isEqualTo(in.replace(D, R));
        assertThat(r.findings()).hasSize(2).allMatch(f -> f.startsWith("private_key@"));
    }

    @Test
    void sseBlockAction_blocksTheStream() {
        String in = "data: {\"kty\":\"RSA\",\"qi\":\"" + D + "\"}\n\n";
        Bodies.Result r = Bodies.whole(SSE, ActionKind.BLOCK, in);
        assertThat(r.blocked()).isNotNull();
        assertThat(r.text()).doesNotContain(D);
    }

    @Test
    void sseValue_isScannedWithItsKey_andTheCleanTextCacheDoesNotLeakAcrossKeys() {
        // the same text, first under a key that gives no context (remembered clean), then under "phone"
        String in = "data: {\"sku\":\"01012345678\"}\n\ndata: {\"phone\":\"01012345678\"}\n\n"
                + "data: {\"apiKey\":\"q8ZrT3vLx9WmN2pKa7Yc\"}\n\n";
        Bodies.Result r = Bodies.whole(SSE, ActionKind.REDACT, in);
        assertThat(r.text())
                .isEqualTo("data: {\"sku\":\"01012345678\"}\n\ndata: {\"phone\":\"[REDACTED:kr_phone]\"}\n\n"
                        + "data: {\"apiKey\":\"[REDACTED:secret]\"}\n\n");
    }

    /**
     * Published class "JSON nesting depth checked inside the parser's loop" (Envoy GHSA-g979-ph9j-5gg4 /
     * CVE-2024-34363, an uncaught JSON parser exception): past the bound the document is scanned as text, no stack grows.
     */
    @Test
    void jsonNestingDepth_deeplyNestedEvent_isScannedAsText_withoutOverflowingTheStack() {
        int depth = 200_000;
        String in = "data: " + "[".repeat(depth) + "\"4111 1111 1111 1111\"" + "]".repeat(depth) + "\n\n";
        Bodies.Result r = Bodies.whole(SSE, ActionKind.REDACT, in);
        assertThat(r.text()).contains("[REDACTED:card]").doesNotContain("4111 1111");
        String ok = "data: " + "[".repeat(JsonTransformer.MAX_DEPTH) + "\"x\"" + "]".repeat(JsonTransformer.MAX_DEPTH)
                + "\n\n";
        assertThat(Bodies.whole(SSE, ActionKind.REDACT, ok).text()).isEqualTo(ok);
    }
}
