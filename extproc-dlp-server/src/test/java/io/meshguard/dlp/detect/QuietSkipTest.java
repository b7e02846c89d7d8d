package io.meshguard.dlp.detect;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The built-in pass's word-at-a-time skip must stop exactly where the byte-by-byte table says. */
class QuietSkipTest {
    private static int naive(byte[] b, int i, int n) {
        while (i < n && BuiltinRecognizer.QUIET[b[i] & 0xff]) {
            i++;
        }
        return i;
    }

    @Test
    void stops_flagsExactlyTheBytesThatAreNotQuiet_inEveryPositionAndNextToAnyNeighbour() {
        Random random = new Random(11);
        for (int c = 0; c < 256; c++) {
            for (int at = 0; at < 8; at++) {
                for (int round = 0; round < 64; round++) {
                    long x = random.nextLong();
                    x = (x & ~(0xFFL << (8 * at))) | ((long) c << (8 * at));
                    long stops = BuiltinRecognizer.stops(x);
                    for (int k = 0; k < 8; k++) {
                        int v = (int) (x >>> (8 * k)) & 0xff;
                        boolean flagged = (stops >>> (8 * k + 7) & 1) != 0;
                        assertThat(flagged).as("byte 0x%02x at %d in %016x", v, k, x)
                                .isEqualTo(!BuiltinRecognizer.QUIET[v]);
                    }
                }
            }
        }
    }

    @Test
    void skipQuiet_stopsAtTheFirstByteThatIsNotQuiet_onProseAndRandomBytes() {
        Random random = new Random(12);
        byte[] prose = "the account, please (yes) it's done & *more* [x] ^ \\ 고객 계좌 Thank you. a-b c_d e@f 12:30 ~x%+"
                .getBytes(StandardCharsets.UTF_8);
        byte[] quiet = "quiet words, 고객 (and) 'more' & such ".getBytes(StandardCharsets.UTF_8);
        for (int round = 0; round < 20_000; round++) {
            // Up to a few vectors long, with quiet runs longer than a vector, so both loops and their ends are met.
            byte[] b = new byte[random.nextInt(round % 4 == 0 ? 300 : 70)];
            boolean raw = random.nextBoolean();
            for (int k = 0; k < b.length; k++) {
                if (random.nextInt(40) == 0) {
                    for (int run = random.nextInt(150); run > 0 && k < b.length - 1; run--) {
                        b[k++] = quiet[random.nextInt(quiet.length)];
                    }
                }
                b[k] = raw ? (byte) random.nextInt(256)
                        : random.nextInt(6) == 0 ? (byte) 'q' : prose[random.nextInt(prose.length)];
            }
            int from = b.length == 0 ? 0 : random.nextInt(b.length);
            int to = from + random.nextInt(b.length - from + 1);
            int want = naive(b, from, to);
            assertThat(BuiltinRecognizer.skipQuiet(b, from, to)).isEqualTo(want);
            assertThat(BuiltinRecognizer.skipQuietByWords(b, from, to)).isEqualTo(want);
        }
    }
}
