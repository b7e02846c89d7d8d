package io.meshguard.dlp.scan;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.dlp.detect.PatternBounds;
import io.meshguard.dlp.detect.RegexRecognizer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The scanner with start maps ({@code StreamScanner(..., true)}: each round's words classified once for every
 * recognizer's search) gives the output and findings of the scanner without them, on prose with one rare trigger (or
 * a near-miss of one) at every offset, at both ends of the text and cut by chunks anywhere.
 */
class StartMapScanTest {
    private static final String[] WORDS = ("the of and to in is was for that account balance transfer customer "
                    + "service request payment statement records please thank you regarding your recent inquiry 고객 계좌 이체 "
                    + "문의 감사합니다 확인 처리 완료 되었습니다")
            .split(" ");
    private static final String[] TRIGGERS = {
        "CONFIDENTIAL - INTERNAL ONLY",
        "confidential - internal only",
        "대외비",
        "EMP-123456",
        "card 5105 1051 0510 5100",
        "５１０５ １０５１ ０５１０ ５１００",
        "960121-1021413",
        "kim.minsu@bank.co.kr",
        "AKIAIOSFODNN7EXAMPLE",
        "{\"kty\":\"oct\",\"k\":\"GawgguFyGrWKav7AX4VKUg\"}",
        "kty: oct\nk: GawgguFyGrWKav7AX4VKUg\n",
        "tel 010-1234-5678",
        "IBAN DE89 3704 0044 0532 0130 00",
        // near-misses: a pair or a prefix of a start, a lone structure byte
        "con",
        "co",
        "EM",
        "EMP-12345",
        "대외",
        "{",
        ":",
        "k:",
        "Thank you.",
        "5105"
    };

    private static ScanRules rules() {
        ScanRules rules = Scans.allBuiltins(ActionKind.MASK);
        String emp = "\\bEMP-[0-9]{6}\\b";
        rules.addRegex(
                new ScanRules.RegexSpec(
                        RegexRecognizer.compile(emp, false),
                        PatternBounds.shape(emp, false),
                        0.7,
                        RegexRecognizer.Validator.NONE),
                rule("employee_id"));
        rules.addKeywords(
                new ScanRules.KeywordSpec(List.of("대외비", "CONFIDENTIAL - INTERNAL ONLY"), 0.9), rule("marking"));
        return rules;
    }

    private static DetectorRule rule(String name) {
        return new DetectorRule(name, 0.5, ContextRule.NONE, Set.of(), List.of(), Action.of(ActionKind.MASK));
    }

    private static String prose(Random random, int size) {
        StringBuilder sb = new StringBuilder();
        while (sb.length() < size) {
            for (int i = 0, n = 4 + random.nextInt(10); i < n; i++) {
                String w = WORDS[random.nextInt(WORDS.length)];
                sb.append(i == 0 ? Character.toUpperCase(w.charAt(0)) + w.substring(1) : w)
                        .append(' ');
            }
            sb.setLength(sb.length() - 1);
            sb.append(random.nextInt(4) == 0 ? ".\n" : ". ");
        }
        return sb.toString();
    }

    private static CollectingOutput scan(ScanRules rules, byte[] text, int[] cuts, boolean startMaps) {
        CollectingOutput out = new CollectingOutput();
        StreamScanner s = new StreamScanner(
                rules,
                ValueHasher.forTenant(Scans.KEY, "t1"),
                out,
                new StreamScanner.Shortcuts(startMaps, true, true, true));
        int at = 0;
        for (int cut : cuts) {
            s.feed(text, at, cut - at);
            at = cut;
        }
        s.feed(text, at, text.length - at);
        s.finish();
        return out;
    }

    /** Chunk ends: none, one next to the trigger, or random ones. */
    private static int[] cuts(Random random, int length, int trigger) {
        return switch (random.nextInt(3)) {
            case 0 -> new int[0];
            case 1 -> new int[] {Math.max(0, Math.min(length, trigger + random.nextInt(40) - 20))};
            default ->
                random.ints(1 + random.nextInt(6), 0, length + 1).sorted().toArray();
        };
    }

    @Test
    void withAndWithoutStartMaps_sameOutputAndFindings_forATriggerAtEveryOffset() {
        ScanRules rules = rules();
        Random random = new Random(3102);
        int findings = 0;
        for (String trigger : TRIGGERS) {
            String before = prose(random, 700);
            for (int offset = 0; offset <= 420; offset++) {
                // the trigger at this offset, then prose to the end (or nothing: the text's end right after it)
                String after = offset % 7 == 0 ? "" : " " + prose(random, 300 + random.nextInt(300));
                byte[] text = (before.substring(0, offset) + trigger + after).getBytes(StandardCharsets.UTF_8);
                int[] cuts = cuts(random, text.length, offset);
                CollectingOutput plain = scan(rules, text, cuts, false);
                CollectingOutput mapped = scan(rules, text, cuts, true);
                assertThat(mapped.bytes())
                        .as("\"%s\" at %d, cuts %s", trigger, offset, java.util.Arrays.toString(cuts))
                        .isEqualTo(plain.bytes());
                assertThat(mapped.findings())
                        .as("\"%s\" at %d", trigger, offset)
                        .isEqualTo(plain.findings());
                findings += plain.findingCount();
            }
        }
        assertThat(findings).as("triggers found").isGreaterThan(3_000);
    }

    @Test
    void withAndWithoutStartMaps_sameOutputAndFindings_onRandomChunkings() {
        ScanRules rules = rules();
        Random random = new Random(3103);
        for (int round = 0; round < 300; round++) {
            StringBuilder sb = new StringBuilder();
            while (sb.length() < 3000) {
                sb.append(prose(random, random.nextInt(600))).append(' ');
                if (random.nextInt(3) == 0) {
                    sb.append(TRIGGERS[random.nextInt(TRIGGERS.length)]).append(' ');
                }
            }
            byte[] text = sb.toString().getBytes(StandardCharsets.UTF_8);
            int[] cuts =
                    random.ints(random.nextInt(12), 0, text.length + 1).sorted().toArray();
            CollectingOutput plain = scan(rules, text, cuts, false);
            CollectingOutput mapped = scan(rules, text, cuts, true);
            assertThat(mapped.bytes()).as("round %d", round).isEqualTo(plain.bytes());
            assertThat(mapped.findings()).as("round %d", round).isEqualTo(plain.findings());
        }
    }
}
