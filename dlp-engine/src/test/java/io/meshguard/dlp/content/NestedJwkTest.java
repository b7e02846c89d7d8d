package io.meshguard.dlp.content;

import static io.meshguard.dlp.content.JwkPrivateKeysTest.b64;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshguard.dlp.scan.ActionKind;
import io.meshguard.testing.SlowTest;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A JWK private key pasted as JSON text inside a string value (an LLM prompt's {@code "content"}, escaped
 * quotes) is found as a top-level one is, at every chunk split, as a JSON body and in SSE/JSON-lines events; a
 * multi-prime RSA key's {@code oth} primes are private; the bounds (size, depth) have defined outcomes.
 */
@SlowTest
class NestedJwkTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final String R = "[REDACTED:private_key]";
    private static final String D = b64(21, 43);
    private static final String N = b64(22, 342);

    /** {@code s} as the contents of a JSON string (quotes and backslashes escaped). */
    private static String quoted(String s) throws Exception {
        String q = MAPPER.writeValueAsString(s);
        return q.substring(1, q.length() - 1);
    }

    private static String prompt(String content) throws Exception {
        return "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"" + quoted(content) + "\"}]}";
    }

    private static final String EC_KEY = "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" + b64(23, 43) + "\",\"y\":\""
            + b64(24, 43) + "\",\"d\":\"" + D + "\"}";

    private static Bodies.Result json(ActionKind action, String in) {
        return Bodies.whole(JsonTransformer::new, action, in);
    }

    /** The same output for the whole body, at every two-chunk split and in chunks of 1 to 7 bytes. */
    private static void chunkInvariant(String in, String whole) {
        byte[] b = in.getBytes(StandardCharsets.UTF_8);
        for (int split = 1; split < b.length; split++) {
            assertThat(Bodies.twoChunks(JsonTransformer::new, ActionKind.REDACT, b, split))
                    .as("split %d", split)
                    .isEqualTo(whole);
        }
        for (int max = 1; max < 8; max++) {
            assertThat(Bodies.run(JsonTransformer::new, Bodies.rules(ActionKind.REDACT), b, new Random(max), max)
                            .text())
                    .isEqualTo(whole);
        }
    }

    @Test
    void jwkPastedInAPromptsContent_isRedactedInPlace_theBodyStaysJson_atEverySplit() throws Exception {
        String alone = prompt(EC_KEY);
        Bodies.Result r = json(ActionKind.REDACT, alone);
        assertThat(r.findings()).containsExactly("private_key@/messages/0/content");
        assertThat(r.text()).isEqualTo(alone.replace(D, R)).contains(b64(23, 43));
        JsonNode content = MAPPER.readTree(r.text()).at("/messages/0/content");
        assertThat(MAPPER.readTree(content.asText()).get("d").asText()).isEqualTo(R);
        chunkInvariant(alone, r.text());
    }

    @Test
    void whiteSpaceBeforeTheText_escapedNames_andAnRsaKeyWithPrivateMembersFirst_areFoundToo() throws Exception {
        String rsa = "{\"d\":\"" + b64(30, 171) + "\",\"p\":\"" + b64(31, 86) + "\",\"n\":\"" + N
                + "\",\"e\":\"AQAB\",\"\\u006bty\":\"RSA\"}";
        String in = prompt("\n  " + rsa);
        Bodies.Result r = json(ActionKind.REDACT, in);
        assertThat(r.findings()).hasSize(2);
        assertThat(r.text())
                .doesNotContain(b64(30, 171))
                .doesNotContain(b64(31, 86))
                .contains(N);
        MAPPER.readTree(r.text());
        chunkInvariant(in, r.text());
    }

    @Test
    void publicKeysAndOtherJsonText_passByteForByte() throws Exception {
        String in = prompt("{\"keys\":[{\"kty\":\"RSA\",\"n\":\"" + N + "\",\"e\":\"AQAB\"}],\"note\":\"" + D + "\"}");
        Bodies.Result r = json(ActionKind.REDACT, in);
        assertThat(r.text()).isEqualTo(in);
        assertThat(r.findings()).isEmpty();
    }

    @Test
    void keyTextCutOffBeforeItsObjectCloses_isStillFound() throws Exception {
        String broken = prompt("{\"kty\":\"EC\",\"d\":\"" + D + "\"");
        Bodies.Result r = json(ActionKind.REDACT, broken);
        assertThat(r.findings()).containsExactly("private_key@/messages/0/content");
        assertThat(r.text()).isEqualTo(broken.replace(D, R));
    }

    @Test
    void keyQuotedTwice_isFound_threeLevelsDeepIsTheBound() throws Exception {
        String twice = prompt("{\"tool\":\"x\",\"arguments\":" + MAPPER.writeValueAsString(EC_KEY) + "}");
        Bodies.Result r = json(ActionKind.REDACT, twice);
        assertThat(r.findings()).hasSize(1);
        assertThat(r.text()).isEqualTo(twice.replace(D, R));
        chunkInvariant(twice, r.text());
        String level3 = "{\"a\":"
                + MAPPER.writeValueAsString("{\"b\":"
                        + MAPPER.writeValueAsString("{\"c\":" + MAPPER.writeValueAsString(EC_KEY) + "}") + "}")
                + "}";
        assertThat(json(ActionKind.REDACT, level3).findings()).hasSize(1);
        String level4 = "{\"z\":" + MAPPER.writeValueAsString(level3) + "}";
        assertThat(json(ActionKind.REDACT, level4).findings())
                .as("deeper than %d levels", 3)
                .isEmpty();
    }

    @Test
    void blockAction_blocksTheBody_andNothingOfTheKeyIsWritten() throws Exception {
        Bodies.Result r = json(ActionKind.BLOCK, prompt(EC_KEY));
        assertThat(r.blocked()).isNotNull();
        assertThat(r.text()).doesNotContain(D);
    }

    @Test
    void longQuotedText_isReadAsTheTextScanStreamsIt_noSizeBound() throws Exception {
        String padded = "{\"pad\":\"" + "x".repeat(64 * 1024) + "\",\"key\":" + EC_KEY + "}";
        Bodies.Result r = json(ActionKind.REDACT, prompt(padded));
        assertThat(r.findings()).containsExactly("private_key@/messages/0/content");
        assertThat(r.text()).doesNotContain(D);
    }

    @Test
    void multiPrimeRsa_othPrimesExponentsAndCoefficients_areRedacted_topLevelNestedAndSse() throws Exception {
        String r3 = b64(40, 86);
        String d3 = b64(41, 86);
        String t3 = b64(42, 86);
        String key = "{\"oth\":[{\"r\":\"" + r3 + "\",\"d\":\"" + d3 + "\",\"t\":\"" + t3 + "\"}],\"n\":\"" + N
                + "\",\"e\":\"AQAB\",\"d\":\"" + b64(43, 171) + "\",\"kty\":\"RSA\"}";
        Bodies.Result top = json(ActionKind.REDACT, key);
        assertThat(top.findings())
                .containsExactlyInAnyOrder(
                        "private_key@/oth/0/r", "private_key@/oth/0/d", "private_key@/oth/0/t", "private_key@/d");
        assertThat(top.text())
                .doesNotContain(r3)
                .doesNotContain(d3)
                .doesNotContain(t3)
                .contains(N);
        chunkInvariant(key, top.text());
        Bodies.Result nested = json(ActionKind.REDACT, prompt(key));
        assertThat(nested.findings()).hasSize(4);
        assertThat(nested.text()).doesNotContain(r3).doesNotContain(t3);
        Bodies.Result lines =
                Bodies.whole(SseTransformer::jsonLines, ActionKind.REDACT, key + "\n" + prompt(key) + "\n");
        assertThat(lines.findings()).hasSize(8);
        assertThat(lines.text()).doesNotContain(r3).doesNotContain(d3).doesNotContain(t3);
    }
}
