package io.meshguard.dlp.scan;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.dlp.detect.Simd;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The context window's character walks, eight bytes at a time, must end where the one-character walk ends. */
class CharWalkTest {
    /** The walk after a value, one character at a time; -1 when fewer than {@code within} characters were counted. */
    private static int naiveAfter(byte[] b, int e, int n, int within) {
        int after = e;
        int chars = 0;
        while (after < n && chars < within) {
            after++;
            while (after < n && (b[after] & 0xC0) == 0x80) {
                after++;
            }
            chars++;
        }
        return chars < within ? -1 : after;
    }

    private static int naiveBefore(byte[] b, int s, int within) {
        int before = s;
        int chars = 0;
        while (before > 0 && chars < within) {
            before--;
            while (before > 0 && (b[before] & 0xC0) == 0x80) {
                before--;
            }
            chars++;
        }
        return before;
    }

    @Test
    void nthStart_isTheBytePositionOfTheKthLowestFlag_forEveryFlagPattern() {
        for (int pattern = 1; pattern < 256; pattern++) {
            long starts = 0;
            for (int j = 0; j < 8; j++) {
                if ((pattern & 1 << j) != 0) {
                    starts |= 0x80L << (8 * j);
                }
            }
            int k = 0;
            for (int j = 0; j < 8; j++) {
                if ((pattern & 1 << j) != 0) {
                    k++;
                    assertThat(WindowEdges.nthStart(starts, k))
                            .as("pattern %s, k %d", Integer.toBinaryString(pattern), k)
                            .isEqualTo(j);
                }
            }
        }
    }

    @Test
    // x & x of two nextLong() calls is a sparser random mask, not x: Error Prone cannot see the calls differ
    @SuppressWarnings("IdentityBinaryExpression")
    void nthSetBit_isTheIndexOfTheKthLowestSetBit_onRandomAndEdgeMasks() {
        Random random = new Random(5);
        for (int round = 0; round < 20_000; round++) {
            long m =
                    switch (round % 4) {
                        case 0 -> random.nextLong();
                        case 1 -> random.nextLong() & random.nextLong() & random.nextLong();
                        case 2 -> -1L >>> random.nextInt(64);
                        default -> random.nextInt(3) == 0 ? Long.MIN_VALUE | 1 : random.nextLong() | random.nextLong();
                    };
            if (m == 0) {
                continue;
            }
            long rest = m;
            for (int k = 1; rest != 0; k++, rest &= rest - 1) {
                assertThat(WindowEdges.nthSetBit(m, k))
                        .as("mask %x, k %d", m, k)
                        .isEqualTo(Long.numberOfTrailingZeros(rest));
            }
        }
    }

    @Test
    void charWalks_endWhereTheOneCharacterWalkEnds_onMixedAndBrokenUtf8() {
        byte[] mixed = "card 5105 고객 계좌 이체 é ü 😀 tel 010-1234 주민등록번호 x".getBytes(StandardCharsets.UTF_8);
        Random random = new Random(31);
        for (int round = 0; round < 20_000; round++) {
            byte[] b = new byte[random.nextInt(round % 4 == 0 ? 400 : 160)];
            int style = random.nextInt(3);
            for (int k = 0; k < b.length; k++) {
                b[k] = style == 0
                        ? (byte) random.nextInt(256)
                        : style == 1
                                ? mixed[random.nextInt(mixed.length)]
                                : (byte) (random.nextInt(4) == 0 ? 'a' : 0x80 | random.nextInt(64));
            }
            int n = b.length == 0 ? 0 : random.nextInt(b.length + 1);
            int p = random.nextInt(n + 1);
            int within = random.nextInt(round % 4 == 0 ? 140 : 40);
            // Both paths whatever this JVM runs: the vector steps (the tests start the JVM with the vector module;
            // they read past n where the array allows) and the eight-byte steps.
            for (boolean vectors : Simd.LANES > 0 ? new boolean[] {true, false} : new boolean[] {false}) {
                assertThat(WindowEdges.charsAfter(b, p, n, within, vectors))
                        .as("after %d of %d, %d chars, vectors %s", p, n, within, vectors)
                        .isEqualTo(naiveAfter(b, p, n, within));
                assertThat(WindowEdges.charsBefore(b, p, within, vectors))
                        .as("before %d, %d chars, vectors %s", p, within, vectors)
                        .isEqualTo(naiveBefore(b, p, within));
            }
        }
    }

    @Test
    void lineCuts_eightBytesAStep_endWhereTheByteLoopEnds() {
        // Every byte that cuts or nearly cuts (the look-alikes of [ ] { } one bit apart, comma, quote, blanks).
        byte[] alphabet = "\n\r{}[]{}[];=,,,\"\"  \t\t+-*;:KkaZ09;\u00ea".getBytes(StandardCharsets.ISO_8859_1);
        byte[] alike = {
            0x0A,
            0x0D,
            0x2A,
            0x2D,
            0x4B,
            0x5B,
            0x5D,
            0x7B,
            0x7D,
            (byte) 0xDB,
            (byte) 0xFB,
            (byte) 0xFD,
            (byte) 0x8A,
            (byte) 0xAC,
            0x0C,
            0x2C,
            0x22
        };
        Random random = new Random(97);
        for (int round = 0; round < 50_000; round++) {
            byte[] b = new byte[random.nextInt(round % 4 == 0 ? 300 : 100)];
            int density = 1 + random.nextInt(12);
            for (int k = 0; k < b.length; k++) {
                int pick = random.nextInt(density);
                b[k] = pick == 0
                        ? alike[random.nextInt(alike.length)]
                        : pick == 1
                                ? alphabet[random.nextInt(alphabet.length)]
                                : random.nextBoolean() ? (byte) ('a' + random.nextInt(26)) : (byte) random.nextInt(256);
            }
            int from = random.nextInt(b.length + 1);
            int to = from + random.nextInt(b.length - from + 1);
            for (boolean vectors : Simd.LANES > 0 ? new boolean[] {true, false} : new boolean[] {false}) {
                assertThat(WindowEdges.lineAfter(b, from, to, vectors))
                        .as("after [%d, %d) of %d, vectors %s", from, to, b.length, vectors)
                        .isEqualTo(WindowEdges.lineAfterByBytes(b, from, to));
                assertThat(WindowEdges.lineBefore(b, from, to, vectors))
                        .as("before [%d, %d) of %d, vectors %s", from, to, b.length, vectors)
                        .isEqualTo(WindowEdges.lineBeforeByBytes(b, from, to));
            }
        }
    }
}
