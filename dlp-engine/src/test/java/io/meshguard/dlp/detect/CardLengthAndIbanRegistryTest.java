package io.meshguard.dlp.detect;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** No 12-digit cards on any path, and the whole ISO 13616 registry (Timor-Leste included). */
class CardLengthAndIbanRegistryTest {
    /** {@code body} plus the Luhn check digit. */
    static String withLuhn(String body) {
        for (int d = 0; d <= 9; d++) {
            if (Checksums.luhn(body + d)) {
                return body + d;
            }
        }
        throw new AssertionError();
    }

    @Test
    void twelveDigitMaestro_isNoCard_thirteenIs() {
        String twelve = withLuhn("50180000000");
        String thirteen = withLuhn("501800000000");
        assertThat(Checksums.cardBrand(twelve)).isFalse();
        assertThat(Checksums.cardBrand(thirteen)).isTrue();
        for (String brand : new String[] {"4", "51", "34", "6011", "3530", "62", "300", "50", "9410"}) {
            String n = withLuhn(brand + "0".repeat(11 - brand.length()));
            assertThat(Checksums.cardBrand(n)).as(n).isFalse();
        }
    }

    static Map<String, Integer> registry() throws Exception {
        Map<String, Integer> m = new LinkedHashMap<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(
                CardLengthAndIbanRegistryTest.class.getResourceAsStream("iban-registry.txt"),
                StandardCharsets.UTF_8))) {
            r.lines()
                    .filter(l -> !l.startsWith("#") && !l.isBlank())
                    .forEach(l -> m.put(l.substring(0, 2), Integer.parseInt(l.substring(3, 5))));
        }
        return m;
    }

    /** A valid IBAN of country {@code cc} and length {@code len}: BBAN digits from {@code seed}, check digits set. */
    static String iban(String cc, int len, long seed) {
        StringBuilder bban = new StringBuilder();
        java.util.Random r = new java.util.Random(seed);
        while (bban.length() < len - 4) {
            bban.append(r.nextInt(10));
        }
        String moved = bban + cc + "00";
        StringBuilder num = new StringBuilder();
        for (char c : moved.toCharArray()) {
            num.append(Character.isLetter(c) ? String.valueOf(c - 'A' + 10) : String.valueOf(c));
        }
        int check =
                98 - new BigInteger(num.toString()).mod(BigInteger.valueOf(97)).intValue();
        return cc + (check < 10 ? "0" : "") + check + bban;
    }

    @Test
    void registry_isTheWholeCurrentRegistry() throws Exception {
        Map<String, Integer> m = registry();
        assertThat(m)
                .hasSizeGreaterThanOrEqualTo(89)
                .containsEntry("TL", 23)
                .containsEntry("NO", 15)
                .containsEntry("RU", 33)
                .containsEntry("LC", 32)
                .containsEntry("FK", 18)
                .containsEntry("MN", 20)
                .containsEntry("OM", 23)
                .containsEntry("YE", 30)
                .containsEntry("HN", 28)
                .containsEntry("SV", 28);
        m.forEach((cc, len) -> assertThat(Checksums.ibanLength(cc)).as(cc).isEqualTo(len));
    }

    @Test
    void timorLeste_registryExample_isValid() {
        assertThat(Checksums.ibanLength("TL")).isEqualTo(23);
        assertThat(Checksums.ibanMod97("TL380080012345678910157")).isTrue();
    }
}
