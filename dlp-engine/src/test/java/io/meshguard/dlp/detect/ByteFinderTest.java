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
        int[] alphabet = {
            'B',
            'x',
            'X',
            'c',
            'C',
            'o',
            'O',
            0xEB,
            0x8C,
            'E',
            'M',
            'e',
            'm',
            'a',
            'b',
            'd',
            'x',
            'A',
            0x80,
            0xFF,
            0,
            1,
            'b' ^ 0x20,
            0x6F ^ 0x20,
            0x8C ^ 0x20,
            0xCB,
            ' ',
            0xC2,
            0xE2,
            0xE3,
            0xEF,
            0xC3,
            0xE0,
            0xA0,
            0xBC,
            0x60,
            0x21,
            0x41
        };
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

    private static int naive3(boolean[] first, boolean[] second, boolean[] third, byte[] b, int from, int to) {
        for (int i = from; i < to; i++) {
            if (first[b[i] & 0xff]
                    && (i + 1 == to || second == null || second[b[i + 1] & 0xff])
                    && (i + 2 >= to || third[b[i + 2] & 0xff])) {
                return i;
            }
        }
        return to;
    }

    /** The keyword list's sets for "confidential" and "대외비" (0xEB 0x8C 0x80), as KeywordRecognizer builds them. */
    private static final boolean[][] KEYWORD_SETS = {set('c', 'C', 0xEB), set('o', 'O', 0x8C), set('n', 'N', 0x80)};

    @Test
    void withThird_findsExactlyTheFirstTriple_onGeneratedTexts() {
        boolean[][][] cases = {
            KEYWORD_SETS,
            {set('E'), set('M'), set('P')},
            {set('a', 'b', 'c', 'd'), set('x'), set('y', 0xFF)},
            {set(0xC2, 0xE2, 0xE3, 0xEF), null, set(0x80, 0xBF)},
        };
        int[] alphabet = {
            'c',
            'C',
            'o',
            'O',
            'n',
            'N',
            0xEB,
            0x8C,
            0x80,
            'E',
            'M',
            'P',
            'a',
            'b',
            'x',
            'y',
            0xFF,
            0xC2,
            0xE2,
            0xE3,
            0xEF,
            0xBF,
            'c' ^ 0x80,
            'o' ^ 0x80,
            'n' ^ 0x80,
            0xEB ^ 0x20,
            0x8C ^ 0x01,
            ' ',
            'u',
            'r'
        };
        Random random = new Random(29);
        for (boolean[][] c : cases) {
            ByteFinder finder = new ByteFinder(c[0], c[1]).withThird(c[2]);
            for (int round = 0; round < 4_000; round++) {
                boolean sparse = round % 3 == 0;
                byte[] b = new byte[random.nextInt(sparse ? 300 : 48)];
                double zeds = sparse ? 0.97 : 0.3;
                for (int k = 0; k < b.length; k++) {
                    b[k] = (byte) (random.nextDouble() < zeds ? 'z' : alphabet[random.nextInt(alphabet.length)]);
                }
                int from = b.length == 0 ? 0 : random.nextInt(b.length);
                int to = from + random.nextInt(b.length - from + 1);
                int want = naive3(c[0], c[1], c[2], b, from, to);
                assertThat(finder.next(b, from, to)).isEqualTo(want);
                assertThat(finder.nextByWords(b, from, to)).isEqualTo(want);
            }
        }
    }

    /**
     * Every byte value at every offset 0..15 of a word and at the buffer's end, alone and after a first byte or a
     * first pair (so the third-byte test meets every candidate, ASCII or not: 0x80..0xFF must not pass for an ASCII
     * letter nor the reverse), in buffers filled with an ASCII filler or with a non-ASCII one.
     */
    @Test
    void withThird_everyByteAtEveryOffset_matchesTheByteLoop() {
        ByteFinder pairs = new ByteFinder(KEYWORD_SETS[0], KEYWORD_SETS[1]);
        ByteFinder triples = pairs.withThird(KEYWORD_SETS[2]);
        int[][] leads = {{}, {'c'}, {'C', 'O'}, {0xEB}, {0xEB, 0x8C}, {'c', 0x8C}, {0xEB ^ 0x80, 'o' ^ 0x80}};
        for (int filler : new int[] {'z', 0xA0, 0x00, 0xFF}) {
            for (int len : new int[] {17, 33}) {
                for (int[] lead : leads) {
                    for (int v = 0; v < 256; v++) {
                        for (int at = 0; at + lead.length < len; at++) {
                            byte[] b = new byte[len];
                            java.util.Arrays.fill(b, (byte) filler);
                            for (int k = 0; k < lead.length; k++) {
                                b[at + k] = (byte) lead[k];
                            }
                            b[at + lead.length] = (byte) v;
                            for (int to : new int[] {len, at + lead.length + 1, Math.min(len, at + lead.length + 2)}) {
                                assertThat(triples.next(b, 0, to))
                                        .as(
                                                "filler %x len %d lead %d at %d byte %x to %d",
                                                filler, len, lead.length, at, v, to)
                                        .isEqualTo(naive3(KEYWORD_SETS[0], KEYWORD_SETS[1], KEYWORD_SETS[2], b, 0, to));
                                assertThat(triples.nextByWords(b, 0, to))
                                        .isEqualTo(naive3(KEYWORD_SETS[0], KEYWORD_SETS[1], KEYWORD_SETS[2], b, 0, to));
                                assertThat(pairs.nextByWords(b, 0, to))
                                        .isEqualTo(naive(KEYWORD_SETS[0], KEYWORD_SETS[1], b, 0, to));
                            }
                        }
                    }
                }
            }
        }
    }
}
