package io.meshguard.dlp.content;

import static io.meshguard.dlp.content.JwkPrivateKeysTest.b64;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshguard.dlp.scan.ActionKind;
import io.meshguard.testing.SlowTest;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A JWK private key written as JSON in text that is not a JSON body — prose, a markdown chat message, a log
 * line, a form field, an SSE answer whose text deltas split the key across events, a prompt's content with words
 * before the key — is found as in a JSON body: any member order, escaped names, any spacing; the same output at every
 * split and in 1-byte chunks; public keys pass byte for byte; the bounds fail towards a finding.
 */
@SlowTest
class JwkInTextTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final String R = "[REDACTED:private_key]";
    private static final Bodies.Factory TEXT =
            (rules, hasher, out, listener) -> new TextTransformer(rules, hasher, out, listener, "body");
    private static final String D = b64(51, 342);
    private static final String P = b64(52, 171);
    private static final String Q = b64(53, 171);
    private static final String N = b64(54, 342);
    private static final String EC_D = b64(55, 43);
    private static final String EC_X = b64(56, 43);

    /** An RSA key, private members first, kty last, as a careless serializer may write it. */
    private static final String RSA = "{\"d\":\"" + D + "\",\"p\":\"" + P + "\",\"q\":\"" + Q + "\",\"n\":\"" + N
            + "\",\"e\":\"AQAB\",\"kty\":\"RSA\"}";

    private static Bodies.Result text(ActionKind action, String in) {
        return Bodies.whole(TEXT, action, in);
    }

    /** The same output for the whole input, at every two-chunk split, in 1-byte chunks and random small chunks. */
    private static void chunkInvariant(Bodies.Factory f, String in, String whole) {
        byte[] b = in.getBytes(StandardCharsets.UTF_8);
        for (int split = 1; split < b.length; split++) {
            assertThat(Bodies.twoChunks(f, ActionKind.REDACT, b, split))
                    .as("split %d", split)
                    .isEqualTo(whole);
        }
        assertThat(Bodies.run(f, Bodies.rules(ActionKind.REDACT), b, new Random(1), 1)
                        .text())
                .isEqualTo(whole);
        for (int max = 2; max < 9; max++) {
            assertThat(Bodies.run(f, Bodies.rules(ActionKind.REDACT), b, new Random(max), max)
                            .text())
                    .isEqualTo(whole);
        }
    }

    @Test
    void rsaKeyInProse_privateMembersBeforeKty_areRedacted_publicOnesKept_atEverySplit() {
        String in = "Hi team, here is the signing key for staging: " + RSA + " — please rotate it Friday.";
        Bodies.Result r = text(ActionKind.REDACT, in);
        assertThat(r.findings()).containsExactly("private_key@body", "private_key@body", "private_key@body");
        assertThat(r.text())
                .isEqualTo(in.replace(D, R).replace(P, R).replace(Q, R))
                .contains(N);
        chunkInvariant(TEXT, in, r.text());
    }

    @Test
    void prettyPrintedKeyInAMarkdownMessage_escapedNames_andSpacing_isRedacted() {
        String in = "Sure! Your key:\n\n```json\n{\n  \"\\u006bty\" : \"EC\",\n  \"crv\": \"P-256\",\n  \"x\": \""
                + EC_X + "\",\n  \"y\":\t\"" + EC_X + "\",\n  \"\\u0064\"\r\n :\n \"" + EC_D + "\"\n}\n```\nDone.";
        Bodies.Result r = text(ActionKind.REDACT, in);
        assertThat(r.findings()).containsExactly("private_key@body");
        assertThat(r.text()).isEqualTo(in.replace(EC_D, R)).contains(EC_X);
        chunkInvariant(TEXT, in, r.text());
    }

    @Test
    void keyInALogLine_andInsideOtherJsonAndBraces_isRedacted() {
        String in = "2026-11-23T10:00:00Z INFO cfg {port: 80} loaded jwks={\"keys\":[{\"kty\":\"OKP\",\"crv\":"
                + "\"Ed25519\",\"x\":\"" + EC_X + "\",\"d\":\"" + EC_D + "\"}]} user=42\n";
        Bodies.Result r = text(ActionKind.REDACT, in);
        assertThat(r.findings()).containsExactly("private_key@body");
        assertThat(r.text()).isEqualTo(in.replace(EC_D, R));
        chunkInvariant(TEXT, in, r.text());
    }

    @Test
    void publicKeys_jsonWithoutKeyMaterial_andProseBraces_passByteForByte() {
        String in = "JWKS: {\"keys\":[{\"kty\":\"RSA\",\"n\":\"" + N + "\",\"e\":\"AQAB\",\"kid\":\"k1\"},{\"kty\":"
                + "\"EC\",\"crv\":\"P-256\",\"x\":\"" + EC_X + "\",\"y\":\"" + EC_X + "\"}]} and a note {\"d\":\""
                + EC_D + "\"} (no kty: no key), a set {a, b} and code `if (x) { y(\"" + EC_D + "\"); }`";
        Bodies.Result r = text(ActionKind.REDACT, in);
        assertThat(r.findings()).isEmpty();
        assertThat(r.text()).isEqualTo(in);
        chunkInvariant(TEXT, in, in);
    }

    @Test
    void jsonWithoutKeyMaterial_isNotHeldBack_whileItStreams() {
        ByteSink out = new ByteSink();
        BodyTransformer t = TEXT.create(Bodies.rules(ActionKind.REDACT), Bodies.HASHER, out, FindingListener.NONE);
        byte[] head =
                "result {\"name\":\"run\",\"steps\":[1,2,3],\"note\":\"still open ".getBytes(StandardCharsets.UTF_8);
        t.write(head, 0, head.length);
        assertThat(out.drain())
                .asString(StandardCharsets.UTF_8)
                .startsWith("result {\"name\":\"run\",\"steps\":[1,2,3]");
        assertThat(t.heldBack()).isLessThan(32);
    }

    @Test
    void bounds_failTowardsAFinding() {
        // waiting for a kty past 64 KiB of input: a key even though the object then closes without one
        String padded = "key {\"d\":\"" + EC_D + "\",\"pad\":\"" + "x".repeat(64 * 1024) + "\"}";
        assertThat(text(ActionKind.REDACT, padded).text()).isEqualTo(padded.replace(EC_D, R));
        // the text ends, or stops being JSON, while a member waits
        assertThat(text(ActionKind.REDACT, "key {\"d\":\"" + EC_D + "\"").text())
                .doesNotContain(EC_D);
        assertThat(text(ActionKind.REDACT, "key {\"d\":\"" + EC_D + "\", oops} more")
                        .text())
                .isEqualTo("key {\"d\":\"" + R + "\", oops} more");
        // the key's own string cut off by the end of the text
        assertThat(text(ActionKind.REDACT, "{\"kty\":\"EC\",\"d\":\"" + EC_D).text())
                .doesNotContain(EC_D);
        // an object that closes without a kty within the bound is no key
        String closed = "{\"d\":\"" + EC_D + "\",\"pad\":\"" + "x".repeat(1000) + "\"}";
        assertThat(text(ActionKind.REDACT, closed).text()).isEqualTo(closed);
    }

    @Test
    void blockAction_blocks_andNoPieceOfTheKeyIsWritten_inAnyChunking() {
        String in = "paste: " + RSA;
        assertBlockedWithoutTheKey(in);
    }

    @Test
    void keyInAFormFieldValue_isRedacted() {
        String jwk = "{\"kty\":\"EC\",\"d\":\"" + EC_D + "\",\"x\":\"" + EC_X + "\"}";
        String in = "name=ops&comment=" + URLEncoder.encode("my key " + jwk, StandardCharsets.UTF_8) + "&ok=1";
        Bodies.Result r = Bodies.whole(FormTransformer::new, ActionKind.REDACT, in);
        assertThat(r.findings()).hasSize(1);
        assertThat(r.text()).doesNotContain(EC_D).contains("name=ops").endsWith("&ok=1");
        chunkInvariant(FormTransformer::new, in, r.text());
    }

    @Test
    void keyAfterWordsInAPromptsContent_isRedactedInPlace_theBodyStaysJson() throws Exception {
        String content = "Why does this fail? " + RSA + " Thanks";
        String in = "{\"messages\":[{\"role\":\"user\",\"content\":" + MAPPER.writeValueAsString(content) + "}]}";
        Bodies.Result r = Bodies.whole(JsonTransformer::new, ActionKind.REDACT, in);
        assertThat(r.findings()).containsOnly("private_key@/messages/0/content").hasSize(3);
        JsonNode c = MAPPER.readTree(r.text()).at("/messages/0/content");
        assertThat(c.asText()).isEqualTo(content.replace(D, R).replace(P, R).replace(Q, R));
        chunkInvariant(JsonTransformer::new, in, r.text());
    }

    @Test
    void keySplitAcrossSseTextDeltas_isRedactedAcrossEvents() throws Exception {
        String answer =
                "Here you go: {\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" + EC_X + "\",\"d\":\"" + EC_D + "\"} enjoy";
        String in = sseDeltas(answer);
        Bodies.Result r = Bodies.whole(SseTransformer::new, ActionKind.REDACT, in);
        assertThat(r.findings()).hasSize(1);
        assertThat(joinedDeltas(r.text())).isEqualTo(answer.replace(EC_D, R));
        assertThat(r.text()).doesNotContain(EC_D.substring(0, 5)).doesNotContain(EC_D.substring(20, 25));
        assertSameAtEverySseChunking(in, r.text());
    }

    /** {@code json} escaped once as JSON string contents: {@code "} as {@code \"}, {@code \} as {@code \\}. */
    private static String escape(String json) {
        return json.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }

    @Test
    void escapedKeyInALogLine_privateMembersBeforeKty_isRedacted_publicOnesKept_atEverySplit() {
        // {"d":…} written into a log line's quoted msg, so its quotes are escaped
        String in = "2026-11-23T10:00:00Z ERROR signer msg=\"" + escape(RSA) + "\" user=42\n";
        Bodies.Result r = text(ActionKind.REDACT, in);
        assertThat(r.findings()).containsExactly("private_key@body", "private_key@body", "private_key@body");
        assertThat(r.text())
                .isEqualTo(in.replace(D, R).replace(P, R).replace(Q, R))
                .contains(N);
        chunkInvariant(TEXT, in, r.text());
    }

    @Test
    void keyEscapedTwice_prettyPrinted_withAnEscapedName_isRedacted_atEverySplit() {
        String jwk = "{\n  \"\\u0064\" : \"" + EC_D + "\",\n  \"crv\": \"P-256\",\n  \"x\": \"" + EC_X
                + "\",\n  \"kty\": \"EC\"\n}";
        for (String in :
                new String[] {"once: \"" + escape(jwk) + "\" end", "twice: \"" + escape(escape(jwk)) + "\" end"}) {
            Bodies.Result r = text(ActionKind.REDACT, in);
            assertThat(r.findings()).as(in).containsExactly("private_key@body");
            assertThat(r.text()).isEqualTo(in.replace(EC_D, R)).contains(EC_X);
            chunkInvariant(TEXT, in, r.text());
        }
    }

    @Test
    void escapedPublicKeys_escapedJsonWithoutKty_andBackslashesAfterBraces_passByteForByte() {
        String jwks = "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"" + N + "\",\"e\":\"AQAB\"},{\"kty\":\"EC\",\"crv\":"
                + "\"P-256\",\"x\":\"" + EC_X + "\",\"y\":\"" + EC_X + "\"}]}";
        String in = "jwks=\"" + escape(jwks) + "\" twice=\"" + escape(escape(jwks)) + "\" note=\""
                + escape("{\"d\":\"" + EC_D + "\"}") + "\" (no kty: no key) and TeX $\\frac{\\alpha}{\\beta}$ {\\\\}";
        Bodies.Result r = text(ActionKind.REDACT, in);
        assertThat(r.findings()).isEmpty();
        assertThat(r.text()).isEqualTo(in);
        chunkInvariant(TEXT, in, in);
    }

    @Test
    void escapedKey_cutOffByTheStringItIsWrittenIn_failsTowardsAFinding() {
        // the log line's quote ends the escaped JSON while d waits for its kty, or inside d's own string
        String waiting = "msg=\"{\\\"d\\\":\\\"" + EC_D + "\\\",\\\"x\\\":\\\"" + EC_X + "\" level=error";
        assertThat(text(ActionKind.REDACT, waiting).text()).isEqualTo(waiting.replace(EC_D, R));
        String cut = "msg=\"{\\\"kty\\\":\\\"EC\\\",\\\"d\\\":\\\"" + EC_D + "\" level=error";
        assertThat(text(ActionKind.REDACT, cut).text()).doesNotContain(EC_D);
        chunkInvariant(TEXT, waiting, waiting.replace(EC_D, R));
        // waiting for a kty past 64 KiB of input: a key even though the escaped object then closes without one
        String padded = "msg=\"" + escape("{\"d\":\"" + EC_D + "\",\"pad\":\"" + "x".repeat(64 * 1024) + "\"}") + "\"";
        assertThat(text(ActionKind.REDACT, padded).text()).isEqualTo(padded.replace(EC_D, R));
        String closed = "msg=\"" + escape("{\"d\":\"" + EC_D + "\",\"pad\":\"" + "x".repeat(1000) + "\"}") + "\"";
        assertThat(text(ActionKind.REDACT, closed).text()).isEqualTo(closed);
    }

    @Test
    void escapedKey_blockAction_noPieceOfTheKeyIsWritten_inAnyChunking() {
        String in = "log: \"" + escape(RSA) + "\" and \"" + escape(escape(RSA)) + "\"";
        assertBlockedWithoutTheKey(in);
    }

    @Test
    void escapedKey_inAFormField_andInAJsonStringEscapedTwice_isRedacted() throws Exception {
        String jwk = "{\"kty\":\"EC\",\"d\":\"" + EC_D + "\",\"x\":\"" + EC_X + "\"}";
        String form =
                "name=ops&log=" + URLEncoder.encode("msg=\"" + escape(jwk) + "\"", StandardCharsets.UTF_8) + "&ok=1";
        Bodies.Result f = Bodies.whole(FormTransformer::new, ActionKind.REDACT, form);
        assertThat(f.findings()).hasSize(1);
        assertThat(f.text()).doesNotContain(EC_D).contains("name=ops").endsWith("&ok=1");
        chunkInvariant(FormTransformer::new, form, f.text());
        // a log line with an escaped key, as the string value of a JSON document: the key is escaped twice as written
        String content = "tail: msg=\"" + escape(jwk) + "\" done";
        String json = "{\"messages\":[{\"role\":\"user\",\"content\":" + MAPPER.writeValueAsString(content) + "}]}";
        assertThat(json).contains("\\\\\\\"kty\\\\\\\"");
        Bodies.Result j = Bodies.whole(JsonTransformer::new, ActionKind.REDACT, json);
        assertThat(j.findings()).containsExactly("private_key@/messages/0/content");
        assertThat(MAPPER.readTree(j.text()).at("/messages/0/content").asText()).isEqualTo(content.replace(EC_D, R));
        chunkInvariant(JsonTransformer::new, json, j.text());
    }

    @Test
    void escapedKeySplitAcrossSseTextDeltas_isRedactedAcrossEvents() throws Exception {
        String answer = "The config line is: jwk=\""
                + escape("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" + EC_X + "\",\"d\":\"" + EC_D + "\"}")
                + "\" enjoy";
        String in = sseDeltas(answer);
        Bodies.Result r = Bodies.whole(SseTransformer::new, ActionKind.REDACT, in);
        assertThat(r.findings()).hasSize(1);
        assertThat(joinedDeltas(r.text())).isEqualTo(answer.replace(EC_D, R));
        assertSameAtEverySseChunking(in, r.text());
    }

    @Test
    void yamlBlockKeys_privateMembersAnywhereNearTheirKty_areRedacted_publicOnesKept_atEverySplit() {
        // Keys as YAML, kty first, and in sorted member order (d before kty, n between)
        String in = "jwks:\n  keys:\n    - kty: RSA\n      n: " + N + "\n      e: AQAB\n      d: " + D + "\n      p: '"
                + P + "'\n      q: \"" + Q + "\"\n    - d: " + EC_D + "\r\n      crv: P-256\r\n      kty: EC\r\n"
                + "      x: " + EC_X + "\nnext: 1\n";
        Bodies.Result r = text(ActionKind.REDACT, in);
        assertThat(r.findings()).hasSize(4);
        assertThat(r.text())
                .isEqualTo(in.replace(D, R).replace(P, R).replace(Q, R).replace(EC_D, R))
                .contains(N)
                .contains(EC_X);
        chunkInvariant(TEXT, in, r.text());
    }

    @Test
    void yamlFlow_pythonDict_andJsObjectLiteral_keys_areRedacted_atEverySplit() {
        String k = b64(57, 43);
        String in = "yaml: {kty: EC, crv: P-256, x: " + EC_X + ", d: " + EC_D + "}\npython: {'kty': 'oct', 'k': '" + k
                + "', 'alg': 'HS256'}\njs: const jwk = {\n  d: \"" + P + "\",\n  kty: \"RSA\", e: 'AQAB',\n};\n";
        Bodies.Result r = text(ActionKind.REDACT, in);
        assertThat(r.findings()).hasSize(3);
        assertThat(r.text())
                .isEqualTo(in.replace(EC_D, R).replace(k, R).replace(P, R))
                .contains(EC_X);
        chunkInvariant(TEXT, in, r.text());
    }

    @Test
    void literalsWithoutAKeyNear_proseWithLetterMembers_andPublicKeys_passByteForByte() {
        String in = "Quiz: answer d: Internationalization, option k: none.\npublic:\n  - kty: RSA\n    n: " + N
                + "\n    e: AQAB\n  - {kty: EC, crv: P-256, x: " + EC_X + ", y: " + EC_X + "}\nan EC key has no p: "
                + "{kty: EC, p: " + P + "}\n" + "x".repeat(9000) + "\nkty: RSA (far from the keys)\n";
        Bodies.Result r = text(ActionKind.REDACT, in);
        assertThat(r.findings()).isEmpty();
        assertThat(r.text()).isEqualTo(in);
        byte[] b = in.getBytes(StandardCharsets.UTF_8);
        for (int max : new int[] {1, 7, 4096}) {
            assertThat(Bodies.run(TEXT, Bodies.rules(ActionKind.REDACT), b, new Random(max), max)
                            .text())
                    .isEqualTo(in);
        }
        // a lone token under "d:" with no kty within 8 KiB is no JWK (the secret detector may still judge it)
        String lone = "x".repeat(9000) + "\nd: " + EC_D + "\n" + "y".repeat(9000) + "\nkty: RSA\n";
        assertThat(text(ActionKind.REDACT, lone).findings()).doesNotContain("private_key@body");
    }

    @Test
    void yamlKey_blockAction_noPieceOfTheKeyIsWritten_inAnyChunking() {
        String in = "config:\n  signing:\n    d: " + D + "\n    e: AQAB\n    kty: RSA\n";
        assertBlockedWithoutTheKey(in);
    }

    @Test
    void pythonDictKey_inAJsonPromptsContent_isRedactedInPlace() throws Exception {
        String content = "Why does jwk.JWK(**{'kty': 'EC', 'crv': 'P-256', 'd': '" + EC_D + "'}) fail?";
        String in = "{\"messages\":[{\"role\":\"user\",\"content\":" + MAPPER.writeValueAsString(content) + "}]}";
        Bodies.Result r = Bodies.whole(JsonTransformer::new, ActionKind.REDACT, in);
        assertThat(r.findings()).containsExactly("private_key@/messages/0/content");
        assertThat(MAPPER.readTree(r.text()).at("/messages/0/content").asText()).isEqualTo(content.replace(EC_D, R));
        chunkInvariant(JsonTransformer::new, in, r.text());
    }

    /** {@code answer} as an OpenAI-style SSE answer of 5-character text deltas, then {@code [DONE]}. */
    private static String sseDeltas(String answer) throws Exception {
        StringBuilder sse = new StringBuilder();
        int id = 0;
        for (int at = 0; at < answer.length(); at += 5) {
            String token = answer.substring(at, Math.min(answer.length(), at + 5));
            sse.append(SseTransformerTest.delta(Integer.toString(id++), 0, MAPPER.writeValueAsString(token)));
        }
        return sse.append("data: [DONE]\n\n").toString();
    }

    /** The text deltas of an SSE answer, joined. */
    private static String joinedDeltas(String sse) throws Exception {
        StringBuilder joined = new StringBuilder();
        for (String line : sse.split("\n")) {
            if (line.startsWith("data: {")) {
                joined.append(MAPPER.readTree(line.substring(6))
                        .at("/choices/0/delta/content")
                        .asText());
            }
        }
        return joined.toString();
    }

    /** The SSE transformer gives {@code whole} for {@code in} in random chunks of at most 1, 3 and 17 bytes. */
    private static void assertSameAtEverySseChunking(String in, String whole) {
        byte[] b = in.getBytes(StandardCharsets.UTF_8);
        for (int max : new int[] {1, 3, 17}) {
            assertThat(Bodies.run(SseTransformer::new, Bodies.rules(ActionKind.REDACT), b, new Random(max), max)
                            .text())
                    .isEqualTo(whole);
        }
    }

    /**
     * {@code in} as text under a blocking rule, in random chunks of at most 1, 8, … 36 bytes: blocked, and no 6 bytes
     * of the key written.
     */
    private static void assertBlockedWithoutTheKey(String in) {
        byte[] b = in.getBytes(StandardCharsets.UTF_8);
        for (int max = 1; max < 40; max += 7) {
            Bodies.Result r = Bodies.run(TEXT, Bodies.rules(ActionKind.BLOCK), b, new Random(max), max);
            assertThat(r.blocked()).isNotNull();
            for (int k = 0; k + 6 <= D.length(); k++) {
                assertThat(r.text()).doesNotContain(D.substring(k, k + 6));
            }
        }
    }
}
