package io.meshguard.dlp.detect;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.dlp.scan.ActionKind;
import io.meshguard.dlp.scan.CollectingOutput;
import io.meshguard.dlp.scan.Finding;
import io.meshguard.dlp.scan.ScanRules;
import io.meshguard.dlp.scan.Scans;
import io.meshguard.dlp.scan.StreamScanner;
import io.meshguard.dlp.scan.ValueHasher;
import io.meshguard.testing.SlowTest;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Positive and negative samples per built-in detector, each scanned alone and inside Korean text, whole and one
 * byte at a time. Sample values are synthetic or published test values (the RRN 960121-1021413 and the card test
 * numbers follow the patterns of well-known public examples).
 */
@SlowTest
class DetectorCorpusTest {
    private static List<String> detect(String text, int chunk) {
        ScanRules rules = Scans.allBuiltins(ActionKind.ALERT);
        CollectingOutput out = new CollectingOutput();
        StreamScanner s = new StreamScanner(rules, ValueHasher.forTenant(new byte[32], ""), out);
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        int step = chunk == 0 ? Math.max(1, b.length) : chunk;
        for (int i = 0; i < b.length; i += step) {
            s.feed(b, i, Math.min(step, b.length - i));
        }
        s.finish();
        assertThat(out.bytes()).isEqualTo(b); // alert never changes bytes
        return out.findings().stream()
                .map(f -> f.detector() + "="
                        + new String(b, (int) f.start(), (int) f.byteLength(), StandardCharsets.UTF_8))
                .toList();
    }

    @ParameterizedTest(name = "{0}: \"{1}\" -> {2}")
    @CsvSource(delimiter = '|', textBlock = """
            card           | 4012888888881881                        | 4012888888881881
            card           | 4012 8888 8888 1881                     | 4012 8888 8888 1881
            card           | 4012-8888-8888-1881                     | 4012-8888-8888-1881
            card           | 378282246310005                         | 378282246310005
            card           | 5555-5555-5555-4444                     | 5555-5555-5555-4444
            card           | 카드번호4012888888881881입니다           | 4012888888881881
            card           | 4012-8888-8888-1882                     | -
            card           | 1748503543012                           | -
            card           | 4012 8888-8888 1881                     | -
            card           | IMEI 490154203237518                    | -
            card           | order no. 4012888888881881              | -
            card           | 40128888888818811                       | -
            card           | ４０１２ ８８８８ ８８８８ １８８１              | ４０１２ ８８８８ ８８８８ １８８１
            card           | ４０１２－８８８８－８８８８－１８８１           | ４０１２－８８８８－８８８８－１８８１
            card           | 카드 4012\u200B8888\u200B8888\u200B1881   | 4012\u200B8888\u200B8888\u200B1881
            card           | 4\u200C0\u200D1\u20602888888881881        | 4\u200C0\u200D1\u20602888888881881
            card           | 4012\u00A08888\u00A08888\u00A01881        | 4012\u00A08888\u00A08888\u00A01881
            card           | 4012\u00AD8888\u00AD8888\u00AD1881        | 4012\u00AD8888\u00AD8888\u00AD1881
            card           | 40128888\uFEFF88881881                    | 40128888\uFEFF88881881
            card           | ４０１２８８８８８８８８１８８２                | -
            card           | IMEI ４９０１５４２０３２３７５１８              | -
            card           | x４０１２８８８８８８８８１８８１               | -
            card           | pages 12\u2013345 and 6789\u20130123 \u201cok\u201d | -
            kr_rrn         | 960121-1021413                          | 960121-1021413
            kr_rrn         | 주민번호 9601211021413                   | 9601211021413
            kr_rrn         | 050912-4000010                          | 050912-4000010
            kr_rrn         | 201015-3123456                          | 201015-3123456
            kr_rrn         | 001332-1021413                          | -
            kr_rrn         | 960230-1021413                          | -
            kr_rrn         | 960121-9021413                          | -
            kr_rrn         | 9601211234567                           | -
            kr_rrn         | 주민번호 ９６０１２１－１０２１４１３             | ９６０１２１－１０２１４１３
            kr_rrn         | 960121\u20111021413                      | 960121\u20111021413
            kr_frn         | 850101-5123456                          | 850101-5123456
            kr_phone       | 010-1234-5678                           | 010-1234-5678
            kr_phone       | +82 10-1234-5678                        | +82 10-1234-5678
            kr_phone       | 02-312-3456                             | 02-312-3456
            kr_phone       | 연락처 01012345678                        | 01012345678
            kr_phone       | 01012345678                             | -
            kr_phone       | 010-12-5678                             | -
            kr_phone       | 010\u20131234\u20135678                   | 010\u20131234\u20135678
            kr_phone       | 010\u22121234\u22125678                   | 010\u22121234\u22125678
            kr_brn         | 220-81-62517                            | 220-81-62517
            kr_brn         | 220-81-62518                            | -
            email          | 문의: hong.gildong+dlp@bank.co.kr 입니다  | hong.gildong+dlp@bank.co.kr
            email          | user@localhost                          | -
            email          | a@b.c                                   | -
            iban           | DE89 3704 0044 0532 0130 00             | DE89 3704 0044 0532 0130 00
            iban           | GB82WEST12345698765432                  | GB82WEST12345698765432
            iban           | DE89 3704 0044 0532 0130 01             | -
            ipv4           | host 192.168.10.254 up                  | 192.168.10.254
            ipv4           | 256.1.1.1                               | -
            ipv4           | version 1.2.3.4                         | -
            ipv6           | addr 2001:db8:85a3::8a2e:370:7334 ok     | 2001:db8:85a3::8a2e:370:7334
            ipv6           | fe80::1ff:fe23:4567:890a                | fe80::1ff:fe23:4567:890a
            ipv6           | at 12:30:45                             | -
            aws_access_key | id=AKIAIOSFODNN7EXAMPLE                 | AKIAIOSFODNN7EXAMPLE
            aws_access_key | AKIAIOSFODNN7EXAMPL                     | -
            gcp_api_key    | key AIzaSyA-1234567890abcdefghijklmnopqrstu | AIzaSyA-1234567890abcdefghijklmnopqrstu
            github_token   | ghp_abcdefghijklmnopqrstuvwxyz0123456789 | ghp_abcdefghijklmnopqrstuvwxyz0123456789
            slack_token    | xoxb-123456789012-abcdefghijkl          | xoxb-123456789012-abcdefghijkl
            stripe_key     | sk_live_abcdefghijklmnop1234            | sk_live_abcdefghijklmnop1234
            jwt            | Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.sig_abcdef | eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.sig_abcdef
            secret         | api_key: Zx8vQ2mN4pL7rT1wY6uB3kJ9hG5fD0sA | Zx8vQ2mN4pL7rT1wY6uB3kJ9hG5fD0sA
            secret         | Zx8vQ2mN4pL7rT1wY6uB3kJ9hG5fD0sA        | -
            secret         | the checksum aaaaaaaaaaaaaaaaaaaaaaaa11 | -
            """)
    void sample(String detector, String text, String expected) {
        for (int chunk : new int[] {0, 1, 5}) {
            List<String> found = detect(text, chunk).stream()
                    .filter(f -> f.startsWith(detector + "="))
                    .toList();
            if (expected.equals("-")) {
                assertThat(found).as("chunk %d", chunk).isEmpty();
            } else {
                assertThat(found).as("chunk %d", chunk).containsExactly(detector + "=" + expected);
            }
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            -----BEGIN RSA PRIVATE KEY-----\\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\\n-----END RSA PRIVATE KEY----- | true
            -----BEGIN CERTIFICATE-----\\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX\\n-----END CERTIFICATE----- | false
            -----BEGIN OPENSSH PRIVATE KEY-----\\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ | true
            """)
    void privateKeys(String pem, boolean found) {
        String text = "config:\n" + pem.replace("\\n", "\n") + "\nend";
        List<String> f = detect(text, 0).stream()
                .filter(s -> s.startsWith("private_key="))
                .toList();
        assertThat(f).hasSize(found ? 1 : 0);
        assertThat(detect(text, 3).stream()
                        .filter(s -> s.startsWith("private_key="))
                        .toList())
                .isEqualTo(f);
    }

    @ParameterizedTest
    @CsvSource({"4012888888881881,true", "4012888888881882,false", "79927398713,true"})
    void luhn(String digits, boolean valid) {
        assertThat(Checksums.luhn(digits)).isEqualTo(valid);
    }

    @ParameterizedTest
    @CsvSource({
        "DE89370400440532013000,true",
        "GB82WEST12345698765432,true",
        "GB82WEST12345698765433,false",
        "NL91ABNA0417164300,true"
    })
    void iban(String iban, boolean valid) {
        assertThat(Checksums.ibanMod97(iban)).isEqualTo(valid);
    }

    @ParameterizedTest
    @CsvSource({
        "9601211021413,true,true",
        "9601211234567,true,false",
        "0002293000000,true,false",
        "0102293000000,false,false",
        "9613011021413,false,false"
    })
    void krRegistration(String digits, boolean dateValid, boolean checksum) {
        assertThat(Checksums.krRegistrationDate(digits)).isEqualTo(dateValid);
        if (dateValid) {
            assertThat(Checksums.krRrnChecksum(digits)).isEqualTo(checksum);
        }
    }

    @org.junit.jupiter.api.Test
    void entropy_isTheShannonEntropyOfTheBytes_andLeavesTheScratchClear() {
        java.util.Random random = new java.util.Random(9);
        int[] scratch = new int[256];
        for (int round = 0; round < 2_000; round++) {
            byte[] b = new byte[1 + random.nextInt(64)];
            int symbols = 1 + random.nextInt(round % 2 == 0 ? 8 : 256);
            for (int k = 0; k < b.length; k++) {
                b[k] = (byte) random.nextInt(symbols);
            }
            int[] counts = new int[256];
            for (byte x : b) {
                counts[x & 0xff]++;
            }
            double want = 0;
            for (int c : counts) {
                if (c > 0) {
                    double p = c / (double) b.length;
                    want -= p * (Math.log(p) / Math.log(2));
                }
            }
            assertThat(Checksums.entropy(b, 0, b.length, scratch)).isEqualTo(want);
            assertThat(scratch).containsOnly(0);
        }
    }

    static List<Finding> none() {
        return List.of();
    }
}
