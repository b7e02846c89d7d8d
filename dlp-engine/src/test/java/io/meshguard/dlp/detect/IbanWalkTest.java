package io.meshguard.dlp.detect;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The built-in pass works the IBAN check out as it walks the characters: it must answer what the standard's does. */
class IbanWalkTest {
    private static final String[] COUNTRIES = {"DE", "GB", "NO", "FR", "MT", "JO", "BE", "NL", "KW"};

    @Test
    void iban_isReportedExactlyWhenTheMod97CheckOfItsCharactersPasses_withOrWithoutSpaces() {
        Map<BuiltinDetector, Integer> enabled = new EnumMap<>(BuiltinDetector.class);
        enabled.put(BuiltinDetector.IBAN, 0);
        Random random = new Random(22);
        int reported = 0;
        for (int round = 0; round < 20_000; round++) {
            String country = COUNTRIES[random.nextInt(COUNTRIES.length)];
            int len = Checksums.ibanLength(country);
            assertThat(len).as(country).isGreaterThan(0);
            StringBuilder compact = new StringBuilder(country);
            compact.append(random.nextInt(10)).append(random.nextInt(10));
            while (compact.length() < len) {
                // letters anywhere in the body (as in British bank codes), digits mostly
                compact.append(
                        random.nextInt(5) == 0 ? (char) ('A' + random.nextInt(26)) : (char) ('0' + random.nextInt(10)));
            }
            if (round % 2 == 0) { // check digits that pass, for half of them
                for (int check = 0; check < 100; check++) {
                    compact.replace(2, 4, (check < 10 ? "0" : "") + check);
                    if (Checksums.ibanMod97(compact)) {
                        break;
                    }
                }
            }
            String printed = random.nextBoolean()
                    ? compact.toString()
                    : compact.toString().replaceAll("(.{4})", "$1 ").trim();
            String text = "IBAN " + printed + (random.nextBoolean() ? "." : "");
            List<Candidate> found = new ArrayList<>();
            TextWindow t = new TextWindow();
            byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
            t.append(bytes, 0, bytes.length);
            t.markComplete();
            new BuiltinRecognizer(enabled, true).scan(t, found::add);
            boolean valid = Checksums.ibanMod97(compact);
            assertThat(found)
                    .as(text)
                    .isEqualTo(valid ? List.of(new Candidate(0, 5, 5 + printed.length(), 0.9)) : List.of());
            reported += valid ? 1 : 0;
        }
        assertThat(reported).as("valid IBANs among the inputs").isGreaterThan(9_500);
    }
}
