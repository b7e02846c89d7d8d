package io.meshguard.dlp.content;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.dlp.scan.ActionKind;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

class FormTransformerTest {
    private static final Bodies.Factory FORM = FormTransformer::new;

    @Test
    void decodesFieldsScansThemAndKeepsTheOriginalEncodingElsewhere() {
        Bodies.Result r = Bodies.whole(
                FORM, ActionKind.MASK, "name=Hong+Gil%2Ddong&card=4111+1111+1111+1111&mail=kim%40bank.co.kr&x=%ZZ");
        assertThat(r.text()).isEqualTo("name=Hong+Gil%2Ddong&card=****+****+****+1111&mail=***%40****.co.kr&x=%ZZ");
        assertThat(r.findings()).containsExactly("card@form:card", "email@form:mail");
    }

    @Test
    void output_isIdenticalWhateverTheChunking() {
        byte[] in = "a=1&card=4111%201111%201111%201111&rrn=960121-1021413&note=%ED%95%9C+AKIAIOSFODNN7EXAMPLE&"
                .repeat(20)
                .getBytes(StandardCharsets.UTF_8);
        Bodies.Result expected = Bodies.run(FORM, Bodies.rules(ActionKind.REDACT), in, null, 0);
        assertThat(expected.findings()).hasSizeGreaterThanOrEqualTo(60);
        Random random = new Random(3);
        for (int round = 0; round < 100; round++) {
            Bodies.Result r = Bodies.run(FORM, Bodies.rules(ActionKind.REDACT), in, random, 1 + random.nextInt(20));
            assertThat(r.text()).isEqualTo(expected.text());
        }
    }

    @Test
    void fieldName_isContextForItsValue_asAJsonKeyIs() {
        Bodies.Result r = Bodies.whole(
                FORM, ActionKind.REDACT, "mobile_phone=01012345678&sku=01012345678&api%5Fkey=q8ZrT3vLx9WmN2pKa7Yc");
        assertThat(r.text())
                .isEqualTo("mobile_phone=%5BREDACTED%3Akr_phone%5D&sku=01012345678"
                        + "&api%5Fkey=%5BREDACTED%3Asecret%5D");
        byte[] in = "mobile_phone=01012345678&sku=01012345678&api%5Fkey=q8ZrT3vLx9WmN2pKa7Yc"
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        for (int max = 1; max < 6; max++) {
            assertThat(Bodies.run(FORM, Bodies.rules(ActionKind.REDACT), in, new java.util.Random(max), max)
                            .text())
                    .isEqualTo(r.text());
        }
    }
}
