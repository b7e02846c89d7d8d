package io.meshguard.dlp.detect;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.testing.SlowTest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The start map ({@link TextWindow#mapStarts}) only lets a search move over words where it cannot stop: every search
 * through the map answers exactly what the same search without it answers, at every position of texts full of start
 * bytes, near-misses and the bytes around them, with the map starting anywhere and the window ending anywhere.
 */
@SlowTest
class StartMapTest {
    /** Bytes that start, continue or nearly start a search, and the prose around them. */
    private static final byte[] ALPHABET = alphabet();

    private static byte[] alphabet() {
        String s = "cCoOnNEMPe{}:k t.-_@%+~09AZaz \n'\"고객대외비대문니 ５١‐\u200b";
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        byte[] out = java.util.Arrays.copyOf(utf8, utf8.length + 6);
        // lead and continuation bytes alone, the third bytes of 대외비's first syllable and look-alikes
        byte[] extra = {(byte) 0xEB, (byte) 0x8C, (byte) 0x80, (byte) 0xC2, (byte) 0xEF, (byte) 0xF0};
        System.arraycopy(extra, 0, out, utf8.length, extra.length);
        return out;
    }

    private static boolean[] set(String chars, int... bytes) {
        boolean[] s = new boolean[256];
        for (char c : chars.toCharArray()) {
            s[c] = true;
        }
        for (int b : bytes) {
            s[b] = true;
        }
        return s;
    }

    /**
     * Finders of the shapes the recognizers build (a keyword pair with a third byte, a pattern's prefix pair, single
     * bytes, or-mask tests), more of them than the table has bits for, so some share a bit.
     */
    private static List<ByteFinder> finders() {
        List<ByteFinder> out = new ArrayList<>();
        List<ByteFinder> shapes = shapes();
        for (int k = 0; k < shapes.size(); k++) {
            out.add(shapes.get(k).onBit(k == 2 ? StartTable.DISGUISED_LEADS : StartTable.policySearch(k)));
        }
        return out;
    }

    private static List<ByteFinder> shapes() {
        List<ByteFinder> out = new ArrayList<>();
        out.add(new ByteFinder(set("cC", 0xEB), set("oO", 0x8C)).withThird(set("nN", 0x80)));
        out.add(new ByteFinder(set("E"), set("M")));
        out.add(ByteFinder.ofTests(new int[] {0xDF, 0xF3, 0xEF}, new int[] {0x1F, 0x13, 0x00}));
        out.add(new ByteFinder(set("kK"), null));
        out.add(new ByteFinder(set("0123456789".substring(0, 2)), set("-")));
        out.add(new ByteFinder(set("P"), set("e")).withThird(set("t")));
        out.add(new ByteFinder(set("t"), set(".")));
        out.add(new ByteFinder(set("@"), null));
        return out;
    }

    private static int plainIndexOf(byte[] b, int i, int n, byte v) {
        while (i < n && b[i] != v) {
            i++;
        }
        return i;
    }

    private static int plainSkipQuiet(byte[] b, int i, int n) {
        while (i < n && BuiltinRecognizer.QUIET[b[i] & 0xff]) {
            i++;
        }
        return i;
    }

    @Test
    void everySearchThroughTheMap_answersAsWithout_atEveryPosition() {
        Random random = new Random(3101);
        List<ByteFinder> finders = finders();
        List<Recognizer> recognizers =
                List.of(new BuiltinRecognizer(Map.of(BuiltinDetector.CARD, 0)), new JwkTextRecognizer(1));
        StartTable table = StartTable.of(recognizers);
        for (ByteFinder f : finders) {
            f.describeTo(table);
        }
        byte[] quiet = "the account records 고객 계좌 ".getBytes(StandardCharsets.UTF_8);
        int mapped = 0;
        for (int round = 0; round < 4_000; round++) {
            // Quiet runs several words long between dense stretches: words cleared and words not, side by side.
            byte[] text = new byte[random.nextInt(round % 3 == 0 ? 400 : 90)];
            for (int k = 0; k < text.length; k++) {
                if (random.nextInt(12) == 0) {
                    for (int run = random.nextInt(60); run > 0 && k < text.length - 1; run--) {
                        text[k++] = quiet[random.nextInt(quiet.length)];
                    }
                }
                text[k] =
                        random.nextInt(8) == 0 ? (byte) random.nextInt(256) : ALPHABET[random.nextInt(ALPHABET.length)];
            }
            TextWindow t = new TextWindow();
            t.append(text, 0, text.length);
            int n = text.length;
            int from = n == 0 ? 0 : random.nextInt(n);
            t.mapStarts(table, from);
            mapped += t.mapped() ? 1 : 0;
            for (int i = 0; i <= n; i++) {
                for (int f = 0; f < finders.size(); f++) {
                    assertThat(finders.get(f).next(t, i))
                            .as("finder %d from %d, map from %d", f, i, from)
                            .isEqualTo(finders.get(f).nextByWords(text, i, n));
                }
                assertThat(BuiltinRecognizer.skipQuiet(t, i))
                        .as("quiet skip from %d", i)
                        .isEqualTo(plainSkipQuiet(text, i, n));
                assertThat(t.indexOf(i, (byte) '{', StartTable.BRACES)).isEqualTo(plainIndexOf(text, i, n, (byte) '{'));
                assertThat(t.indexOf(i, (byte) ':', StartTable.COLONS)).isEqualTo(plainIndexOf(text, i, n, (byte) ':'));
            }
        }
        assertThat(mapped).as("rounds with a map").isGreaterThan(1_000);
    }

    @Test
    void aMapIsDroppedWhenTheBytesMoveOrGrow() {
        TextWindow t = new TextWindow();
        byte[] text = "the account records and more words here, then {\"kty\": \"oct\"} at the end"
                .getBytes(StandardCharsets.UTF_8);
        t.append(text, 0, text.length);
        t.mapStarts(StartTable.of(List.of(new JwkTextRecognizer(0))), 0);
        assertThat(t.mapped()).isTrue();
        t.discardBefore(3);
        assertThat(t.mapped()).isFalse();
        assertThat(t.indexOf(0, (byte) '{', StartTable.BRACES))
                .isEqualTo(plainIndexOf(t.bytes(), 0, t.length(), (byte) '{'));
        t.mapStarts(StartTable.of(List.of(new JwkTextRecognizer(0))), 0);
        t.append(text, 0, 4);
        assertThat(t.mapped()).isFalse();
    }

    /** One search of a table: its bit and its first and second bytes (null: any second byte). */
    private record Search(int bit, boolean[] first, boolean[] second) {
        boolean startsAt(byte[] b, int p) {
            return first[b[p] & 0xff] && (second == null || second[b[p + 1] & 0xff]);
        }
    }

    private static boolean[] randomSet(Random random) {
        boolean[] s = new boolean[256];
        int kind = random.nextInt(3);
        for (int k = 1 + random.nextInt(kind == 0 ? 3 : 40); k > 0; k--) {
            s[kind == 2 ? random.nextInt(256) : ALPHABET[random.nextInt(ALPHABET.length)] & 0xff] = true;
        }
        return s;
    }

    /**
     * The lane classification against the plain one (each position's two bytes tested against every search):
     * every start the plain one sees is in the word's bits, and nothing else is when no two searches share a bit
     * (sharing one lets the odd positions pair one search's first byte with another's second, never wrong, only
     * slower: then the bits are exactly the plain ones plus those pairings).
     */
    @Test
    void classify_givesEachWordThePlainPairTestsBits() {
        Random random = new Random(3201);
        for (int round = 0; round < 600; round++) {
            boolean shared = round % 2 == 1;
            List<Search> searches = new ArrayList<>();
            StartTable table = StartTable.of(List.of());
            for (int k = 1 + random.nextInt(shared ? 12 : 8); k > 0; k--) {
                int bit = shared ? 1 << random.nextInt(8) : 1 << searches.size();
                Search s = new Search(bit, randomSet(random), random.nextInt(3) == 0 ? null : randomSet(random));
                searches.add(s);
                table.add(s.bit(), s.first(), s.second());
            }
            byte[] text = new byte[9 + random.nextInt(300)];
            for (int k = 0; k < text.length; k++) {
                text[k] =
                        random.nextInt(6) == 0 ? (byte) random.nextInt(256) : ALPHABET[random.nextInt(ALPHABET.length)];
            }
            int from = random.nextInt(8);
            // Every word whose next byte is there, or (every third round) fewer: the last word classified then has
            // bytes after its next one, which classify must not take for its own.
            int fit = (text.length - 1 - from) / 8;
            int words = round % 3 == 2 ? random.nextInt(fit + 1) : fit;
            byte[] bits = new byte[words];
            table.classify(text, from, words, bits);
            for (int w = 0; w < words; w++) {
                int plain = 0;
                int pairings = 0;
                for (int p = from + 8 * w; p < from + 8 * w + 8; p++) {
                    int firsts = 0;
                    int seconds = 0;
                    for (Search s : searches) {
                        plain |= s.startsAt(text, p) ? s.bit() : 0;
                        firsts |= s.first()[text[p] & 0xff] ? s.bit() : 0;
                        seconds |= s.second() == null || s.second()[text[p + 1] & 0xff] ? s.bit() : 0;
                    }
                    pairings |= (p - from) % 2 == 1 ? firsts & seconds : 0;
                }
                assertThat(bits[w] & 0xff).as("round %d word %d", round, w).isEqualTo(plain | pairings);
                if (!shared) {
                    assertThat(bits[w] & 0xff)
                            .as("round %d word %d, no bit shared", round, w)
                            .isEqualTo(plain);
                }
            }
        }
    }
}
