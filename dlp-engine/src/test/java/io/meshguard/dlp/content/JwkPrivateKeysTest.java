package io.meshguard.dlp.content;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshguard.dlp.detect.JwkMembers;
import io.meshguard.dlp.scan.ActionKind;
import io.meshguard.testing.SlowTest;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * JWK private keys in JSON bodies: found by the structure pass whatever the member order, spelling, chunking and
 * nesting; public keys (a JWKS endpoint's answer) are not findings; every malformed shape has a defined outcome.
 */
@SlowTest
class JwkPrivateKeysTest {
    private static final Bodies.Factory JSON = JsonTransformer::new;
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final String R = "[REDACTED:private_key]";

    /** A base64url value of {@code n} characters, fixed per seed (the shape of key material). */
    static String b64(int seed, int n) {
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        Random r = new Random(seed);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            sb.append(alphabet.charAt(r.nextInt(64)));
        }
        return sb.toString();
    }

    static final String X = b64(1, 43);
    static final String Y = b64(2, 43);
    static final String D = b64(3, 43);
    static final String N = b64(4, 342);

    private static Bodies.Result redact(String in) {
        return Bodies.whole(JSON, ActionKind.REDACT, in);
    }

    @Test
    void ecKey_privateMemberBeforeKty_isRedacted_publicMembersStay() throws Exception {
        String in = "{\"d\":\"" + D + "\",\"crv\":\"P-256\",\"x\":\"" + X + "\",\"y\":\"" + Y + "\",\"kty\":\"EC\"}";
        Bodies.Result r = redact(in);
        assertThat(r.text()).isEqualTo(in.replace(D, R));
        assertThat(r.findings()).containsExactly("private_key@/d");
        MAPPER.readTree(r.text());
    }

    @Test
    void rsaKey_everyPrivateMember_isRedacted_inAnyOrder() {
        String[] priv = {"d", "p", "q", "dp", "dq", "qi"};
        StringBuilder first = new StringBuilder("{\"kty\":\"RSA\",\"n\":\"" + N + "\",\"e\":\"AQAB\"");
        StringBuilder last = new StringBuilder("{");
        for (int k = 0; k < priv.length; k++) {
            first.append(",\"")
                    .append(priv[k])
                    .append("\":\"")
                    .append(b64(10 + k, 171))
                    .append('"');
            last.append('"')
                    .append(priv[k])
                    .append("\":\"")
                    .append(b64(10 + k, 171))
                    .append("\",");
        }
        first.append('}');
        last.append("\"e\":\"AQAB\",\"n\":\"").append(N).append("\",\"kty\":\"RSA\"}");
        for (String in : new String[] {first.toString(), last.toString()}) {
            Bodies.Result r = redact(in);
            String expected = in;
            for (int k = 0; k < priv.length; k++) {
                expected = expected.replace(b64(10 + k, 171), R);
            }
            assertThat(r.text()).isEqualTo(expected).contains(N);
            assertThat(r.findings()).hasSize(6).allMatch(f -> f.startsWith("private_key@/"));
        }
    }

    @Test
    void okpAndOctKeys_areFound_asEcIs() {
        String okp = "{\"crv\":\"Ed25519\",\"d\":\"" + D + "\",\"x\":\"" + X + "\",\"kty\":\"OKP\"}";
        String oct = "{\"k\":\"" + b64(5, 43) + "\",\"alg\":\"HS256\",\"kty\":\"oct\"}";
        assertThat(redact(okp).text()).isEqualTo(okp.replace(D, R));
        assertThat(redact(oct).text()).isEqualTo(oct.replace(b64(5, 43), R));
    }

    @Test
    void publicJwks_endpointAnswer_passesByteForByte() {
        String in = "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"k1\",\"use\":\"sig\",\"alg\":\"RS256\",\"n\":\"" + N
                + "\",\"e\":\"AQAB\"},{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" + X + "\",\"y\":\"" + Y
                + "\"},{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" + X + "\"}]}";
        Bodies.Result r = redact(in);
        assertThat(r.text()).isEqualTo(in);
        assertThat(r.findings()).isEmpty();
    }

    @Test
    void membersPrivateInAnotherKeyType_orNotKeyMaterial_pass() {
        // "p" is private in RSA only; "d" holding a date or a short word is no key material; no kty is no JWK.
        String ecWithP = "{\"kty\":\"EC\",\"p\":\"" + D + "\"}";
        String dates = "{\"kty\":\"RSA\",\"d\":\"2024-01-01T00:00:00Z\",\"q\":\"short\"}";
        String noKty = "{\"d\":\"" + D + "\",\"k\":\"" + X + "\"}";
        for (String in : new String[] {ecWithP, dates, noKty}) {
            Bodies.Result r = redact(in);
            assertThat(r.text()).isEqualTo(in);
            assertThat(r.findings()).isEmpty();
        }
    }

    @Test
    void escapedMemberNames_whitespace_andEscapedValues_areReadDecoded() {
        String in = "{ \"\\u0064\" :\n\t\"" + D.substring(0, 10) + "\\u0041" + D.substring(11) + "\" ,\r\n"
                + " \"k\\u0074y\" : \"\\u0045C\" }";
        Bodies.Result r = redact(in);
        assertThat(r.text()).isEqualTo("{ \"\\u0064\" :\n\t\"" + R + "\" ,\r\n \"k\\u0074y\" : \"\\u0045C\" }");
        assertThat(r.findings()).containsExactly("private_key@/d");
    }

    @Test
    void nestedInArraysAndObjects_eachKeyDecidedByItsOwnObject() {
        String in = "{\"result\":{\"keys\":[[{\"d\":\"" + D + "\",\"kty\":\"EC\",\"inner\":{\"kty\":\"RSA\"}}],"
                + "{\"kty\":\"EC\",\"x\":\"" + X + "\",\"sub\":{\"d\":\"" + Y + "\"}}]}}";
        Bodies.Result r = redact(in);
        // the first object's d is private; the second's nested object has no kty of its own: not a JWK
        assertThat(r.text()).isEqualTo(in.replace(D, R));
        assertThat(r.findings()).containsExactly("private_key@/result/keys/0/0/d");
    }

    @Test
    void everySplitPoint_andOneByteChunks_giveTheWholeBodysOutput() {
        String in = "[{\"d\":\"" + D + "\",\"x\":\"" + X + "\",\"\\u006bty\":\"EC\"},{\"kty\":\"oct\",\"k\":\"" + Y
                + "\"},{\"kty\":\"RSA\",\"n\":\"" + X + "\",\"e\":\"AQAB\"}]";
        byte[] b = in.getBytes(StandardCharsets.UTF_8);
        Bodies.Result whole = redact(in);
        assertThat(whole.text()).isEqualTo(in.replace(D, R).replace(Y, R));
        for (int split = 1; split < b.length; split++) {
            Bodies.Result r = split(b, split);
            assertThat(r.text()).as("split at %d", split).isEqualTo(whole.text());
            assertThat(r.findings()).isEqualTo(whole.findings());
        }
        Bodies.Result ones = Bodies.run(JSON, Bodies.rules(ActionKind.REDACT), b, new Random(1), 1);
        assertThat(ones.text()).isEqualTo(whole.text());
    }

    private static Bodies.Result split(byte[] b, int at) {
        ByteSink out = new ByteSink();
        java.util.List<String> findings = new java.util.ArrayList<>();
        JsonTransformer t = new JsonTransformer(
                Bodies.rules(ActionKind.REDACT), Bodies.HASHER, out, (f, l) -> findings.add(f.detector() + "@" + l));
        java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
        t.write(b, 0, at);
        all.writeBytes(out.drain());
        t.write(b, at, b.length - at);
        t.finish();
        all.writeBytes(out.drain());
        return new Bodies.Result(
                all.toString(StandardCharsets.UTF_8), findings, t.blockedBy().orElse(null));
    }

    @Test
    void outputStopsAtAWaitingMember_untilItsObjectDecides() {
        ByteSink out = new ByteSink();
        JsonTransformer t =
                new JsonTransformer(Bodies.rules(ActionKind.REDACT), Bodies.HASHER, out, FindingListener.NONE);
        byte[] head = ("{\"a\":1,\"d\":\"" + D + "\",\"x\":\"" + X + "\"").getBytes(StandardCharsets.UTF_8);
        t.write(head, 0, head.length);
        assertThat(new String(out.drain(), StandardCharsets.UTF_8))
                .isEqualTo("{\"a\":1,\"d\":\"")
                .doesNotContain(D);
        assertThat(t.heldBack()).isPositive();
        byte[] tail = ",\"kty\":\"EC\"}".getBytes(StandardCharsets.UTF_8);
        t.write(tail, 0, tail.length);
        t.finish();
        assertThat(new String(out.drain(), StandardCharsets.UTF_8))
                .isEqualTo(R + "\",\"x\":\"" + X + "\",\"kty\":\"EC\"}");
    }

    @Test
    void blockAction_blocks_andNoByteOfTheKeyIsWritten() {
        String in = "{\"d\":\"" + D + "\",\"kty\":\"EC\"}";
        Bodies.Result r = Bodies.whole(JSON, ActionKind.BLOCK, in);
        assertThat(r.blocked()).isNotNull();
        assertThat(r.blocked().detector()).isEqualTo("private_key");
        assertThat(r.text()).doesNotContain(D.substring(0, 8));
    }

    @Test
    void maskAndHashActions_keepTheDocumentValid() throws Exception {
        String in = "{\"kty\":\"EC\",\"d\":\"" + D + "\"}";
        Bodies.Result masked = Bodies.whole(JSON, ActionKind.MASK, in);
        assertThat(MAPPER.readTree(masked.text()).get("d").asText())
                .endsWith(D.substring(39))
                .doesNotContain(D.substring(0, 8));
        Bodies.Result hashed = Bodies.whole(JSON, ActionKind.HASH, in);
        assertThat(MAPPER.readTree(hashed.text()).get("d").asText()).startsWith("[private_key:");
    }

    @Test
    void heldOutputIsBounded_pastTheBoundTheWaitingMemberIsAPrivateKey() {
        String pad = "lorem ipsum ".repeat(JsonTransformer.MAX_HOLD / 12 + 100);
        String in = "{\"d\":\"" + D + "\",\"note\":\"" + pad + "\"}";
        ByteSink out = new ByteSink();
        JsonTransformer t =
                new JsonTransformer(Bodies.rules(ActionKind.REDACT), Bodies.HASHER, out, FindingListener.NONE);
        byte[] b = in.getBytes(StandardCharsets.UTF_8);
        java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
        long maxHeld = 0;
        for (int i = 0; i < b.length; i += 4096) {
            t.write(b, i, Math.min(4096, b.length - i));
            maxHeld = Math.max(maxHeld, t.heldBack());
            all.writeBytes(out.drain());
        }
        t.finish();
        all.writeBytes(out.drain());
        assertThat(maxHeld).isLessThanOrEqualTo(JsonTransformer.MAX_HOLD + 4096 + 64);
        assertThat(all.toString(StandardCharsets.UTF_8)).isEqualTo(in.replace(D, R));
    }

    @Test
    void documentEndingOrBreaking_whileAMemberWaits_treatsItAsAPrivateKey() {
        String truncated = "{\"d\":\"" + D + "\",\"x\":\"" + X;
        String broken = "{\"d\":\"" + D + "\", oops \"kty\": \"EC\"}";
        assertThat(redact(truncated).text()).isEqualTo(truncated.replace(D, R));
        assertThat(redact(broken).text()).isEqualTo(broken.replace(D, R));
    }

    @Test
    void unterminatedPrivateValue_atTheEnd_isAPrivateKey() {
        String in = "{\"kty\":\"EC\",\"d\":\"" + D;
        assertThat(redact(in).text()).isEqualTo("{\"kty\":\"EC\",\"d\":\"" + R);
    }

    @Test
    void oversizedMemberValue_isNoKeyMember_andIsNotHeld() {
        String big = b64(9, JwkMembers.MAX_VALUE + 1);
        String in = "{\"kty\":\"oct\",\"k\":\"" + big + "\"}";
        Bodies.Result r = redact(in);
        assertThat(r.findings()).doesNotContain("private_key@/k");
    }

    @Test
    void nestingDeeperThanTheBound_isScannedAsText_withoutOverflowingTheStack() {
        int depth = 100_000;
        String in = "[".repeat(depth) + "\"card 4111 1111 1111 1111\"" + "]".repeat(depth);
        ByteSink out = new ByteSink();
        JsonTransformer t =
                new JsonTransformer(Bodies.rules(ActionKind.REDACT), Bodies.HASHER, out, FindingListener.NONE);
        byte[] b = in.getBytes(StandardCharsets.UTF_8);
        t.write(b, 0, b.length);
        t.finish();
        assertThat(t.malformedAt()).contains((long) JsonTransformer.MAX_DEPTH);
        assertThat(new String(out.drain(), StandardCharsets.UTF_8)).contains("card [REDACTED:card]");
    }

    @Test
    void unbalancedJson_andBrokenUtf8_haveDefinedOutcomes() {
        String unbalanced = "{\"kty\":\"EC\",\"d\":\"" + D + "\"]}";
        Bodies.Result r = redact(unbalanced);
        assertThat(r.text()).startsWith("{\"kty\":\"EC\",\"d\":\"" + R + "\"");
        byte[] broken = ("{\"kty\":\"EC\",\"d\":\"" + D.substring(0, 20)).getBytes(StandardCharsets.UTF_8);
        byte[] in = new byte[broken.length + 4];
        System.arraycopy(broken, 0, in, 0, broken.length);
        in[broken.length] = (byte) 0xC3;
        in[broken.length + 1] = '(';
        in[broken.length + 2] = '"';
        in[broken.length + 3] = '}';
        Bodies.Result b = Bodies.run(JSON, Bodies.rules(ActionKind.REDACT), in, null, 0);
        // a value with a byte outside base64url is no key material: it passes as it came
        assertThat(b.text().getBytes(StandardCharsets.ISO_8859_1).length).isPositive();
        assertThat(b.findings()).isEmpty();
    }
}
