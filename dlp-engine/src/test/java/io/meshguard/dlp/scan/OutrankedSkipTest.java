package io.meshguard.dlp.scan;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.dlp.detect.BuiltinDetector;
import io.meshguard.dlp.detect.PatternBounds;
import io.meshguard.dlp.detect.RegexRecognizer;
import io.meshguard.testing.SlowTest;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * {@link StreamScanner}'s skip of a candidate that a scored finding over all its bytes outranks, against the scanner
 * that scores every candidate: the same output and the same findings (detector, action, offsets, confidence, HMAC)
 * on generated texts dense in values that recognizers find inside each other (the AWS key and its {@code secret}
 * twin, a pattern over "key AKIA…" around both, a pattern inside an IBAN, tokens that are credentials and secrets at
 * once), each detector with a random action (alerts and blocks among them), minimum confidence, boost and penalty
 * (negative ones too), context words before and after, scanned whole and in random chunks, with and without start
 * maps.
 */
@SlowTest
class OutrankedSkipTest {
    private static final ActionKind[] ACTIONS = {
        ActionKind.MASK,
        ActionKind.REDACT,
        ActionKind.HASH,
        ActionKind.ALERT,
        ActionKind.ALERT,
        ActionKind.MASK,
        ActionKind.BLOCK
    };
    private static final String[] GLUE = {
        " ",
        "  ",
        ", ",
        "\n",
        ": ",
        "=",
        "\"",
        " key ",
        " aws ",
        " secret ",
        " token ",
        " card ",
        " iban ",
        " imei ",
        " order ",
        "가",
        "x",
        "-",
        ". "
    };
    private static final String ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    private static final String MIXED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    @Test
    void skippingOutrankedCandidates_givesWhatScoringEveryCandidateGives() {
        Random random = new Random(32);
        long skips = 0;
        long findings = 0;
        for (int round = 0; round < 800; round++) {
            // With and without start maps (the portable path's recognizer driving), whichever path this JVM runs.
            StreamScanner.Shortcuts all = new StreamScanner.Shortcuts(round % 2 == 0, true, true, true);
            StreamScanner.Shortcuts scoreAll = new StreamScanner.Shortcuts(all.startMaps(), true, true, false);
            ScanRules rules = rules(random);
            byte[] text = text(random).getBytes(StandardCharsets.UTF_8);
            CollectingOutput expected = new CollectingOutput();
            Scans.feed(
                    new StreamScanner(rules, ValueHasher.forTenant(Scans.KEY, "t1"), expected, scoreAll),
                    text,
                    null,
                    0);
            for (int split = 0; split < 3; split++) {
                CollectingOutput out = new CollectingOutput();
                StreamScanner scanner = new StreamScanner(rules, ValueHasher.forTenant(Scans.KEY, "t1"), out, all);
                Scans.feed(scanner, text, random, split == 0 ? text.length : 1 + random.nextInt(split == 1 ? 7 : 200));
                assertThat(out.bytes()).as("output, round %d", round).isEqualTo(expected.bytes());
                assertThat(out.findings()).as("findings, round %d", round).isEqualTo(expected.findings());
                skips += scanner.outrankedSkips();
            }
            findings += expected.findingCount();
        }
        // The texts reach the skip often, and not always.
        assertThat(skips).isGreaterThan(findings / 10).isLessThan(findings * 3);
    }

    private static ScanRules rules(Random random) {
        ScanRules rules = new ScanRules();
        int within = new int[] {1, 4, 12, 32, 32}[random.nextInt(5)];
        for (BuiltinDetector d : BuiltinDetector.values()) {
            rules.addBuiltin(d, rule(random, d.id(), d.contextBoost(), d.contextPenalty(), within));
        }
        String inIban = "\\b3704 0044\\b";
        rules.addRegex(
                new ScanRules.RegexSpec(
                        RegexRecognizer.compile(inIban, false),
                        PatternBounds.shape(inIban, false),
                        pick(random),
                        RegexRecognizer.Validator.NONE),
                rule(random, "branch", List.of("iban", "bank"), List.of("order"), within));
        String aroundKey = "\\bkey [A-Z0-9]{20}\\b";
        rules.addRegex(
                new ScanRules.RegexSpec(
                        RegexRecognizer.compile(aroundKey, false),
                        PatternBounds.shape(aroundKey, false),
                        pick(random),
                        RegexRecognizer.Validator.NONE),
                rule(random, "keyed", List.of("aws", "secret"), List.of("imei"), within));
        return rules;
    }

    private static DetectorRule rule(Random random, String name, List<String> boost, List<String> penalty, int within) {
        double[] boosts = {0.3, 0.3, 0.0, 0.7, -0.2};
        double[] penalties = {0.5, 0.1, -0.3};
        ContextRule context = random.nextInt(6) == 0
                ? ContextRule.NONE
                : new ContextRule(
                        boost,
                        penalty,
                        within,
                        boosts[random.nextInt(boosts.length)],
                        penalties[random.nextInt(penalties.length)]);
        return new DetectorRule(
                name,
                new double[] {0.1, 0.3, 0.5, 0.5, 0.7}[random.nextInt(5)],
                context,
                Set.of(),
                List.of(),
                Action.of(ACTIONS[random.nextInt(ACTIONS.length)]));
    }

    private static double pick(Random random) {
        return new double[] {0.3, 0.6, 0.9, 1.0}[random.nextInt(4)];
    }

    private static String text(Random random) {
        StringBuilder sb = new StringBuilder();
        int pieces = 4 + random.nextInt(30);
        for (int k = 0; k < pieces; k++) {
            switch (random.nextInt(10)) {
                case 0, 1 -> sb.append(random.nextBoolean() ? "key " : "").append(drawn(random, "AKIA", ALPHABET, 16));
                case 2 -> sb.append(drawn(random, "AIza", MIXED, 35));
                case 3 -> sb.append(drawn(random, "ghp_", MIXED, 36));
                case 4 -> sb.append(drawn(random, "sk_live_", MIXED, 16 + random.nextInt(10)));
                case 5 -> sb.append(drawn(random, "", MIXED, 20 + random.nextInt(30)));
                case 6 -> sb.append("DE89 3704 0044 0532 0130 00");
                case 7 ->
                    sb.append(new String[] {
                                "5105 1051 0510 5100",
                                "960121-1021413",
                                "010-1234-5678",
                                "kim.minsu7@bank.co.kr",
                                "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJl"
                            }
                            [random.nextInt(5)]);
                default ->
                    sb.append(new String[] {"aws", "secret", "token", "the", "계좌", "card", "IMEI"}[random.nextInt(7)]);
            }
            sb.append(GLUE[random.nextInt(GLUE.length)]);
        }
        return sb.toString();
    }

    private static String drawn(Random random, String prefix, String alphabet, int count) {
        StringBuilder sb = new StringBuilder(prefix);
        for (int i = 0; i < count; i++) {
            sb.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        return sb.toString();
    }
}
