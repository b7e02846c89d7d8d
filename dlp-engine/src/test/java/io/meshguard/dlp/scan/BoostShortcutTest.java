package io.meshguard.dlp.scan;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.dlp.detect.BuiltinDetector;
import io.meshguard.testing.SlowTest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * {@link StreamScanner}'s boost shortcut (a boost word right before a value settles its context without walking
 * the window; the word found without the index when only spaces separate it from the value) and its index of only
 * the windows scored, against the scanner with the shortcut off, which walks every window, and the index of all the
 * text: the same output and the same findings (confidence and HMAC included) on generated texts dense in context
 * words of both kinds, values, labels,
 * line and structure cuts, commas, letters glued to words, Hangul and emoji, for windows of 1 to 32 characters,
 * scanned whole and in random chunks. (The vector and eight-byte walks the slow side runs are compared with the
 * one-character walk in {@link CharWalkTest}; the shortcut itself has no vector form.)
 */
@SlowTest
class BoostShortcutTest {
    /** Every window walked and all the text indexed, start maps as this JVM's scanner uses them. */
    private static final StreamScanner.Shortcuts WALKED =
            new StreamScanner.Shortcuts(StreamScanner.Shortcuts.ALL.startMaps(), false, false, false);

    private static final String[] VALUES = {
        "4532015112830366",
        "4532 0151 1283 0366",
        "960121-1021413",
        "010-1234-5678",
        "kim.minsu7@bank.co.kr",
        "DE89 3704 0044 0532 0130 00",
        "AKIAIOSFODNN7EXAMPLE",
        "192.168.10.20",
        "5105 1051 0510 5100",
        "123-45-67890"
    };
    private static final String[] GLUE = {
        " ", "  ", "", ", ", ",\"", ", \"", "\n", "\r\n", ": ", "# ", "=", "\"", "[", "]", "{", "}", "\t", "-", "x",
        "가", "😀", ". ", " : ", "\": \"", "'", "_"
    };
    private static final String[] KEYS = {"aws_key", "card_number", "order_id", "tel", "note", "imei"};
    private static final String[] FILLER = {
        "the", "of", "balance", "고객", "계좌", "이체", "감사합니다", "Order ID", "order_id", "No.", "ab", "Q", "🙂🙂", "zz", "a1"
    };

    @Test
    void boostShortcut_givesWhatTheWalkedWindowGives_onDenseGeneratedText() {
        assertSameAsWalked(new Random(31), 600, List.of(), 10);
    }

    /**
     * Boost words that hold a cut or a comma ({@code "tel,"}, {@code "[card"}) are left to the index by the look-up
     * right before the value, which then needs no walk to the value ({@link ContextWords#uncutBoostWords}): such a
     * word there, or its cut-free part, still gives what the walked window gives.
     */
    @Test
    void boostShortcut_withBoostWordsHoldingCutsOrCommas_givesWhatTheWalkedWindowGives() {
        assertSameAsWalked(
                new Random(32), 400, List.of("tel,", "[card", "mail}", "iban\n", "key, ", "{aws", "a]b"), 20);
    }

    /**
     * The scanner with every shortcut against {@link #WALKED} on {@code rounds} texts, {@code extra} boost words; at
     * least one finding of the texts with no JSON key in {@code oneIn} takes the shortcut.
     */
    private static void assertSameAsWalked(Random random, int rounds, List<String> extra, int oneIn) {
        List<String> words = new ArrayList<>(extra);
        for (BuiltinDetector d : BuiltinDetector.values()) {
            words.addAll(d.contextBoost());
            words.addAll(d.contextPenalty());
        }
        long shortcuts = 0;
        long findings = 0;
        for (int round = 0; round < rounds; round++) {
            int within = new int[] {1, 3, 6, 12, 20, 32, 32, 32}[random.nextInt(8)];
            ActionKind action = random.nextInt(4) == 0 ? ActionKind.ALERT : ActionKind.MASK;
            ScanRules rules = rules(action, within, extra);
            byte[] text = text(random, words).getBytes(StandardCharsets.UTF_8);
            // One text in four is a JSON value: its key counts for the windows that reach the value's start.
            String key = random.nextInt(4) == 0 ? KEYS[random.nextInt(KEYS.length)] : "";
            CollectingOutput walked = new CollectingOutput();
            // Every window walked, all the text indexed at each round: as the scanner scored before the shortcut.
            StreamScanner reference = new StreamScanner(rules, ValueHasher.forTenant(Scans.KEY, "t1"), walked, WALKED);
            reference.context(key);
            Scans.feed(reference, text, null, 0);
            for (int split = 0; split < 3; split++) {
                CollectingOutput fast = new CollectingOutput();
                StreamScanner scanner = new StreamScanner(
                        rules, ValueHasher.forTenant(Scans.KEY, "t1"), fast, StreamScanner.Shortcuts.ALL);
                scanner.context(key);
                Scans.feed(scanner, text, random, split == 0 ? text.length : 1 + random.nextInt(split == 1 ? 7 : 200));
                assertThat(fast.bytes()).as("output, round %d", round).isEqualTo(walked.bytes());
                assertThat(fast.findings()).as("findings, round %d", round).isEqualTo(walked.findings());
                shortcuts += scanner.boostShortcuts();
            }
            findings += key.isEmpty() ? walked.findingCount() : 0; // a JSON value's findings take no shortcut
        }
        // The texts reach the shortcut often, and not always (windows with no boost word, or a cut before it).
        assertThat(shortcuts).isGreaterThan(findings / oneIn).isLessThan(findings * 3);
    }

    /**
     * A chunk that ends inside the last character of a finding's after-window leaves where the window ends unknown:
     * scored then, the window would stop at the chunk's end, cut "전화" (a phone boost word) in half and miss it.
     */
    @Test
    void afterWindow_endingInsideACharacterAtTheChunkEnd_waitsForTheRest() {
        byte[] text = "고객010-1234-5678 전화-x 주민 960121-1021413 😀😀 tail".getBytes(StandardCharsets.UTF_8);
        for (int within : new int[] {1, 2, 3, 4}) {
            ScanRules rules = rules(ActionKind.ALERT, within, List.of());
            for (boolean shortcutOff : new boolean[] {true, false}) {
                CollectingOutput whole = new CollectingOutput();
                StreamScanner scanner = new StreamScanner(
                        rules,
                        ValueHasher.forTenant(Scans.KEY, "t1"),
                        whole,
                        shortcutOff ? WALKED : StreamScanner.Shortcuts.ALL);
                Scans.feed(scanner, text, null, 0);
                assertThat(whole.findings()).isNotEmpty();
                for (int cut = 1; cut < text.length; cut++) {
                    CollectingOutput split = new CollectingOutput();
                    StreamScanner s = new StreamScanner(
                            rules,
                            ValueHasher.forTenant(Scans.KEY, "t1"),
                            split,
                            shortcutOff ? WALKED : StreamScanner.Shortcuts.ALL);
                    s.feed(text, 0, cut);
                    s.feed(text, cut, text.length - cut);
                    s.finish();
                    assertThat(split.findings())
                            .as("within %d, cut at %d", within, cut)
                            .isEqualTo(whole.findings());
                }
            }
        }
    }

    /**
     * The scanner with every shortcut, fed in two chunks cut at every offset (and a third cut at random), against
     * {@link #WALKED} fed whole: texts dense in AWS keys among words whose first two bytes are the key's words' but
     * not their heads ({@code account}, {@code acce}, {@code awl}: {@link ContextWords#noneIn} compares heads there),
     * the key's words themselves, and values after boost words of each kind in mixed order (the look-up tries the
     * rule's last word first), both cases.
     */
    @Test
    void shortcuts_givesWhatTheWalkedWindowGives_cutAtEveryOffset() {
        Random random = new Random(36);
        List<String> near = List.of(
                "account", "ACCOUNT", "acce", "Acc", "awl", "aw", "aws", "AWS", "access", "key", "card", "credit",
                "mail", "e-mail", "email", "tel", "phone", "전화", "iban", "주민", "주민등록번호");
        int findings = 0;
        for (int round = 0; round < 60; round++) {
            ScanRules rules = rules(
                    random.nextInt(4) == 0 ? ActionKind.ALERT : ActionKind.MASK,
                    new int[] {6, 20, 32, 32}[random.nextInt(4)],
                    List.of());
            StringBuilder sb = new StringBuilder();
            for (int k = 0, n = 3 + random.nextInt(6); k < n; k++) {
                String w = near.get(random.nextInt(near.size()));
                sb.append(random.nextBoolean() ? w : w.toUpperCase(java.util.Locale.ROOT))
                        .append(' ');
                sb.append(random.nextInt(3) == 0 ? "AKIAIOSFODNN7EXAMPLE" : VALUES[random.nextInt(VALUES.length)]);
                sb.append(GLUE[random.nextInt(GLUE.length)])
                        .append(near.get(random.nextInt(near.size())))
                        .append(' ');
            }
            byte[] text = sb.toString().getBytes(StandardCharsets.UTF_8);
            CollectingOutput walked = new CollectingOutput();
            Scans.feed(new StreamScanner(rules, ValueHasher.forTenant(Scans.KEY, "t1"), walked, WALKED), text, null, 0);
            findings += walked.findingCount();
            for (int cut = 1; cut < text.length; cut++) {
                int second = cut + random.nextInt(text.length - cut + 1);
                CollectingOutput fast = new CollectingOutput();
                StreamScanner scanner = new StreamScanner(
                        rules, ValueHasher.forTenant(Scans.KEY, "t1"), fast, StreamScanner.Shortcuts.ALL);
                scanner.feed(text, 0, cut);
                scanner.feed(text, cut, second - cut);
                scanner.feed(text, second, text.length - second);
                scanner.finish();
                assertThat(fast.bytes())
                        .as("output, round %d, cuts %d %d", round, cut, second)
                        .isEqualTo(walked.bytes());
                assertThat(fast.findings())
                        .as("findings, round %d, cuts %d %d", round, cut, second)
                        .isEqualTo(walked.findings());
            }
        }
        assertThat(findings).isGreaterThan(150);
    }

    /** The built-in rules, each with {@code extra} boost words after its own. */
    private static ScanRules rules(ActionKind action, int within, List<String> extra) {
        ScanRules rules = new ScanRules();
        for (BuiltinDetector d : BuiltinDetector.values()) {
            List<String> boost = new ArrayList<>(d.contextBoost());
            boost.addAll(extra);
            rules.addBuiltin(
                    d,
                    new DetectorRule(
                            d.id(),
                            0.5,
                            new ContextRule(boost, d.contextPenalty(), within, 0.3, 0.5),
                            Set.of(),
                            List.of(),
                            Action.of(action)));
        }
        return rules;
    }

    private static String text(Random random, List<String> words) {
        StringBuilder sb = new StringBuilder();
        int pieces = 5 + random.nextInt(60);
        for (int k = 0; k < pieces; k++) {
            switch (random.nextInt(7)) {
                case 0 -> {
                    String w = words.get(random.nextInt(words.size()));
                    sb.append(random.nextBoolean() ? w : w.toUpperCase(java.util.Locale.ROOT));
                }
                case 1, 2 -> sb.append(VALUES[random.nextInt(VALUES.length)]);
                case 3 -> sb.append(FILLER[random.nextInt(FILLER.length)]);
                default ->
                    sb.append(words.get(random.nextInt(words.size())))
                            .append(' ')
                            .append(VALUES[random.nextInt(VALUES.length)]);
            }
            sb.append(GLUE[random.nextInt(GLUE.length)]);
        }
        return sb.toString();
    }
}
