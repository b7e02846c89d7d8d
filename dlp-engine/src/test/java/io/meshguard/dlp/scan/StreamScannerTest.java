package io.meshguard.dlp.scan;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

class StreamScannerTest {
    private static final String SAMPLE = """
            Customer 홍길동 (주민등록번호 960121-1021413) paid with card 4111 1111 1111 1111 yesterday.
            Contact: hong.gildong@example.co.kr or call 010-1234-5678. IBAN DE89 3704 0044 0532 0130 00.
            Order id 4012888888881881 imei 490154203237518, server 10.0.12.7, fe80::1ff:fe23:4567:890a.
            AWS key AKIAIOSFODNN7EXAMPLE and token ghp_abcdefghijklmnopqrstuvwxyz0123456789 in the log.
            jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U end
            password=Zx8vQ2mN4pL7rT1wY6uB3kJ9hG5fD0sA here; 사업자등록번호 220-81-62517, tel 02-312-3456.
            -----BEGIN RSA PRIVATE KEY-----
            MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu
            KUpRKfFLfRYC9AIKjbJTWit+CqvjWYzvQwECAwEAAQJAIJLixBy2qpFoS4DSmoEm
            -----END RSA PRIVATE KEY-----
            That's all, 감사합니다.
            """;

    @Test
    void redactsEveryBuiltinKindInMixedText() {
        String out = Scans.redactAll(SAMPLE);
        assertThat(out)
                .contains("(주민등록번호 [REDACTED:kr_rrn])")
                .contains("card [REDACTED:card] yesterday")
                .contains("Contact: [REDACTED:email] or call [REDACTED:kr_phone].")
                .contains("IBAN [REDACTED:iban].")
                .contains("server [REDACTED:ipv4], [REDACTED:ipv6].")
                .contains("AWS key [REDACTED:aws_access_key] and token [REDACTED:github_token] in")
                .contains("jwt [REDACTED:jwt] end")
                .contains("password=[REDACTED:secret] here")
                .contains("사업자등록번호 [REDACTED:kr_brn], tel [REDACTED:kr_phone].")
                .contains("[REDACTED:private_key]\nThat's all, 감사합니다.")
                // A negative word near a Luhn-valid card no longer unmasks it; a 15-digit number starting
                // with 4 has no brand's length and stays.
                .contains("Order id [REDACTED:card] imei 490154203237518");
    }

    @Test
    void malformedUtf8_passesThroughByteForByte_andValuesAroundItAreStillFound() {
        byte[] prefix = {(byte) 0xC3, (byte) 0x28, ' ', (byte) 0xFF, (byte) 0xE2, (byte) 0x82, ' '};
        byte[] card = "4111 1111 1111 1111".getBytes(StandardCharsets.US_ASCII);
        byte[] suffix = {' ', (byte) 0xF0, (byte) 0x9F};
        java.io.ByteArrayOutputStream in = new java.io.ByteArrayOutputStream();
        in.writeBytes(prefix);
        in.writeBytes(card);
        in.writeBytes(suffix);
        java.io.ByteArrayOutputStream want = new java.io.ByteArrayOutputStream();
        want.writeBytes(prefix);
        want.writeBytes("**** **** **** 1111".getBytes(StandardCharsets.US_ASCII));
        want.writeBytes(suffix);
        ScanRules rules = Scans.allBuiltins(ActionKind.MASK);
        assertThat(Scans.whole(rules, in.toByteArray()).bytes()).isEqualTo(want.toByteArray());
        assertThat(Scans.chunked(rules, in.toByteArray(), new Random(1), 3).bytes())
                .isEqualTo(want.toByteArray());
    }

    @Test
    void output_isByteIdentical_whateverTheChunking() {
        byte[] input = SAMPLE.repeat(3).getBytes(StandardCharsets.UTF_8);
        ScanRules rules = Scans.allBuiltins(ActionKind.MASK);
        byte[] expected = Scans.whole(rules, input).bytes();
        Random random = new Random(42);
        for (int round = 0; round < 300; round++) {
            int maxChunk = 1 + random.nextInt(round % 3 == 0 ? 4 : 97);
            CollectingOutput out = Scans.chunked(rules, input, random, maxChunk);
            assertThat(out.bytes())
                    .as("round %d, chunks up to %d bytes", round, maxChunk)
                    .isEqualTo(expected);
        }
    }
}
