package io.meshguard.dlp.detect;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class DisguisedNumberRecognizerTest {
    private static final int CARD = 3;
    private static final int RRN = 5;
    private static final DisguisedNumberRecognizer COMPILED = DisguisedNumberRecognizer.forDetectors(
                    Map.of(BuiltinDetector.CARD, CARD, BuiltinDetector.KR_RRN, RRN, BuiltinDetector.EMAIL, 9))
            .orElseThrow();

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Each candidate as "detector:text". */
    private static List<String> found(String text, Random chunks) {
        byte[] b = utf8(text);
        Recognizer r = COMPILED.newStream();
        List<String> out = new ArrayList<>();
        for (Candidate c : chunks == null ? whole(r, b) : ChunkedScans.scan(r, b, chunks)) {
            out.add(c.detector() + ":"
                    + new String(b, (int) c.start(), (int) (c.end() - c.start()), StandardCharsets.UTF_8));
        }
        return out;
    }

    private static List<Candidate> whole(Recognizer r, byte[] b) {
        TextWindow t = new TextWindow();
        t.append(b, 0, b.length);
        t.markComplete();
        List<Candidate> out = new ArrayList<>();
        r.scan(t, out::add);
        return out;
    }

    @Test
    void classify_namesEveryDisguiseAndNothingElse() {
        String[][] cases = {
            {"７", "7"},
            {"０", "0"},
            {"９", "9"},
            {"\u00A0", " "},
            {"\u3000", " "},
            {"\u2010", "-"},
            {"\u2011", "-"},
            {"\u2012", "-"},
            {"\u2013", "-"},
            {"\u2212", "-"},
            {"\uFF0D", "-"},
            {"\u200B", ""},
            {"\u200C", ""},
            {"\u200D", ""},
            {"\u2060", ""},
            {"\uFEFF", ""},
            {"\u00AD", ""},
            {"\u2014", "-"},
            {"\u2061", ""},
            {"\u202F", " "},
            {"\u2007", " "},
            {"\u200E", ""},
            {"\u0663", "3"},
            {"\u06F3", "3"},
            {"\u0969", "3"},
            {"\t", " "},
            {".", " "},
            {"5", "5"},
            {" ", " "},
            {"-", "-"},
        };
        for (String[] c : cases) {
            byte[] b = utf8(c[0]);
            int got = DisguisedNumberRecognizer.classify(b, 0, b.length, true);
            assertThat(got & 0xff).as("length of U+%04X", (int) c[0].charAt(0)).isEqualTo(b.length);
            assertThat(got >>> 8).as("U+%04X", (int) c[0].charAt(0)).isEqualTo(c[1].isEmpty() ? 0 : c[1].charAt(0));
        }
        for (String no : new String[] {
            "a", "\u201C", "\u2026", "\u00A9", "\u00C9", "\uFF21", "\uFF0E", "가", "\u3001", "\uFF1A", "\uFEFE", "_", "+"
        }) {
            byte[] b = utf8(no);
            assertThat(DisguisedNumberRecognizer.classify(b, 0, b.length, true))
                    .as("U+%04X", (int) no.charAt(0))
                    .isZero();
        }
        byte[] cut = utf8("５");
        assertThat(DisguisedNumberRecognizer.classify(cut, 0, 2, false)).isEqualTo(-1);
        assertThat(DisguisedNumberRecognizer.classify(cut, 0, 2, true)).isZero();
    }

    @Test
    void disguisedNumbers_areFoundOverTheirOriginalBytes_andPlainAsciiOnesAreLeftToTheBuiltinPass() {
        assertThat(found("카드 ４０１２ ８８８８ ８８８８ １８８１ 입니다", null)).containsExactly(CARD + ":４０１２ ８８８８ ８８８８ １８８１");
        assertThat(found("id 4012\u200B8888\u200B8888\u200B1881.", null))
                .containsExactly(CARD + ":4012\u200B8888\u200B8888\u200B1881");
        assertThat(found("주민번호 ９６０１２１－１０２１４１３", null)).containsExactly(RRN + ":９６０１２１－１０２１４１３");
        assertThat(found("4012 8888 8888 1881 and 960121-1021413", null)).isEmpty();
        assertThat(found("４０１２８８８８８８８８１８８２ \u201Cquoted\u201D \u2014 2010\u20132013", null))
                .isEmpty();
    }

    @Test
    void anyChunking_findsWhatTheWholeTextGives() {
        String[] pieces = {
            "４０１２ ８８８８ ８８８８ １８８１",
            "4012\u200B8888\u200B8888\u200B1881",
            "９６０１２１－１０２１４１３",
            "4012\u00A08888\u00A08888\u00A01881",
            " ",
            "  ",
            "-",
            "12",
            "\u200B",
            "\u00A0",
            "５",
            "word",
            "가나",
            "\u201C",
            "\u2014",
            "\u3000",
            "x"
        };
        Random random = new Random(31);
        for (int round = 0; round < 500; round++) {
            StringBuilder sb = new StringBuilder();
            for (int k = 0, n = 1 + random.nextInt(12); k < n; k++) {
                sb.append(pieces[random.nextInt(pieces.length)]);
            }
            String text = sb.toString();
            List<String> whole = found(text, null);
            assertThat(found(text, new Random(round))).as(text).isEqualTo(whole);
        }
    }

    @Test
    void aRunLongerThanItsLimit_isScannedInOverlappingPieces_reportingEachNumberOnce() {
        // Thousands of invisible characters before and inside the number, as a filter-evasion attempt would send.
        String number = "4012\u200B8888\u200B8888\u200B1881";
        int max = DisguisedNumberRecognizer.MAX_RUN;
        int overlap = DisguisedNumberRecognizer.OVERLAP;
        // Past the first piece; then inside the overlap of the first two pieces (scanned twice, reported once).
        for (int before : new int[] {max + overlap, max - overlap / 2}) {
            String text = "x " + "\u200B".repeat(before / 3) + number + "\u200B".repeat(max / 3) + " y";
            assertThat(found(text, null)).as("%d bytes before", before).containsExactly(CARD + ":" + number);
            assertThat(found(text, new Random(5))).as("%d bytes before", before).containsExactly(CARD + ":" + number);
        }
    }

    @Test
    void aRunAtTheEndOfTheBytesReceived_isHeldBackFromItsFirstDigit_untilItEnds() {
        // ASCII digits the main pass may already have judged can still become a number with the next character.
        Recognizer r = COMPILED.newStream();
        TextWindow t = new TextWindow();
        byte[] head = utf8("id: 4012 8888 8888");
        t.append(head, 0, head.length);
        List<Candidate> got = new ArrayList<>();
        assertThat(r.scan(t, got::add)).isEqualTo(4); // the first digit: the space before it is in no number
        byte[] cut = utf8("\u200B");
        t.append(cut, 0, 2); // two of the zero-width space's three bytes
        assertThat(r.scan(t, got::add)).isEqualTo(4);
        byte[] tail = utf8("1881 ok");
        t.append(cut, 2, 1);
        t.append(tail, 0, tail.length);
        assertThat(r.scan(t, got::add)).isEqualTo(t.length()); // the run ended before "ok"
        assertThat(got).singleElement().satisfies(c -> assertThat(c.start()).isEqualTo(4));
    }

    @Test
    void mayFind_ofTheBuiltinPass_isTrueForEveryDisguisedNumber() {
        // This pass answers for full-width forms only; the built-in pass it is part of for texts with four ASCII
        // digits, which every other disguised number has (nine at least).
        Recognizer builtin = new BuiltinRecognizer(Map.of(BuiltinDetector.CARD, CARD, BuiltinDetector.KR_RRN, RRN));
        for (String text : new String[] {
            "４０１２ ８８８８ ８８８８ １８８１",
            "4012\u200B8888\u200B8888\u200B1881",
            "주민번호 ９６０１２１－１０２１４１３",
            "4012\u00A08888\u00A08888\u00A01881",
            "４"
        }) {
            byte[] b = utf8(text);
            assertThat(builtin.mayFind(b, 0, b.length)).as(text).isTrue();
        }
        for (String text : new String[] {"plain words 고객 \u201Cquote\u201D", "a\u200Bb 12", "\u00A0\u3000", ""}) {
            byte[] b = utf8(text);
            assertThat(COMPILED.mayFind(b, 0, b.length)).as(text).isFalse();
            assertThat(builtin.mayFind(b, 0, b.length)).as(text).isFalse();
        }
    }

    @Test
    void theBuiltinPass_reportsDisguisedNumbersToo() {
        Recognizer builtin = new BuiltinRecognizer(Map.of(BuiltinDetector.CARD, CARD)).newStream();
        byte[] b = utf8("card 4012 8888 8888 1881 and ４０１２ ８８８８ ８８８８ １８８１.");
        List<Candidate> got = ChunkedScans.scan(builtin, b, new Random(2));
        assertThat(got)
                .extracting(c -> new String(b, (int) c.start(), (int) (c.end() - c.start()), StandardCharsets.UTF_8))
                .containsExactly("4012 8888 8888 1881", "４０１２ ８８８８ ８８８８ １８８１");
    }
}
