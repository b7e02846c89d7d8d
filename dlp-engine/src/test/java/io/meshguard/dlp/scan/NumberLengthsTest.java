package io.meshguard.dlp.scan;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.dlp.detect.BuiltinDetector;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * {@link ScanRules#mayFind} skips a text with fewer ASCII digits than the enabled number-based detectors need (4 with
 * IPv4, else 9 with phone numbers, 10 business numbers, 12 cards, 13 registration numbers): for every set of those
 * detectors, a text it skips gives no candidate when scanned.
 */
class NumberLengthsTest {
    private static final BuiltinDetector[] NUMERIC = {
        BuiltinDetector.CARD,
        BuiltinDetector.KR_RRN,
        BuiltinDetector.KR_FRN,
        BuiltinDetector.KR_PHONE,
        BuiltinDetector.KR_BRN,
        BuiltinDetector.IPV4,
        BuiltinDetector.IBAN
    };
    private static final String[] PIECES = {
        "0", "1", "2", "4", "5", "7", "8", "9", "01", "02", "010", "82", "+82", "-", " ", ".", "e", "E", "+", "1234",
        "5678", "5105", "1051", "0510", "5100", "960121", "1021413", "123", "45", "67890", "220", "81", "62517", "192",
        "168", "DE", "89", "x", "tel ", "\u00a0", "\uff15", "\u200b"
    };

    @Test
    void aTextSkippedForTooFewDigits_givesNoCandidate_forEverySetOfNumberDetectors() {
        Random random = new Random(2929);
        int skippedWithDigits = 0;
        for (int set = 1; set < 1 << NUMERIC.length; set++) {
            ScanRules rules = new ScanRules();
            for (int k = 0; k < NUMERIC.length; k++) {
                if ((set & 1 << k) != 0) {
                    BuiltinDetector d = NUMERIC[k];
                    // no confidence floor and no context: "no finding" means "no candidate"
                    rules.addBuiltin(
                            d,
                            new DetectorRule(
                                    d.id(), 0.0, ContextRule.NONE, Set.of(), List.of(), Action.of(ActionKind.ALERT)));
                }
            }
            for (int round = 0; round < 400; round++) {
                StringBuilder sb = new StringBuilder();
                for (int k = 0, n = 1 + random.nextInt(12); k < n; k++) {
                    sb.append(PIECES[random.nextInt(PIECES.length)]);
                }
                byte[] text = sb.toString().getBytes(StandardCharsets.UTF_8);
                if (!rules.mayFind(text, 0, text.length)) {
                    skippedWithDigits += sb.chars().anyMatch(c -> c >= '0' && c <= '9') ? 1 : 0;
                    assertThat(Scans.whole(rules, text).findings())
                            .as("\"%s\" with %s", sb, enabled(set))
                            .isEmpty();
                }
            }
        }
        assertThat(skippedWithDigits).as("texts with digits judged clean").isGreaterThan(5_000);
    }

    @Test
    void theShortestNumberOfEachDetector_isStillScanned() {
        String[][] cases = {
            {"kr_phone", "02-123-4567"},
            {"kr_brn", "220-81-62517"},
            {"card", "5105105105105100"},
            {"kr_rrn", "960121-1021413"},
            {"ipv4", "1.2.3.4"}
        };
        for (String[] c : cases) {
            BuiltinDetector d = BuiltinDetector.valueOf(c[0].toUpperCase(java.util.Locale.ROOT));
            ScanRules rules = new ScanRules()
                    .addBuiltin(
                            d,
                            new DetectorRule(
                                    d.id(), 0.0, ContextRule.NONE, Set.of(), List.of(), Action.of(ActionKind.ALERT)));
            byte[] text = c[1].getBytes(StandardCharsets.UTF_8);
            assertThat(Scans.whole(rules, text).findings()).as(c[1]).isNotEmpty();
            assertThat(rules.mayFind(text, 0, text.length)).as(c[1]).isTrue();
        }
    }

    @Test
    void mayFindNumber_answersAsMayFind_onEveryTextOfNumberBytes() {
        Random random = new Random(2930);
        String[] numberPieces = {
            "0", "1", "5", "9", "12", "010", "5105", "1051", "960121", "1021413", "-", ".", "e", "E", "+", "+82", "99-",
            "123"
        };
        int numberOnly = 0;
        for (boolean digitPattern : new boolean[] {false, true}) {
            ScanRules rules = new ScanRules();
            for (BuiltinDetector d : BuiltinDetector.values()) {
                if (d != BuiltinDetector.IPV4) {
                    rules.addBuiltin(
                            d,
                            new DetectorRule(
                                    d.id(), 0.0, ContextRule.NONE, Set.of(), List.of(), Action.of(ActionKind.ALERT)));
                }
            }
            String emp = "\\bEMP-[0-9]{6}\\b";
            rules.addRegex(
                    new ScanRules.RegexSpec(
                            io.meshguard.dlp.detect.RegexRecognizer.compile(emp, false),
                            io.meshguard.dlp.detect.PatternBounds.shape(emp, false),
                            0.7,
                            io.meshguard.dlp.detect.RegexRecognizer.Validator.NONE),
                    rule("employee_id"));
            if (digitPattern) {
                // a pattern that starts with digits: numbers must go to its own test
                String zip = "\\b99-[0-9]{3}\\b";
                rules.addRegex(
                        new ScanRules.RegexSpec(
                                io.meshguard.dlp.detect.RegexRecognizer.compile(zip, false),
                                io.meshguard.dlp.detect.PatternBounds.shape(zip, false),
                                0.7,
                                io.meshguard.dlp.detect.RegexRecognizer.Validator.NONE),
                        rule("zip"));
            }
            rules.addKeywords(
                    new ScanRules.KeywordSpec(List.of("대외비", "CONFIDENTIAL - INTERNAL ONLY", "1e5"), 0.9),
                    rule("marking"));
            for (int round = 0; round < 20_000; round++) {
                StringBuilder sb = new StringBuilder();
                for (int k = 0, n = 1 + random.nextInt(8); k < n; k++) {
                    sb.append(numberPieces[random.nextInt(numberPieces.length)]);
                }
                byte[] text = sb.toString().getBytes(StandardCharsets.UTF_8);
                boolean fast = rules.mayFindNumber(text, 0, text.length);
                assertThat(fast).as("\"%s\"", sb).isEqualTo(rules.mayFind(text, 0, text.length));
                if (!fast) {
                    numberOnly++;
                    assertThat(Scans.whole(rules, text).findings())
                            .as("\"%s\"", sb)
                            .isEmpty();
                }
            }
        }
        assertThat(numberOnly).as("numbers judged clean").isGreaterThan(5_000);
    }

    private static DetectorRule rule(String name) {
        return new DetectorRule(name, 0.0, ContextRule.NONE, Set.of(), List.of(), Action.of(ActionKind.ALERT));
    }

    private static List<BuiltinDetector> enabled(int set) {
        List<BuiltinDetector> out = new ArrayList<>();
        for (int k = 0; k < NUMERIC.length; k++) {
            if ((set & 1 << k) != 0) {
                out.add(NUMERIC[k]);
            }
        }
        return out;
    }
}
