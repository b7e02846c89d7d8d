package io.meshguard.dlp.detect;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.testing.SlowTest;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The built-in pass's word-at-a-time skip must stop exactly where the byte-by-byte table says. */
@SlowTest
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
                        assertThat(flagged)
                                .as("byte 0x%02x at %d in %016x", v, k, x)
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
                b[k] = raw
                        ? (byte) random.nextInt(256)
                        : random.nextInt(6) == 0 ? (byte) 'q' : prose[random.nextInt(prose.length)];
            }
            int from = b.length == 0 ? 0 : random.nextInt(b.length);
            int to = from + random.nextInt(b.length - from + 1);
            int want = naive(b, from, to);
            assertThat(BuiltinRecognizer.skipQuiet(b, from, to)).isEqualTo(want);
            assertThat(BuiltinRecognizer.skipQuietByWords(b, from, to)).isEqualTo(want);
        }
    }

    /**
     * The lower-case runs the built-in pass's word shortcuts measure eight bytes a step, against a byte-by-byte walk:
     * every start, bound and end over texts of letters, their neighbours ('`', '{', capitals, 0x80 | letter) and
     * random bytes.
     */
    @Test
    void lowerRuns_endWhereAByteByByteWalkEnds() {
        Random random = new Random(3203);
        byte[] near = "abyz`{AZ. \n@0".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        for (int round = 0; round < 3000; round++) {
            byte[] b = new byte[1 + random.nextInt(40)];
            for (int k = 0; k < b.length; k++) {
                int kind = random.nextInt(10);
                b[k] = kind < 6
                        ? (byte) ('a' + random.nextInt(26))
                        : kind < 8
                                ? near[random.nextInt(near.length)]
                                : kind < 9 ? (byte) (0x80 | 'a' + random.nextInt(26)) : (byte) random.nextInt(256);
            }
            for (int from = 0; from <= b.length; from++) {
                for (int stop = from; stop <= b.length; stop++) {
                    int m = from;
                    while (m < stop && b[m] >= 'a' && b[m] <= 'z') {
                        m++;
                    }
                    assertThat(BuiltinRecognizer.lowerRunAfter(b, from, stop))
                            .as("after %d to %d", from, stop)
                            .isEqualTo(m);
                }
                for (int j = from; j <= b.length; j++) {
                    int k = j;
                    while (k > Math.max(from, j - 16) && b[k - 1] >= 'a' && b[k - 1] <= 'z') {
                        k--;
                    }
                    assertThat(BuiltinRecognizer.lowerRunBefore(b, from, j))
                            .as("before %d from %d", j, from)
                            .isEqualTo(k);
                }
            }
        }
    }

    /**
     * {@code digitRun} against the byte walk {@code onNumericStart} takes where the window holds fewer than 24 bytes:
     * the run of digits from a digit, at most 20, for runs of every length to past 20, ended by every byte value
     * (the digits' neighbours {@code / :} and their high-bit twins among them), from every alignment.
     */
    @Test
    void digitRun_endsWhereTheByteWalkEnds() {
        Random random = new Random(3504);
        for (int round = 0; round < 20_000; round++) {
            byte[] b = new byte[24 + random.nextInt(24)];
            for (int k = 0; k < b.length; k++) {
                int kind = random.nextInt(10);
                b[k] = kind < 7
                        ? (byte) ('0' + random.nextInt(10))
                        : kind < 8
                                ? "/:0 -.".getBytes(StandardCharsets.US_ASCII)[random.nextInt(6)]
                                : kind < 9 ? (byte) (0x80 | '0' + random.nextInt(11)) : (byte) random.nextInt(256);
            }
            int i = random.nextInt(b.length - 23);
            b[i] = (byte) ('0' + random.nextInt(10));
            if (round % 4 == 0) { // a long run, to reach the second and third words and the cap
                int len = 1 + random.nextInt(24);
                for (int k = i; k < i + len; k++) {
                    b[k] = (byte) ('0' + random.nextInt(10));
                }
                b[Math.min(b.length - 1, i + len)] = (byte) random.nextInt(256);
            }
            int run = 1;
            while (run < 20 && b[i + run] >= '0' && b[i + run] <= '9') {
                run++;
            }
            assertThat(BuiltinRecognizer.digitRun(b, i))
                    .as("round %d from %d", round, i)
                    .isEqualTo(run);
        }
    }
}
