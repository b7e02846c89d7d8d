package io.meshguard.dlp.detect;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The vector kernels against the byte tables they stand for, every byte value in every lane. */
class SimdTest {
    @Test
    void testJvm_hasTheVectorModule_soTheVectorPathsAreTested() {
        // The build starts test JVMs with --add-modules jdk.incubator.vector; without it every test here and in the
        // scan would pass on the portable paths alone.
        assertThat(ModuleLayer.boot().findModule("jdk.incubator.vector")).isPresent();
        assertThat(SimdKernels.LANES).isIn(0, 32, 64);
        assertThat(Simd.describe()).isEqualTo(Simd.LANES > 0 ? Simd.LANES + "-byte vectors" : "portable");
    }

    @Test
    void kernels_flagExactlyTheBytesTheirTablesName_inEveryLane() {
        int lanes = Math.max(32, SimdKernels.LANES);
        Random random = new Random(21);
        byte[] b = new byte[lanes + 1];
        for (int c = 0; c < 256; c++) {
            for (int lane = 0; lane < lanes; lane++) {
                random.nextBytes(b);
                b[lane] = (byte) c;
                long quiet = 0;
                long letters = 0;
                long leads = 0;
                long pairs = 0;
                for (int k = 0; k < lanes; k++) {
                    int v = b[k] & 0xff;
                    quiet |= BuiltinRecognizer.QUIET[v] ? 0 : 1L << k;
                    letters |= (v | 0x20) >= 'a' && (v | 0x20) <= 'z' ? 1L << k : 0;
                    leads |= v >= 0xC0 ? 1L << k : 0;
                    pairs |= v == 0xEB || (v | 0x20) == 'c' || v == 'E' ? 1L << k : 0;
                }
                String at = String.format("byte 0x%02x in lane %d", c, lane);
                assertThat(SimdKernels.quietStops(b, 0)).as(at).isEqualTo(quiet);
                assertThat(SimdKernels.asciiLetters(b, 0)).as(at).isEqualTo(letters);
                assertThat(SimdKernels.leadBytes(b, 0)).as(at).isEqualTo(leads);
                assertThat(SimdKernels.anyOf(
                                b, 0, (byte) 0, (byte) 0xEB, (byte) 0x20, (byte) 'c', (byte) 0, (byte) 'E'))
                        .as(at)
                        .isEqualTo(pairs);
            }
        }
    }

    @Test
    void quoteOrBackslash_findsTheFirstOneAtEveryOffsetAndLength() {
        java.util.Random random = new java.util.Random(29);
        for (int round = 0; round < 20_000; round++) {
            byte[] b = new byte[random.nextInt(200)];
            for (int k = 0; k < b.length; k++) {
                int r = random.nextInt(100);
                b[k] = (byte) (r == 0 ? '"' : r == 1 ? '\\' : r < 4 ? random.nextInt(256) : 'a' + r % 26);
            }
            int from = b.length == 0 ? 0 : random.nextInt(b.length);
            int to = from + random.nextInt(b.length - from + 1);
            int expected = from;
            while (expected < to && b[expected] != '"' && b[expected] != '\\') {
                expected++;
            }
            assertThat(Simd.quoteOrBackslash(b, from, to)).as("round %d", round).isEqualTo(expected);
        }
    }

    @Test
    void lineEnd_findsTheFirstLineFeedOrCarriageReturnAtEveryOffsetAndLength() {
        java.util.Random random = new java.util.Random(37);
        for (int round = 0; round < 20_000; round++) {
            byte[] b = new byte[random.nextInt(300)];
            for (int k = 0; k < b.length; k++) {
                int r = random.nextInt(200);
                // mostly text, some line ends, and bytes one bit off them (0x0B, 0x0C, 0x8A, 0x8D) and non-ASCII
                b[k] = (byte)
                        (r == 0
                                ? '\n'
                                : r == 1
                                        ? '\r'
                                        : r == 2
                                                ? 0x0B
                                                : r == 3
                                                        ? 0x8A
                                                        : r == 4 ? 0x8D : r < 8 ? random.nextInt(256) : 'a' + r % 26);
            }
            int from = b.length == 0 ? 0 : random.nextInt(b.length);
            int to = from + random.nextInt(b.length - from + 1);
            int expected = from;
            while (expected < to && b[expected] != '\n' && b[expected] != '\r') {
                expected++;
            }
            assertThat(Simd.lineEnd(b, from, to)).as("round %d", round).isEqualTo(expected);
        }
    }

    @Test
    void indexOf_findsTheFirstOccurrenceAtEveryOffsetAndLength() {
        java.util.Random random = new java.util.Random(31);
        for (int round = 0; round < 20_000; round++) {
            byte[] b = new byte[random.nextInt(200)];
            for (int k = 0; k < b.length; k++) {
                int r = random.nextInt(100);
                b[k] = (byte) (r == 0 ? '{' : r < 4 ? random.nextInt(256) : 'a' + r % 26);
            }
            int from = b.length == 0 ? 0 : random.nextInt(b.length);
            int to = from + random.nextInt(b.length - from + 1);
            int expected = from;
            while (expected < to && b[expected] != '{') {
                expected++;
            }
            assertThat(Simd.indexOf(b, from, to, (byte) '{'))
                    .as("round %d", round)
                    .isEqualTo(expected);
        }
    }
}
