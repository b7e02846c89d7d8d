package io.meshguard.dlp.detect;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

class ByteFinderTest {
    private static boolean[] set(int... bytes) {
        boolean[] s = new boolean[256];
        for (int b : bytes) {
            s[b] = true;
        }
        return s;
    }

    private static int naive(boolean[] first, boolean[] second, byte[] b, int from, int to) {
        for (int i = from; i < to; i++) {
            if (first[b[i] & 0xff] && (i + 1 == to || second == null || second[b[i + 1] & 0xff])) {
                return i;
            }
        }
        return to;
    }

    @Test
    void next_findsExactlyTheFirstPairPosition_forSmallAndLargeSets() {
        boolean[][][] cases = {
            {set('c', 'C', 0xEB), set('o', 'O', 0x8C)},
            {set('E'), set('M')},
            {set('E'), null},
            {set('a', 'b', 'c', 'd'), set('x')},
            {set(0x80, 0xFF, 0x00), set('A', 'a')},
            {set('a', 'B', 'c'), set('x', 'E', 'e', 0xEB)},
            {set('M', 'm'), set('c', 'C', 0x8C)},
            // Four values in three tests: 0xC2 and 0xE2 differ in one bit, as do 'A'/'a' and 0x60/0x61.
            {set(0xC2, 0xE2, 0xE3, 0xEF), null},
            {set(0xC2, 0xE2, 0xE3, 0xEF), set(0x80, 0xA0, 0xBC)},
            {set('A', 'a', 0x60, 0x01), set('x', 'X', 0x60)},
        };
        // Bytes near every tested value, so the word tests meet neighbours, both cases and high bytes.
        int[] alphabet = {'B', 'x', 'X', 'c', 'C', 'o', 'O', 0xEB, 0x8C, 'E', 'M', 'e', 'm', 'a', 'b', 'd', 'x', 'A', 0x80, 0xFF, 0,
            1, 'b' ^ 0x20, 0x6F ^ 0x20, 0x8C ^ 0x20, 0xCB, ' ', 0xC2, 0xE2, 0xE3, 0xEF, 0xC3, 0xE0, 0xA0, 0xBC, 0x60, 0x21,
            0x41};
        Random random = new Random(3);
        for (boolean[][] c : cases) {
            ByteFinder finder = new ByteFinder(c[0], c[1]);
            for (int round = 0; round < 3_000; round++) {
                // Mostly short texts, some of a few vectors with long runs of a byte outside every set, so that the
                // vector loop, the word loop and the byte loop each find pairs and run to their ends.
                boolean sparse = round % 3 == 0;
                byte[] b = new byte[random.nextInt(sparse ? 300 : 40)];
                double zeds = sparse ? 0.97 : 0.25; // 'z' is in no set
                for (int k = 0; k < b.length; k++) {
                    b[k] = (byte) (random.nextDouble() < zeds ? 'z' : alphabet[random.nextInt(alphabet.length)]);
                }
                int from = b.length == 0 ? 0 : random.nextInt(b.length);
                int to = from + random.nextInt(b.length - from + 1);
                int want = naive(c[0], c[1], b, from, to);
                assertThat(finder.next(b, from, to)).isEqualTo(want);
                assertThat(finder.nextByWords(b, from, to)).isEqualTo(want);
            }
        }
    }
}
