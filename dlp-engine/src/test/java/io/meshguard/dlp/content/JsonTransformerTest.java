package io.meshguard.dlp.content;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshguard.dlp.scan.ActionKind;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

class JsonTransformerTest {
    private static final Bodies.Factory JSON = JsonTransformer::new;
    private static final ObjectMapper MAPPER = new ObjectMapper();

    @Test
    void masksInsideStringValues_keepsDocumentValidAndUntouchedBytesVerbatim() throws Exception {
        String in = "{\"customer\": {\"name\": \"Kim \\u00e9\\n\", \"card\": \"4111-1111-1111-1111\","
                + " \"note\": \"call 010-1234-5678 \\\"now\\\"\"}, \"tags\": [\"a\", true, null, 1.5e3]}";
        Bodies.Result r = Bodies.whole(JSON, ActionKind.MASK, in);
        assertThat(r.text())
                .isEqualTo("{\"customer\": {\"name\": \"Kim \\u00e9\\n\", \"card\": \"****-****-****-1111\","
                        + " \"note\": \"call ***-****-5678 \\\"now\\\"\"}, \"tags\": [\"a\", true, null, 1.5e3]}");
        assertThat(r.findings()).containsExactly("card@/customer/card", "kr_phone@/customer/note");
        MAPPER.readTree(r.text());
    }

    @Test
    void findsValuesHiddenBehindUnicodeEscapes_andReEscapesTheReplacement() throws Exception {
        String in = "{\"v\":\"\\u0034111 1111 1111 1111\",\"q\":\"say \\\"hi\\\"\"}";
        Bodies.Result r = Bodies.whole(JSON, ActionKind.REDACT, in);
        assertThat(r.text()).isEqualTo("{\"v\":\"[REDACTED:card]\",\"q\":\"say \\\"hi\\\"\"}");
    }

    @Test
    void cardNumberStoredAsNumber_becomesAMaskedString() throws Exception {
        Bodies.Result r = Bodies.whole(JSON, ActionKind.MASK, "{\"pan\": 4111111111111111, \"n\": 42}");
        assertThat(r.text()).isEqualTo("{\"pan\": \"************1111\", \"n\": 42}");
        assertThat(MAPPER.readTree(r.text()).get("pan").isTextual()).isTrue();
    }

    @Test
    void malformedJson_isScannedAsTextFromTheBrokenByteOn() {
        Bodies.Result r =
                Bodies.whole(JSON, ActionKind.REDACT, "{\"a\": \"ok\"} garbage 4111 1111 1111 1111 and \"unterminated");
        assertThat(r.text()).isEqualTo("{\"a\": \"ok\"} garbage [REDACTED:card] and \"unterminated");
        assertThat(r.findings()).containsExactly("card@body");
    }

    @Test
    void unterminatedString_atEndOfBody_isStillScannedAndNothingIsDropped() {
        Bodies.Result r = Bodies.whole(JSON, ActionKind.REDACT, "{\"a\": \"card 4111111111111111");
        assertThat(r.text()).isEqualTo("{\"a\": \"card [REDACTED:card]");
    }

    @Test
    void invalidUtf8InsideStrings_passesThroughUnchanged() {
        byte[] in = {'{', '"', 'a', '"', ':', '"', (byte) 0xC3, (byte) 0x28, ' ', (byte) 0xFF, '"', '}'};
        ByteSink out = new ByteSink();
        JsonTransformer t =
                new JsonTransformer(Bodies.rules(ActionKind.MASK), Bodies.HASHER, out, FindingListener.NONE);
        t.write(in, 0, in.length);
        t.finish();
        assertThat(out.drain()).isEqualTo(in);
        assertThat(t.malformedAt()).isEmpty();
    }

    @Test
    void output_isIdenticalWhateverTheChunking() {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < 40; i++) {
            sb.append("{\"id\":")
                    .append(i)
                    .append(",\"card\":\"4111 1111 1111 1111\",\"mail\":\"user")
                    .append(i)
                    .append(
                            "@bank.co.kr\",\"text\":\"주민번호 960121-1021413 \\ud83d\\ude00 \\u0041KIAIOSFODNN7EXAMPLE\"},");
        }
        sb.append("{\"pan\":5555555555554444}]");
        byte[] in = sb.toString().getBytes(StandardCharsets.UTF_8);
        Bodies.Result expected = Bodies.run(JSON, Bodies.rules(ActionKind.MASK), in, null, 0);
        assertThat(expected.findings()).hasSize(40 * 4 + 1);
        Random random = new Random(7);
        for (int round = 0; round < 200; round++) {
            int max = 1 + random.nextInt(round % 2 == 0 ? 5 : 300);
            Bodies.Result r = Bodies.run(JSON, Bodies.rules(ActionKind.MASK), in, random, max);
            assertThat(r.text()).as("round %d", round).isEqualTo(expected.text());
            assertThat(r.findings()).isEqualTo(expected.findings());
        }
    }
}
