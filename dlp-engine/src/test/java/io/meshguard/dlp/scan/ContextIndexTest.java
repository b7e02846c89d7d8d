package io.meshguard.dlp.scan;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.dlp.detect.Simd;
import io.meshguard.dlp.detect.TextWindow;
import io.meshguard.testing.SlowTest;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.junit.jupiter.api.Test;

@SlowTest
class ContextIndexTest {
    private static final List<ContextRule> RULES = List.of(
            new ContextRule(List.of("card", "credit", "카드"), List.of("order", "imei", "주문번호"), 32, 0.3, 0.5),
            new ContextRule(List.of("resident registration", "주민", "rrn"), List.of(), 32, 0.3, 0.5),
            new ContextRule(List.of("ip", "v."), List.of("version", "v."), 32, 0.3, 0.5),
            new ContextRule(List.of(), List.of(), 32, 0.3, 0.5),
            new ContextRule(List.of("e-mail", " id", "x "), List.of("a"), 32, 0.3, 0.5));
    private static final String[] PIECES = {
        "card",
        "Card",
        "CARD",
        "xcard",
        "cards",
        "credit",
        "카드",
        "카드번호",
        "order",
        "imei",
        "주문번호",
        "resident",
        "registration",
        "resident registration",
        "Resident Registration",
        "주민",
        "rrn",
        "ip",
        "IP",
        "zip",
        "v.",
        "version",
        "e-mail",
        "id",
        "x",
        "a",
        "b",
        " ",
        " ",
        "  ",
        "-",
        ".",
        "0",
        "12",
        "é",
        "가",
        "가나",
        "ab가",
        "가b",
        "x.",
        "Id",
        "ID",
        "abcdefghij",
        "xyzid"
    };

    /** The window search the index replaces, written out plainly. */
    private static int naive(ContextRule rule, byte[] b, int before, int s, int e, int after) {
        java.io.ByteArrayOutputStream w = new java.io.ByteArrayOutputStream();
        for (int k = before; k < s; k++) {
            w.write(lower(b[k]));
        }
        w.write(' ');
        for (int k = e; k < after; k++) {
            w.write(lower(b[k]));
        }
        byte[] win = w.toByteArray();
        return (anyPresent(rule.boostWords(), win) ? ContextWords.BOOST : 0)
                | (anyPresent(rule.penaltyWords(), win) ? ContextWords.PENALTY : 0);
    }

    private static boolean anyPresent(List<String> words, byte[] w) {
        for (String word : words) {
            byte[] needle = word.toLowerCase(Locale.ROOT).getBytes(StandardCharsets.UTF_8);
            boolean ascii = needle[0] >= 0 && needle[needle.length - 1] >= 0;
            for (int i = 0; i + needle.length <= w.length; i++) {
                if (java.util.Arrays.equals(w, i, i + needle.length, needle, 0, needle.length)
                        && !(ascii
                                && ((i > 0 && letter(w[i - 1]))
                                        || (i + needle.length < w.length && letter(w[i + needle.length]))))) {
                    return true;
                }
            }
        }
        return false;
    }

    private static int lower(byte x) {
        return x >= 'A' && x <= 'Z' ? x + 32 : x & 0xff;
    }

    private static boolean letter(byte x) {
        return x >= 'a' && x <= 'z';
    }

    /** The same words without those starting with a space or ending in one: the index probes word starts only. */
    private static final List<ContextRule> WORD_START_RULES = List.of(
            RULES.get(0),
            RULES.get(1),
            RULES.get(2),
            RULES.get(3),
            new ContextRule(List.of("e-mail", "id", "x.", "가b"), List.of("a", "가나"), 32, 0.3, 0.5));

    @Test
    void found_isWhatASearchOfTheWindowFinds_whateverTheRounds() {
        assertThat(new ContextWords(RULES).wordStartsOnly).isFalse();
        assertFoundMatchesSearch(RULES, 5);
    }

    @Test
    void found_withWindowsInTextOrder_isWhatASearchOfTheWindowFinds() {
        // The scanner asks about findings in about text order: the lookup's remembered position is used then.
        assertFoundMatchesSearch(RULES, 9, true);
        assertFoundMatchesSearch(WORD_START_RULES, 10, true);
    }

    @Test
    void found_probingWordStartsOnly_isWhatASearchOfTheWindowFinds() {
        assertThat(new ContextWords(WORD_START_RULES).wordStartsOnly).isTrue();
        assertFoundMatchesSearch(WORD_START_RULES, 7);
        assertFoundMatchesSearch(WORD_START_RULES, 8);
    }

    @Test
    void wordStartsOnly_holdsForTheBuiltinDetectorsWords() {
        List<ContextRule> builtins = java.util.Arrays.stream(io.meshguard.dlp.detect.BuiltinDetector.values())
                .map(d -> new ContextRule(d.contextBoost(), d.contextPenalty(), 32, 0.3, 0.5))
                .toList();
        assertThat(new ContextWords(builtins).wordStartsOnly).isTrue();
    }

    /**
     * {@link ContextWords#noneIn}, which lets the scanner skip indexing and looking up a window, against the plain
     * window search: wherever it answers true the window gives neither BOOST nor PENALTY, on generated texts dense in
     * the words (both cases), their first two bytes, words with spaces that run across the value, and windows with
     * empty parts; it answers true often, and never for a rule with a word starting with a space.
     */
    @Test
    void noneIn_onlyWhereTheWindowHoldsNoWordOfTheRule() {
        List<ContextRule> rules = new java.util.ArrayList<>(RULES);
        for (io.meshguard.dlp.detect.BuiltinDetector d : io.meshguard.dlp.detect.BuiltinDetector.values()) {
            rules.add(new ContextRule(d.contextBoost(), d.contextPenalty(), 32, 0.3, 0.5));
        }
        ContextWords words = new ContextWords(rules);
        String[] more = {"ca", "CR", "re", "x", "ac", "aws", "AWS", "acc", "에", "카", "주", "tel", "te", "mai"};
        Random random = new Random(33);
        int none = 0;
        for (int round = 0; round < 5_000; round++) {
            StringBuilder sb = new StringBuilder();
            for (int k = 0, n = 1 + random.nextInt(10); k < n; k++) {
                String w = random.nextBoolean()
                        ? PIECES[random.nextInt(PIECES.length)]
                        : more[random.nextInt(more.length)];
                sb.append(random.nextBoolean() ? w : w.toUpperCase(Locale.ROOT));
            }
            byte[] b = sb.toString().getBytes(StandardCharsets.UTF_8);
            int before = random.nextInt(b.length + 1);
            int s = before + random.nextInt(b.length - before + 1);
            int e = s + random.nextInt(b.length - s + 1);
            int after = e + random.nextInt(b.length - e + 1);
            for (int r = 0; r < rules.size(); r++) {
                if (words.noneIn(r, b, before, s, e, after)) {
                    none++;
                    assertThat(naive(rules.get(r), b, before, s, e, after))
                            .as("rule %d, window [%d, %d) [%d, %d) of %s", r, before, s, e, after, sb)
                            .isZero();
                }
            }
        }
        assertThat(none).isGreaterThan(10_000);
        byte[] b = "x x".getBytes(StandardCharsets.UTF_8);
        assertThat(words.noneIn(4, b, 0, 0, 3, 3)).isFalse(); // " id": the space for the value could start it
    }

    /**
     * {@link ContextWords#noneIn} eight positions a step (rules with few first pairs: {@code aws}, {@code access})
     * against its one-probe-per-byte form (for rules whose words hold no space, against that form with the heads of the
     * words compared at each pair, written out), and, where it answers true, the plain search of narrower windows (the
     * scanner then skips finding the window's line cuts): on generated texts dense in the words (both cases), one-byte
     * words and words with a space as second byte, their first two bytes, the bytes around {@code A-Z}
     * ({@code @ [ ` {}), lead and continuation bytes, windows up to a few hundred bytes at both ends of the array.
     */
    @Test
    void noneIn_eightPositionsAStep_andForEveryNarrowerWindow_givesWhatThePlainSearchGives() {
        List<ContextRule> rules = new java.util.ArrayList<>(RULES);
        rules.addAll(SHARED_START_RULES);
        for (io.meshguard.dlp.detect.BuiltinDetector d : io.meshguard.dlp.detect.BuiltinDetector.values()) {
            rules.add(new ContextRule(d.contextBoost(), d.contextPenalty(), 32, 0.3, 0.5));
        }
        rules.add(new ContextRule(List.of("aws", "access"), List.of("@x", "[y"), 32, 0.3, 0.5)); // four pairs
        rules.add(new ContextRule(List.of("가나", "aws"), List.of("[y"), 32, 0.3, 0.5));
        rules.add(new ContextRule(List.of("zz", "{a"), List.of("`b"), 32, 0.3, 0.5));
        rules.add(new ContextRule(List.of("aws", "t "), List.of("q"), 32, 0.3, 0.5));
        ContextWords words = new ContextWords(rules);
        String[] more = {
            "aws", "AWS", "aW", "Ac", "access", "ACCESS", "@x", "@X", "[y", "[Y", "`b", "`B", "{a", "{A", "zz", "ZZ",
            "Zz", "가나", "가", "나", "t ", "T", "q", "Q", "@", "[", "`", "{", "\u00c0", "\u00e0", " ", "  ", "account",
            "ACCOUNT", "acce", "ACCe", "accesS", "awl", "AWx", "aw", "@xy", "[Yz", "zZz", "{A{", "가나다"
        };
        Random random = new Random(34);
        int none = 0;
        int headsDecided = 0;
        for (int round = 0; round < 4_000; round++) {
            StringBuilder sb = new StringBuilder();
            for (int k = 0, n = 1 + random.nextInt(60); k < n; k++) {
                String w = random.nextInt(3) == 0
                        ? PIECES[random.nextInt(PIECES.length)]
                        : random.nextInt(4) == 0
                                ? SHARED_START_PIECES[random.nextInt(SHARED_START_PIECES.length)]
                                : more[random.nextInt(more.length)];
                sb.append(w);
            }
            byte[] b = sb.toString().getBytes(StandardCharsets.UTF_8);
            int before = random.nextInt(8) == 0 ? 0 : random.nextInt(b.length + 1);
            int s = before + random.nextInt(b.length - before + 1);
            int e = s + random.nextInt(b.length - s + 1);
            int after = random.nextInt(8) == 0 ? b.length : e + random.nextInt(b.length - e + 1);
            for (int r = 0; r < rules.size(); r++) {
                boolean noneIn = words.noneIn(r, b, before, s, e, after);
                boolean byBytes = words.noneInByBytes(r, b, before, s, e, after);
                assertThat(noneIn)
                        .as("rule %d, window [%d, %d) [%d, %d) of %s", r, before, s, e, after, sb)
                        .isEqualTo(
                                headsCompared(rules.get(r))
                                        ? noneByHeads(rules.get(r), b, before, s, e, after)
                                        : byBytes);
                if (noneIn != byBytes) {
                    headsDecided++;
                }
                if (noneIn) {
                    none++;
                    for (int q = 0; q < 4; q++) {
                        int narrowBefore = before + random.nextInt(s - before + 1);
                        int narrowAfter = e + random.nextInt(after - e + 1);
                        assertThat(naive(rules.get(r), b, narrowBefore, s, e, narrowAfter))
                                .as("rule %d, window [%d, %d) [%d, %d) of %s", r, narrowBefore, s, e, narrowAfter, sb)
                                .isZero();
                    }
                }
            }
        }
        assertThat(none).isGreaterThan(10_000);
        assertThat(headsDecided).isGreaterThan(1_000);
    }

    /**
     * Whether {@link ContextWords#noneIn} compares the heads of {@code rule}'s words at each pair: its words' distinct
     * first two bytes are at most four, and no word is one byte long or holds a space.
     */
    private static boolean headsCompared(ContextRule rule) {
        java.util.Set<String> pairs = new java.util.HashSet<>();
        for (byte[] w : wordsOf(rule)) {
            if (w.length < 2 || new String(w, StandardCharsets.ISO_8859_1).contains(" ")) {
                return false;
            }
            pairs.add(new String(w, 0, 2, StandardCharsets.ISO_8859_1));
        }
        return !pairs.isEmpty() && pairs.size() <= 4;
    }

    private static List<byte[]> wordsOf(ContextRule rule) {
        return java.util.stream.Stream.concat(rule.boostWords().stream(), rule.penaltyWords().stream())
                .map(w -> w.toLowerCase(Locale.ROOT).getBytes(StandardCharsets.UTF_8))
                .toList();
    }

    /**
     * {@link ContextWords#noneIn} with heads compared, written out: no position of either part where a word's first
     * two bytes are (lower-cased) and, unless fewer than four bytes of the part are left there, the first four bytes
     * of a word (all of a shorter one).
     */
    private static boolean noneByHeads(ContextRule rule, byte[] b, int before, int s, int e, int after) {
        return !anyHead(rule, b, before, s) && !anyHead(rule, b, e, after);
    }

    private static boolean anyHead(ContextRule rule, byte[] b, int from, int to) {
        for (int p = from; p + 1 < to; p++) {
            for (byte[] w : wordsOf(rule)) {
                if (lower(b[p]) == (w[0] & 0xff) && lower(b[p + 1]) == (w[1] & 0xff)) {
                    if (to - p < 4) {
                        return true;
                    }
                    for (byte[] v : wordsOf(rule)) {
                        int k = 0;
                        while (k < Math.min(4, v.length) && lower(b[p + k]) == (v[k] & 0xff)) {
                            k++;
                        }
                        if (k == Math.min(4, v.length)) {
                            return true;
                        }
                    }
                }
            }
        }
        return false;
    }

    /**
     * {@link ContextWords#endsAtInSteps} (three masked eight-byte compares) against the byte loop {@link
     * ContextWords#endsAt} at every end of generated texts dense in the words, their suffixes and near misses (both
     * cases, the bytes around {@code A-Z}, Hangul): the built-ins' words, and words of 1, 7, 8, 9, 16, 17, 23, 24 and
     * 25 bytes (the steps' edges, and past the steps' reach), at both ends of the array.
     */
    @Test
    void endsAtInSteps_givesWhatTheByteLoopGives_atEveryEnd() {
        List<String> edges = List.of(
                "q",
                "abcdefg",
                "abcd@fgh",
                "abcdefghi",
                "카드abcdefghij",
                "[cdefghijklmnopq",
                "abcdefghijklmnopqrstuvw",
                "주민등록번호ab{de`",
                "abcdefghijklmnopqrstuvwxy");
        List<ContextRule> rules = builtinRulesAnd(edges, List.of());
        ContextWords words = new ContextWords(rules);
        List<String> pieces = piecesOf(
                rules, " ", "x", "@", "[", "`", "{", "Z", "가", "등록번호", "ard", "AIL", "e-", "efghijklmnopqrstuvwxy");
        Random random = new Random(35);
        int matches = 0;
        for (int round = 0; round < 3_000; round++) {
            String sb = textOf(pieces, random);
            byte[] b = sb.getBytes(StandardCharsets.UTF_8);
            for (int end = 0; end <= b.length; end++) {
                for (int w = 0; w < words.words.length; w++) {
                    boolean byBytes = words.endsAt(w, b, end);
                    assertThat(words.endsAtInSteps(w, b, end))
                            .as("word %s at %d of %s", new String(words.words[w], StandardCharsets.UTF_8), end, sb)
                            .isEqualTo(byBytes);
                    matches += byBytes ? 1 : 0;
                }
            }
        }
        assertThat(matches).isGreaterThan(10_000);
    }

    /**
     * {@link ContextWords#mayEndUncutBoost}, which lets the scanner skip comparing a rule's boost words before a value,
     * against {@link ContextWords#endsAt} at every end (from 2) of generated texts dense in the words, their last
     * bytes and near misses (both cases, bytes with the same low five bits as letters, Hangul), for the built-ins' and
     * edge words (one byte, with a cut, Korean): never false where one of the rule's uncut boost words ends, and
     * false at most ends.
     */
    @Test
    void mayEndUncutBoost_isTrueWhereverAnUncutBoostWordEnds() {
        List<ContextRule> rules = builtinRulesAnd(
                List.of("q", "abcd@fgh", "카드abcdefghij", "주민등록번호", "tel no", "card[x"), List.of("penalty"));
        ContextWords words = new ContextWords(rules);
        List<String> pieces =
                piecesOf(rules, " ", "x", "@", "`", "Q", "1", "q!", "D", "d", "$", "D$", "가", "번호", "ard", "o:", "1 ");
        Random random = new Random(36);
        int ends = 0;
        int rejected = 0;
        for (int round = 0; round < 3_000; round++) {
            String sb = textOf(pieces, random);
            byte[] b = sb.getBytes(StandardCharsets.UTF_8);
            for (int end = 2; end <= b.length; end++) {
                for (int r = 0; r < rules.size(); r++) {
                    boolean may = words.mayEndUncutBoost(r, b[end - 2], b[end - 1]);
                    rejected += may ? 0 : 1;
                    for (int w : words.uncutBoostWords[r]) {
                        if (words.endsAt(w, b, end)) {
                            ends++;
                            assertThat(may)
                                    .as(
                                            "rule %d, word %s at %d of %s",
                                            r, new String(words.words[w], StandardCharsets.UTF_8), end, sb)
                                    .isTrue();
                        }
                    }
                }
            }
        }
        assertThat(ends).isGreaterThan(5_000);
        assertThat(rejected).isGreaterThan(ends * 5);
    }

    /** The built-in detectors' context rules, then one rule with {@code boost} and {@code penalty} words. */
    private static List<ContextRule> builtinRulesAnd(List<String> boost, List<String> penalty) {
        List<ContextRule> rules = new java.util.ArrayList<>();
        for (io.meshguard.dlp.detect.BuiltinDetector d : io.meshguard.dlp.detect.BuiltinDetector.values()) {
            rules.add(new ContextRule(d.contextBoost(), d.contextPenalty(), 32, 0.3, 0.5));
        }
        rules.add(new ContextRule(boost, penalty, 32, 0.3, 0.5));
        return rules;
    }

    /** Every word of {@code rules}, then {@code nearMisses}: what {@link #textOf} strings together. */
    private static List<String> piecesOf(List<ContextRule> rules, String... nearMisses) {
        List<String> pieces = new java.util.ArrayList<>();
        for (ContextRule r : rules) {
            pieces.addAll(r.boostWords());
            pieces.addAll(r.penaltyWords());
        }
        pieces.addAll(List.of(nearMisses));
        return pieces;
    }

    /** One to twelve of {@code pieces}, each as it is, upper-cased or capitalised. */
    private static String textOf(List<String> pieces, Random random) {
        StringBuilder sb = new StringBuilder();
        for (int k = 0, n = 1 + random.nextInt(12); k < n; k++) {
            String w = pieces.get(random.nextInt(pieces.size()));
            sb.append(
                    random.nextBoolean()
                            ? w
                            : random.nextBoolean()
                                    ? w.toUpperCase(Locale.ROOT)
                                    : Character.toUpperCase(w.charAt(0)) + w.substring(1));
        }
        return sb.toString();
    }

    @Test
    void letters_flagsExactlyTheAsciiLettersOfEveryByteValue() {
        Random random = new Random(11);
        for (int c = 0; c < 256; c++) {
            for (int pos = 0; pos < 8; pos++) {
                byte[] bytes = new byte[8];
                random.nextBytes(bytes);
                bytes[pos] = (byte) c;
                long x = java.nio.ByteBuffer.wrap(bytes)
                        .order(java.nio.ByteOrder.LITTLE_ENDIAN)
                        .getLong();
                long want = 0;
                for (int k = 0; k < 8; k++) {
                    int v = bytes[k] & 0xff;
                    if ((v >= 'a' && v <= 'z') || (v >= 'A' && v <= 'Z')) {
                        want |= 0x80L << (8 * k);
                    }
                }
                assertThat(ContextIndex.letters(x)).as("byte %d at %d", c, pos).isEqualTo(want);
            }
        }
    }

    @Test
    void found_inLongTextsFedInLargePieces_isWhatASearchOfTheWindowFinds() {
        // Hundreds of bytes per round: the index lists many blocks of word starts, some words with more than four
        // (lead bytes back to back, as malformed UTF-8 can have them).
        ContextWords words = new ContextWords(WORD_START_RULES);
        Random random = new Random(14);
        String[] dense = {"a.b.c.d.e.f.", "éééééé", "가가가"};
        for (int round = 0; round < 300; round++) {
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            for (int k = 0, n = 40 + random.nextInt(300); k < n; k++) {
                if (random.nextInt(8) == 0) {
                    byte[] run = new byte[1 + random.nextInt(12)];
                    java.util.Arrays.fill(run, (byte) (0xC0 + random.nextInt(0x40)));
                    out.writeBytes(run);
                } else {
                    String piece = random.nextInt(10) == 0
                            ? dense[random.nextInt(dense.length)]
                            : PIECES[random.nextInt(PIECES.length)];
                    out.writeBytes(piece.getBytes(StandardCharsets.UTF_8));
                }
            }
            byte[] text = out.toByteArray();
            TextWindow window = new TextWindow();
            ContextIndex[] indexes = bothPaths(words);
            int fed = 0;
            while (fed < text.length) {
                int len = Math.min(text.length - fed, 1 + random.nextInt(1200));
                window.append(text, fed, len);
                fed += len;
                if (fed == text.length) {
                    window.markComplete();
                }
                for (ContextIndex index : indexes) {
                    index.index(window);
                }
            }
            for (int q = 0; q < 200; q++) {
                int n = window.length();
                int s = random.nextInt(n + 1);
                int e = Math.min(n, s + random.nextInt(20));
                int before = Math.max(0, s - random.nextInt(40));
                int after = Math.min(n, e + random.nextInt(40));
                for (int rule = 0; rule < WORD_START_RULES.size(); rule++) {
                    int want = naive(WORD_START_RULES.get(rule), window.bytes(), before, s, e, after);
                    for (ContextIndex index : indexes) {
                        int got = index.found(rule, window, before, s, e, after);
                        assertThat(got)
                                .as("rule %d, round %d [%d,%d) value [%d,%d)", rule, round, before, after, s, e)
                                .isEqualTo(want & words.wanted[rule]);
                    }
                }
            }
        }
    }

    /**
     * {@link ContextIndex#cover}: an index that records only the windows asked for (in random order: ranges past the
     * run it holds, ranges reaching back before it, overlapping and nested ones), asked while the text still arrives
     * and once it is complete, gives what the index of all the text gives, for {@code found} and
     * {@code lastBoostWord}; both word-start paths.
     */
    @Test
    void cover_onlyTheWindowsAskedFor_givesWhatTheIndexOfAllTheTextGives() {
        ContextWords words = new ContextWords(WORD_START_RULES);
        Random random = new Random(29);
        long resets = 0;
        for (int round = 0; round < 300; round++) {
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            for (int k = 0, n = 20 + random.nextInt(200); k < n; k++) {
                out.writeBytes(PIECES[random.nextInt(PIECES.length)].getBytes(StandardCharsets.UTF_8));
            }
            byte[] text = out.toByteArray();
            TextWindow window = new TextWindow();
            ContextIndex[] all = bothPaths(words);
            ContextIndex[] covered = bothPaths(words);
            int fed = 0;
            while (fed < text.length) {
                int len = Math.min(text.length - fed, 1 + random.nextInt(random.nextBoolean() ? 30 : 600));
                window.append(text, fed, len);
                fed += len;
                if (fed == text.length) {
                    window.markComplete();
                }
                for (ContextIndex index : all) {
                    index.index(window);
                }
                int n = window.length();
                int s = random.nextInt(n + 1);
                for (int q = 0; q < 20; q++) {
                    // Mostly forward, as the scanner asks (values in order of start), sometimes back or anywhere.
                    s = random.nextInt(4) == 0 ? random.nextInt(n + 1) : Math.min(n, s + random.nextInt(60));
                    int e = Math.min(n, s + random.nextInt(20));
                    // As in the scanner, which keeps context before every window: index 0 is only the text's start.
                    int before = Math.max(window.base() > 0 ? 1 : 0, s - random.nextInt(40));
                    s = Math.max(s, before);
                    e = Math.max(e, s);
                    int after = Math.min(n, e + random.nextInt(40));
                    for (int p = 0; p < covered.length; p++) {
                        if (random.nextBoolean()) {
                            covered[p].cover(window, before, s);
                            for (int rule = 0; rule < WORD_START_RULES.size(); rule++) {
                                assertThat(covered[p].lastBoostWord(rule, window, before, s))
                                        .as("last boost word, rule %d, round %d [%d,%d)", rule, round, before, s)
                                        .isEqualTo(all[p].lastBoostWord(rule, window, before, s));
                            }
                        }
                        covered[p].cover(window, before, after);
                        for (int rule = 0; rule < WORD_START_RULES.size(); rule++) {
                            assertThat(covered[p].found(rule, window, before, s, e, after))
                                    .as("rule %d, round %d [%d,%d) value [%d,%d)", rule, round, before, after, s, e)
                                    .isEqualTo(all[p].found(rule, window, before, s, e, after));
                        }
                    }
                }
                window.discardBefore(window.base() + Math.max(0, window.length() - 200));
                for (ContextIndex index : all) {
                    index.discardBefore(window.base());
                }
                for (ContextIndex index : covered) {
                    index.discardBefore(window.base());
                }
            }
            resets += covered[0].rewinds();
        }
        assertThat(resets).isPositive();
    }

    /** An index that finds word starts eight bytes a step and one that uses vectors where this JVM has them. */
    private static ContextIndex[] bothPaths(ContextWords words) {
        return new ContextIndex[] {new ContextIndex(words, false), new ContextIndex(words, Simd.LANES > 0)};
    }

    /**
     * Words sharing their first three or four bytes, or one being the start of another, of every length the index
     * keeps apart (one to three bytes, four, more): the index tells them apart by their first four bytes.
     */
    private static final List<ContextRule> SHARED_START_RULES = List.of(
            new ContextRule(List.of("account", "acc", "card"), List.of("access", "access_key"), 32, 0.3, 0.5),
            new ContextRule(List.of("foreigner", "for", "fo"), List.of("f"), 32, 0.3, 0.5),
            new ContextRule(List.of("주민", "주민번호"), List.of("주문번호", "주"), 32, 0.3, 0.5),
            new ContextRule(List.of("tel", "tele", "telephone"), List.of("te"), 32, 0.3, 0.5));

    private static final String[] SHARED_START_PIECES = {
        "acc",
        "ACC",
        "acce",
        "accesS",
        "access_key",
        "Access_Key",
        "accou",
        "account",
        "ACCOUNT",
        "accounts",
        "car",
        "card",
        "CARD",
        "cards",
        "fo",
        "FOR",
        "for",
        "fore",
        "foreign",
        "foreigner",
        "f",
        "F",
        "주",
        "주민",
        "주민번",
        "주민번호",
        "주문",
        "주문번호",
        "te",
        "tel",
        "TEL",
        "tele",
        "telephone",
        "TelePhone",
        "accxss",
        "forXigner",
        "acceXs",
        "ACCEsX_key",
        "foreXgner",
        "teleXhone",
        " ",
        "  ",
        ".",
        "_",
        "0",
        "가",
        "@",
        "[",
        "`",
        "{",
        "Z",
        "z"
    };

    @Test
    void found_withWordsSharingTheirFirstBytes_isWhatASearchOfTheWindowFinds() {
        assertThat(new ContextWords(SHARED_START_RULES).wordStartsOnly).isTrue();
        assertFoundMatchesSearch(SHARED_START_RULES, SHARED_START_PIECES, 21, false);
        assertFoundMatchesSearch(SHARED_START_RULES, SHARED_START_PIECES, 22, true);
    }

    @Test
    void found_withWordsAtTheEndOfTheArray_isWhatASearchOfTheWindowFinds() {
        // A text window's array starts at 256 bytes: texts of up to that length put words within eight bytes of its
        // end, where the index compares the rest of a word byte by byte instead of eight bytes at a time.
        ContextWords words = new ContextWords(SHARED_START_RULES);
        for (String piece : SHARED_START_PIECES) {
            byte[] last = piece.getBytes(StandardCharsets.UTF_8);
            for (int n = 256 - 24; n <= 256; n++) {
                for (int pad = 0; pad <= 2 && pad + last.length < n; pad++) {
                    byte[] text = new byte[n];
                    java.util.Arrays.fill(text, (byte) ' ');
                    System.arraycopy(last, 0, text, n - pad - last.length, last.length);
                    TextWindow window = new TextWindow();
                    window.append(text, 0, n);
                    window.markComplete();
                    assertThat(window.bytes().length).isEqualTo(256);
                    ContextIndex index = new ContextIndex(words);
                    index.index(window);
                    for (int rule = 0; rule < SHARED_START_RULES.size(); rule++) {
                        int want = naive(SHARED_START_RULES.get(rule), text, 0, 0, 0, n) & words.wanted[rule];
                        assertThat(index.found(rule, window, 0, 0, 0, n))
                                .as("rule %d, \"%s\" + %d spaces at %d", rule, piece, pad, n)
                                .isEqualTo(want);
                    }
                }
            }
        }
    }

    @Test
    void key_lowerCasesExactlyTheAsciiLettersOfEveryByteValue() {
        Random random = new Random(12);
        for (int c = 0; c < 256; c++) {
            for (int pos = 0; pos < 4; pos++) {
                byte[] bytes = new byte[4];
                random.nextBytes(bytes);
                bytes[pos] = (byte) c;
                int want = 0;
                for (int k = 0; k < 4; k++) {
                    want |= lower(bytes[k]) << (8 * k);
                }
                int x = java.nio.ByteBuffer.wrap(bytes)
                        .order(java.nio.ByteOrder.LITTLE_ENDIAN)
                        .getInt();
                assertThat(ContextWords.key(x)).as("byte %d at %d", c, pos).isEqualTo(want);
            }
        }
    }

    private static void assertFoundMatchesSearch(List<ContextRule> rules, long seed) {
        assertFoundMatchesSearch(rules, seed, false);
    }

    private static void assertFoundMatchesSearch(List<ContextRule> rules, long seed, boolean inOrder) {
        assertFoundMatchesSearch(rules, PIECES, seed, inOrder);
    }

    /**
     * @param pieces what the texts are made of
     * @param inOrder whether each round's windows come in text order (else at random places)
     */
    private static void assertFoundMatchesSearch(List<ContextRule> rules, String[] pieces, long seed, boolean inOrder) {
        ContextWords words = new ContextWords(rules);
        Random random = new Random(seed);
        for (int round = 0; round < 600; round++) {
            StringBuilder sb = new StringBuilder();
            for (int k = 0, n = 5 + random.nextInt(60); k < n; k++) {
                sb.append(pieces[random.nextInt(pieces.length)]);
            }
            byte[] text = sb.toString().getBytes(StandardCharsets.UTF_8);
            TextWindow window = new TextWindow();
            ContextIndex[] indexes = bothPaths(words);
            int fed = 0;
            while (true) {
                // Mostly a few bytes a round; now and then more than a vector's worth.
                int len = Math.min(text.length - fed, 1 + random.nextInt(random.nextInt(8) == 0 ? 200 : 20));
                window.append(text, fed, len);
                fed += len;
                if (fed == text.length && random.nextBoolean()) {
                    window.markComplete();
                }
                for (ContextIndex index : indexes) {
                    index.index(window);
                }
                int lastBefore = 0;
                for (int q = 0; q < 20; q++) {
                    int n = window.length();
                    int before = inOrder ? Math.min(n, lastBefore + random.nextInt(12)) : random.nextInt(n + 1);
                    lastBefore = before;
                    int s = before + random.nextInt(n - before + 1);
                    int e = s + random.nextInt(n - s + 1);
                    int after = e + random.nextInt(n - e + 1);
                    for (int rule = 0; rule < rules.size(); rule++) {
                        int want = naive(rules.get(rule), window.bytes(), before, s, e, after);
                        for (ContextIndex index : indexes) {
                            int got = index.found(rule, window, before, s, e, after);
                            assertThat(got)
                                    .as("rule %d, \"%s\" [%d,%d) value [%d,%d)", rule, sb, before, after, s, e)
                                    .isEqualTo(want & words.wanted[rule]);
                        }
                    }
                }
                if (fed == text.length) {
                    break;
                }
            }
        }
    }
}
