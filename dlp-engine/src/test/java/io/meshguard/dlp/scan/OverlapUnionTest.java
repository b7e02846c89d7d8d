package io.meshguard.dlp.scan;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.dlp.detect.BuiltinDetector;
import io.meshguard.dlp.detect.PatternBounds;
import io.meshguard.dlp.detect.RegexRecognizer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Overlap resolution: overlapping findings that change the text are masked over the union of their spans;
 * before, the more confident shorter finding won and the rest of the longer one (part of an IBAN) passed in clear.
 */
class OverlapUnionTest {
    private static final String IBAN = "DE89 3704 0044 0532 0130 00";

    private static ScanRules ibanAnd(String regex, double confidence, ActionKind regexAction, ActionKind ibanAction) {
        ScanRules rules = new ScanRules();
        rules.addBuiltin(
                BuiltinDetector.IBAN,
                new DetectorRule("iban", 0.5, ContextRule.NONE, Set.of(), List.of(), Action.of(ibanAction)));
        rules.addRegex(
                new ScanRules.RegexSpec(
                        RegexRecognizer.compile(regex, false),
                        PatternBounds.shape(regex, false),
                        confidence,
                        RegexRecognizer.Validator.NONE),
                new DetectorRule("branch", 0.5, ContextRule.NONE, Set.of(), List.of(), Action.of(regexAction)));
        return rules;
    }

    private static String scan(ScanRules rules, String text) {
        byte[] in = text.getBytes(StandardCharsets.UTF_8);
        byte[] whole = Scans.whole(rules, in).bytes();
        Random random = new Random(7);
        for (int round = 0; round < 20; round++) {
            assertThat(Scans.chunked(rules, in, random, 1 + round).bytes()).isEqualTo(whole);
        }
        return new String(whole, StandardCharsets.UTF_8);
    }

    @Test
    void moreConfidentShorterFinding_insideAnIban_masksTheWholeIban() {
        // "3704 0044" (a bank code and branch) is found with confidence 1.0 inside the IBAN (0.9).
        ScanRules rules = ibanAnd("\\b3704 0044\\b", 1.0, ActionKind.MASK, ActionKind.MASK);
        String out = scan(rules, "pay to " + IBAN + " today");
        assertThat(out).startsWith("pay to ").endsWith(" today");
        String masked = out.substring("pay to ".length(), out.length() - " today".length());
        assertThat(masked)
                .hasSize(IBAN.length())
                .doesNotContain("DE89")
                .doesNotContain("0532")
                .doesNotContain("0130");
    }

    @Test
    void overlapStartingBeforeTheIban_masksTheUnion() {
        ScanRules rules = ibanAnd("\\bto DE89\\b", 1.0, ActionKind.REDACT, ActionKind.MASK);
        String out = scan(rules, "pay to " + IBAN + " today");
        assertThat(out).isEqualTo("pay [REDACTED:branch] today");
    }

    @Test
    void moreConfidentAlert_doesNotLeaveAMaskedFindingInClear() {
        ScanRules rules = ibanAnd("\\b3704 0044\\b", 1.0, ActionKind.ALERT, ActionKind.MASK);
        String out = scan(rules, IBAN);
        assertThat(out).doesNotContain("DE89").doesNotContain("3704").doesNotContain("0532");
    }

    @Test
    void blockInTheCluster_blocks() {
        ScanRules rules = ibanAnd("\\b3704 0044\\b", 0.6, ActionKind.BLOCK, ActionKind.MASK);
        assertThat(Scans.whole(rules, IBAN.getBytes(StandardCharsets.UTF_8)).blockedBy())
                .isPresent();
    }
}
