package io.meshguard.dlp.detect;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Trying a number only with the validators its first digit run can match, and the card validator neither inside a
 * card already found nor where the last card walk rules a card out, must find exactly what trying every enabled validator at every digit run finds, whatever detectors
 * are enabled and however the text arrives.
 */
class NumericDispatchTest {
    private static final String[] PIECES = {
        "4111 1111 1111 1111",
        "5105-1051-0510-5100",
        "5105105105105100",
        "5105 1051 0510 5100 5105",
        "3704 0044 0532 0130 00",
        "4111 1111 1111 1111 1111",
        "960121-1021413",
        "9601211021413",
        "960121-5021413",
        "010-1234-5678",
        "01012345678",
        "02-123-4567",
        "02)123-4567",
        "031.123.4567",
        "+82 10-1234-5678",
        "+82-010-1234-5678",
        "123-45-67891",
        "1234567891",
        "220-81-62517",
        "2208162517",
        "192.168.0.1",
        "10.0.0.255",
        "1.2.3.4.5",
        "256.1.1.1",
        "0",
        "00",
        "12",
        "123",
        "1234",
        "12345",
        "123456",
        "1234567",
        "12345678",
        "123456789",
        "1234567890123",
        "12345678901234567890123",
        "-",
        ".",
        " ",
        "  ",
        ")",
        "(",
        "+",
        "a",
        "IP",
        "x9",
        "tel ",
        "카드 ",
        "\n",
        // a card in a later group of a walk: from 12, 16, exactly 12 digits on; after a walk that stopped at a
        // separator of the other kind, which a walk from the later group crosses; after one ended by a letter
        "12 4012 8888 8888 1881",
        "7 5000 0000 0009",
        "1234 5678-4012-8888-8888-1881",
        "1234 5678 9012 3456abc",
        // 12 or more digits from a later group: with no brand's prefix (not walked again), with one (walked again;
        // a card found there), with a six-digit prefix across a separator
        "0044 0532 0130 0000 00",
        "00 4111 1111 1111 1111",
        "0 6221 2600 0000 0000",
        "9 3704 0044 0532 0130 00",
        // first digits that start no brand (no walk from there) and their neighbours that do, alone, after a
        // separator and as a later group: 94, 81, 62, 2221 and a 9, 8, 1, 7, 0 before them
        "9400 0000 0000 0007",
        "9500 0000 0000 0007",
        "8100 0000 0000 0002",
        "8200 0000 0000 0002",
        "6200000000000005",
        "2221-0000-0000-0009",
        "9 9400 0000 0000 0007",
        "8 8100 0000 0000 0002",
        "1-6200-0000-0000-0005",
        "70 2221 0000 0000 0009",
        "9",
        "8",
        "94",
        "81",
        "7",
        "1"
    };

    @Test
    void byShape_findsWhatEveryValidatorFinds_forAnyEnabledSetAndChunking() {
        BuiltinDetector[] numeric = {
            BuiltinDetector.CARD,
            BuiltinDetector.KR_RRN,
            BuiltinDetector.KR_FRN,
            BuiltinDetector.KR_PHONE,
            BuiltinDetector.KR_BRN,
            BuiltinDetector.IPV4
        };
        Random random = new Random(21);
        java.util.Set<Integer> kinds = new java.util.TreeSet<>();
        for (int round = 0; round < 3000; round++) {
            Map<BuiltinDetector, Integer> enabled = new EnumMap<>(BuiltinDetector.class);
            for (int k = 0; k < numeric.length; k++) {
                if (round % 4 == 0 || random.nextInt(3) != 0) {
                    enabled.put(numeric[k], k);
                }
            }
            StringBuilder sb = new StringBuilder();
            for (int k = 0, n = 1 + random.nextInt(30); k < n; k++) {
                sb.append(PIECES[random.nextInt(PIECES.length)]);
            }
            byte[] text = sb.toString().getBytes(StandardCharsets.UTF_8);
            long seed = random.nextLong();
            List<Candidate> every = ChunkedScans.scan(new BuiltinRecognizer(enabled, false), text, new Random(seed));
            List<Candidate> byShape = ChunkedScans.scan(new BuiltinRecognizer(enabled, true), text, new Random(seed));
            List<Candidate> byShapeOtherChunks =
                    ChunkedScans.scan(new BuiltinRecognizer(enabled, true), text, new Random(~seed));
            assertThat(byShape).as("%s in \"%s\"", enabled.keySet(), sb).isEqualTo(every);
            assertThat(byShapeOtherChunks)
                    .as("%s in \"%s\"", enabled.keySet(), sb)
                    .isEqualTo(every);
            every.forEach(c -> kinds.add(c.detector()));
        }
        assertThat(kinds).as("the texts hold findings of every numeric kind").containsExactly(0, 1, 2, 3, 4, 5);
    }
}
