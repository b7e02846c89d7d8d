package io.meshguard.dlp.detect;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.testing.SlowTest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * {@link TriggerTable#mayFind}'s vector form (pairs tested in the vector, token runs on its bits) against the byte
 * loop, on the shipped recognizers and on random tables (more classes than eight nibble bits hold, so merged, inexact
 * covers are tested too), texts of every length to 300 with triggers at every offset, both buffer ends.
 */
@SlowTest
class TriggerTableVectorTest {
    private static final String[] PIECES = {
        "co",
        "Co",
        "cO",
        "CO",
        "c",
        "C",
        "k",
        "kt",
        "E",
        "EM",
        "EMP-",
        "t",
        "o",
        "M",
        " ",
        "the account ",
        "confidential - internal only",
        "CONFIDENTIAL - INTERNAL ONLY",
        "confidential",
        "대외비",
        "대외",
        "고객",
        "é",
        "7",
        "@",
        ":",
        "+",
        "-",
        "{",
        "abcdefghijklmnop",
        "abcdefgh",
        "_",
        "/",
        "~",
        "%",
        ".",
        "ghp_Zx8vQ2mN4pL7"
    };

    /** A recognizer that only describes its starts (the table is all these tests use). */
    private record Described(Consumer<TriggerTable> starts) implements Recognizer {
        @Override
        public long scan(TextWindow text, Consumer<Candidate> out) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Recognizer newStream() {
            return this;
        }

        @Override
        public void reset() {}

        @Override
        public boolean describeStarts(TriggerTable table) {
            starts.accept(table);
            return true;
        }
    }

    /** The recognizers of a policy with every built-in detector, a regex with a literal prefix and keywords. */
    private static TriggerTable shipped() {
        java.util.Map<BuiltinDetector, Integer> builtins = new java.util.EnumMap<>(BuiltinDetector.class);
        for (BuiltinDetector d : BuiltinDetector.values()) {
            builtins.put(d, d.ordinal());
        }
        String regex = "\\bEMP-[0-9]{6}\\b";
        return TriggerTable.of(List.of(
                new BuiltinRecognizer(builtins),
                new JwkTextRecognizer(100),
                new RegexRecognizer(
                        101,
                        RegexRecognizer.compile(regex, false),
                        PatternBounds.shape(regex, false),
                        0.7,
                        RegexRecognizer.Validator.NONE),
                new KeywordRecognizer(102, List.of("대외비", "CONFIDENTIAL - INTERNAL ONLY"), 0.9)));
    }

    private static boolean[] set(String bytes) {
        boolean[] out = new boolean[256];
        for (byte c : bytes.getBytes(StandardCharsets.ISO_8859_1)) {
            out[c & 0xff] = true;
        }
        return out;
    }

    private static boolean[] randomSet(Random random, int percent) {
        boolean[] out = new boolean[256];
        for (int c = 0; c < 256; c++) {
            out[c] = random.nextInt(100) < percent;
        }
        return out;
    }

    /** Singles, pairs, words and a run rule drawn at random: usually more rectangles than eight bits hold. */
    private static TriggerTable randomTable(Random random) {
        boolean[] single = randomSet(random, random.nextInt(6));
        List<boolean[][]> pairs = new ArrayList<>();
        for (int n = random.nextInt(8); n > 0; n--) {
            pairs.add(new boolean[][] {
                randomSet(random, 1 + random.nextInt(3)),
                randomSet(random, random.nextInt(4) == 0 ? 100 : 1 + random.nextInt(20))
            });
        }
        byte[][] words = new byte[random.nextInt(4)][];
        for (int w = 0; w < words.length; w++) {
            words[w] = PIECES[random.nextInt(PIECES.length)].toLowerCase().getBytes(StandardCharsets.UTF_8);
        }
        boolean[] token = random.nextBoolean()
                ? set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
                : randomSet(random, 10 + random.nextInt(60));
        int min = 1 + random.nextInt(random.nextBoolean() ? 20 : 90);
        return TriggerTable.of(List.of(new Described(t -> {
            t.single(single);
            pairs.forEach(p -> t.pair(p[0], p[1]));
            if (words.length > 0) {
                t.words(words);
            }
            if (random.nextInt(5) > 0) {
                t.run(token, min);
            }
        })));
    }

    /** Text of pieces, random bytes and runs, {@code len} bytes, at {@code off} in a buffer with random bytes round it. */
    private static byte[] text(Random random, int off, int len, int tail) {
        byte[] b = new byte[off + len + tail];
        random.nextBytes(b);
        int i = off;
        while (i < off + len) {
            int r = random.nextInt(10);
            byte[] piece = r < 5
                    ? PIECES[random.nextInt(PIECES.length)].getBytes(StandardCharsets.UTF_8)
                    : r < 7
                            ? new byte[] {(byte) random.nextInt(256)}
                            : r < 9
                                    ? "the quiet words of a memo ".getBytes(StandardCharsets.UTF_8)
                                    : "abcdefghijklmnopqrstuvwxyzABCDEF"
                                            .substring(random.nextInt(32))
                                            .getBytes(StandardCharsets.UTF_8);
            int n = Math.min(piece.length, off + len - i);
            System.arraycopy(piece, 0, b, i, n);
            i += n;
        }
        return b;
    }

    private static void assertSameAnswers(TriggerTable table, Random random, int rounds, String what) {
        int trues = 0;
        for (int round = 0; round < rounds; round++) {
            int len = random.nextInt(301);
            int off = random.nextInt(3) == 0 ? 0 : random.nextInt(70);
            int tail = random.nextInt(3) == 0 ? 0 : random.nextInt(70);
            byte[] b = text(random, off, len, tail);
            boolean expected = table.mayFindByteByByte(b, off, off + len);
            assertThat(table.mayFind(b, off, len))
                    .as("%s round %d, off %d len %d", what, round, off, len)
                    .isEqualTo(expected);
            trues += expected ? 1 : 0;
        }
        assertThat(trues).as("%s: both answers drawn", what).isBetween(1, rounds - 1);
    }

    @Test
    void testJvm_runsTheVectorForm_whereTheVectorPathsRun() {
        assertThat(shipped().hasVectorForm()).isEqualTo(Simd.LANES > 0);
    }

    @Test
    void shippedRecognizers_vectorFormAnswersAsTheByteLoop() {
        assertSameAnswers(shipped(), new Random(31), 100_000, "shipped");
    }

    @Test
    void shippedRecognizers_quietTextWithOneTriggerAtEveryOffset() {
        TriggerTable table = shipped();
        String[] triggers = {
            "co",
            "Co",
            "confidential - internal only",
            "kt",
            "EM",
            "7",
            "@",
            "é",
            "대외비",
            "c",
            "k",
            "E",
            "abcdefghijklmnop",
            "abcdefghijklmno"
        };
        for (String trigger : triggers) {
            byte[] t = trigger.getBytes(StandardCharsets.UTF_8);
            for (int len = 0; len <= 200; len++) {
                for (int at = 0; at + t.length <= len; at++) {
                    byte[] b = new byte[len + 2];
                    java.util.Arrays.fill(b, (byte) ' ');
                    for (int k = 1; k <= len; k++) {
                        b[k] = (byte) "ca ka Ex ab ".charAt(k % 12); // pairs' first bytes with no pair, short runs
                    }
                    System.arraycopy(t, 0, b, 1 + at, t.length);
                    boolean expected = table.mayFindByteByByte(b, 1, 1 + len);
                    assertThat(table.mayFind(b, 1, len))
                            .as("%s at %d of %d", trigger, at, len)
                            .isEqualTo(expected);
                    if (List.of("kt", "EM", "7", "@", "é", "대외비", "confidential - internal only", "abcdefghijklmnop")
                            .contains(trigger)) {
                        assertThat(expected)
                                .as("%s at %d of %d", trigger, at, len)
                                .isTrue();
                    }
                }
            }
        }
    }

    @Test
    void everyByteValue_beforeEveryByteValue_atEveryLane() {
        TriggerTable table = shipped();
        int lanes = Math.max(32, Simd.LANES);
        Random random = new Random(7);
        byte[] b = new byte[lanes + 2];
        for (int c = 0; c < 256; c++) {
            for (int next = 0; next < 256; next += c % 7 == 0 ? 1 : 17) {
                int at = random.nextInt(lanes + 1);
                java.util.Arrays.fill(b, (byte) 'a');
                b[at] = (byte) c;
                b[at + 1] = (byte) next;
                String what = String.format("0x%02x 0x%02x at %d", c, next, at);
                assertThat(table.mayFind(b, 0, b.length)).as(what).isEqualTo(table.mayFindByteByByte(b, 0, b.length));
            }
        }
    }

    @Test
    void randomTables_vectorFormAnswersAsTheByteLoop() {
        Random random = new Random(43);
        int trues = 0;
        for (int t = 0; t < 150; t++) {
            TriggerTable table = randomTable(random);
            for (int round = 0; round < 1_000; round++) {
                int len = random.nextInt(301);
                int off = random.nextInt(40);
                byte[] b = text(random, off, len, random.nextInt(40));
                boolean expected = table.mayFindByteByByte(b, off, off + len);
                assertThat(table.mayFind(b, off, len))
                        .as("table %d round %d, off %d len %d", t, round, off, len)
                        .isEqualTo(expected);
                trues += expected ? 1 : 0;
            }
        }
        assertThat(trues).as("both answers drawn").isBetween(1, 150 * 1_000 - 1);
    }

    @Test
    void nibbleCovers_holdEveryByteOfTheirClass_andExactlyThemWhenEightRectanglesSuffice() {
        Random random = new Random(5);
        for (int round = 0; round < 300; round++) {
            boolean[] token = randomSet(random, random.nextInt(100));
            boolean[] start = randomSet(random, random.nextInt(10));
            boolean[][] rows = new boolean[256][];
            for (int n = random.nextInt(12); n > 0; n--) {
                rows[random.nextInt(256)] = randomSet(random, 1 + random.nextInt(30));
            }
            TriggerNibbles nibbles = new TriggerNibbles(start, rows, token);
            byte[] t = nibbles.tables;
            boolean exact = true;
            for (int c = 0; c < 256; c++) {
                boolean tok =
                        (t[TriggerNibbles.TOKEN_LO * 64 + (c & 15)] & t[TriggerNibbles.TOKEN_HI * 64 + (c >>> 4)]) != 0;
                boolean st =
                        (t[TriggerNibbles.START_LO * 64 + (c & 15)] & t[TriggerNibbles.START_HI * 64 + (c >>> 4)]) != 0;
                assertThat(tok || !token[c]).as("token 0x%02x", c).isTrue();
                assertThat(st || !start[c]).as("start 0x%02x", c).isTrue();
                exact &= tok == token[c];
                for (int x = 0; x < 256 && rows[c] != null; x++) {
                    int pair = t[TriggerNibbles.FIRST_LO * 64 + (c & 15)]
                            & t[TriggerNibbles.FIRST_HI * 64 + (c >>> 4)]
                            & t[TriggerNibbles.SECOND_LO * 64 + (x & 15)]
                            & t[TriggerNibbles.SECOND_HI * 64 + (x >>> 4)];
                    assertThat(pair != 0 || !rows[c][x])
                            .as("pair 0x%02x 0x%02x", c, x)
                            .isTrue();
                }
            }
            assertThat(nibbles.tokensExact).as("round %d", round).isEqualTo(exact);
        }
    }

    @Test
    void kernels_flagWhatTheNibbleTablesSay_everyByteInEveryLane() {
        if (Simd.LANES == 0) {
            return; // no kernels on the portable path; testJvm_runsTheVectorForm... says which path ran
        }
        Random random = new Random(11);
        int lanes = Simd.LANES;
        TriggerNibbles nibbles = new TriggerNibbles(randomSet(random, 8), randomRows(random), randomSet(random, 40));
        byte[] t = nibbles.tables;
        byte[] b = new byte[lanes + 1];
        for (int c = 0; c < 256; c++) {
            for (int lane = 0; lane <= lanes; lane++) {
                random.nextBytes(b);
                b[lane] = (byte) c;
                long starts = 0;
                long tokens = 0;
                for (int k = 0; k < lanes; k++) {
                    int v = b[k] & 0xff;
                    int x = b[k + 1] & 0xff;
                    int start =
                            t[TriggerNibbles.START_LO * 64 + (v & 15)] & t[TriggerNibbles.START_HI * 64 + (v >>> 4)];
                    int pair = t[TriggerNibbles.FIRST_LO * 64 + (v & 15)]
                            & t[TriggerNibbles.FIRST_HI * 64 + (v >>> 4)]
                            & t[TriggerNibbles.SECOND_LO * 64 + (x & 15)]
                            & t[TriggerNibbles.SECOND_HI * 64 + (x >>> 4)];
                    starts |= (start | pair) != 0 ? 1L << k : 0;
                    tokens |= (t[TriggerNibbles.TOKEN_LO * 64 + (v & 15)] & t[TriggerNibbles.TOKEN_HI * 64 + (v >>> 4)])
                                    != 0
                            ? 1L << k
                            : 0;
                }
                String at = String.format("byte 0x%02x in lane %d", c, lane);
                assertThat(Simd.triggerStarts(b, 0, t)).as(at).isEqualTo(starts);
                assertThat(Simd.triggerTokens(b, 0, t)).as(at).isEqualTo(tokens);
            }
        }
    }

    private static boolean[][] randomRows(Random random) {
        boolean[][] rows = new boolean[256][];
        for (int n = 4; n > 0; n--) {
            rows[random.nextInt(256)] = randomSet(random, 3);
        }
        return rows;
    }
}
