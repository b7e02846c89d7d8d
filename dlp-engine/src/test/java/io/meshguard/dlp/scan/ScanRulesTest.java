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

class ScanRulesTest {
    private static final String[] PIECES = {
        "the",
        "account",
        " ",
        " ",
        ", ",
        ".",
        "\n",
        "고객",
        "대외",
        "대외비",
        "CONFIDENTIAL",
        " - INTERNAL ONLY",
        "confidential - internal only",
        "EMP-",
        "EMP",
        "123456",
        "7",
        "12",
        "4111",
        "1111",
        "-",
        "--",
        "-----BEGIN",
        " RSA PRIVATE KEY-----",
        "@",
        "kim",
        "bank.co.kr",
        ":",
        "::",
        "fe80",
        "+82",
        "10-1234-5678",
        "AKIA",
        "IOSFODNN7EXAMPLE",
        "ghp_",
        "abcdefghijklmnop",
        "Zx8vQ2mN4pL7",
        "DE89",
        "3704 0044 0532 0130 00",
        "192.168",
        ".1.1",
        "eyJhbGciOi",
        "x",
        "Q",
        "é",
        "_",
        "/",
        "~"
    };

    /** Every detector, every candidate reported (no confidence floor), so "no finding" means "no candidate". */
    private static ScanRules everything() {
        ScanRules rules = new ScanRules();
        for (BuiltinDetector d : BuiltinDetector.values()) {
            rules.addBuiltin(d, rule(d.id(), new ContextRule(d.contextBoost(), d.contextPenalty(), 32, 0.3, 0.5)));
        }
        String regex = "\\bEMP-[0-9]{6}\\b";
        rules.addRegex(
                new ScanRules.RegexSpec(
                        RegexRecognizer.compile(regex, false),
                        PatternBounds.shape(regex, false),
                        0.7,
                        RegexRecognizer.Validator.NONE),
                rule("employee_id", ContextRule.NONE));
        rules.addKeywords(
                new ScanRules.KeywordSpec(List.of("대외비", "CONFIDENTIAL - INTERNAL ONLY"), 0.9),
                rule("confidential_marking", ContextRule.NONE));
        return rules;
    }

    private static DetectorRule rule(String name, ContextRule context) {
        return new DetectorRule(name, 0.0, context, Set.of(), List.of(), Action.of(ActionKind.ALERT));
    }

    @Test
    void triggerTable_saysFalseOnlyWhereEveryRecognizerSaysFalse() {
        List<io.meshguard.dlp.detect.Recognizer> recognizers = everything().newRecognizers();
        io.meshguard.dlp.detect.TriggerTable table = io.meshguard.dlp.detect.TriggerTable.of(recognizers);
        Random random = new Random(29);
        int rejected = 0;
        for (int round = 0; round < 50_000; round++) {
            byte[] text;
            if (round % 2 == 0) {
                StringBuilder sb = new StringBuilder();
                for (int k = 1 + random.nextInt(6); k > 0; k--) {
                    sb.append(PIECES[random.nextInt(PIECES.length)]);
                }
                text = sb.toString().getBytes(StandardCharsets.UTF_8);
            } else {
                text = new byte[random.nextInt(40)];
                for (int k = 0; k < text.length; k++) {
                    // mostly lower-case letters and spaces, some of every byte value
                    int r = random.nextInt(10);
                    text[k] = (byte) (r < 7 ? 'a' + random.nextInt(26) : r < 8 ? ' ' : random.nextInt(256));
                }
            }
            if (!table.mayFind(text, 0, text.length)) {
                rejected++;
                for (io.meshguard.dlp.detect.Recognizer r : recognizers) {
                    assertThat(r.mayFind(text, 0, text.length))
                            .as("%s on %s", r.getClass().getSimpleName(), java.util.Arrays.toString(text))
                            .isFalse();
                }
            }
        }
        assertThat(rejected).as("texts the table alone judged clean").isGreaterThan(5_000);
    }

    @Test
    void mayFind_isFalseOnlyForTextsWhereAScanFindsNothing() {
        ScanRules rules = everything();
        Random random = new Random(11);
        int skipped = 0;
        int found = 0;
        for (int round = 0; round < 20_000; round++) {
            StringBuilder sb = new StringBuilder();
            int pieces = 1 + random.nextInt(8);
            for (int k = 0; k < pieces; k++) {
                sb.append(PIECES[random.nextInt(PIECES.length)]);
            }
            byte[] text = sb.toString().getBytes(StandardCharsets.UTF_8);
            CollectingOutput whole = Scans.whole(rules, text);
            found += whole.findings().isEmpty() ? 0 : 1;
            if (!rules.mayFind(text, 0, text.length)) {
                skipped++;
                assertThat(whole.findings()).as("\"%s\" was judged clean", sb).isEmpty();
            }
        }
        assertThat(skipped).as("texts judged clean").isGreaterThan(1_000);
        assertThat(found).as("texts with findings").isGreaterThan(1_000);
    }

    @Test
    void mayFind_isTrueForEveryKindOfTrigger() {
        ScanRules rules = everything();
        for (String s : new String[] {
            "mail a@b.cd",
            "::1",
            "+82",
            "ver 1.2.3.4",
            "-----BEGIN",
            "대외비",
            "an abcdefghijklmnopqrstu token",
            "EMP-123456",
            "x confidential - internal only"
        }) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            assertThat(rules.mayFind(b, 0, b.length)).as(s).isTrue();
        }
        byte[] clean = "Thank you, 고객님. Your request was updated.".getBytes(StandardCharsets.UTF_8);
        assertThat(rules.mayFind(clean, 0, clean.length)).isFalse();
    }

    @Test
    void scannersOfOneRuleSet_shareItsCompiledTables_yetKeepTheirOwnProgress() {
        ScanRules rules = everything();
        Random random = new Random(12);
        for (int round = 0; round < 300; round++) {
            byte[][] texts = new byte[3][];
            for (int t = 0; t < texts.length; t++) {
                StringBuilder sb = new StringBuilder();
                for (int k = 0, n = 5 + random.nextInt(40); k < n; k++) {
                    sb.append(PIECES[random.nextInt(PIECES.length)]);
                }
                texts[t] = sb.toString().getBytes(StandardCharsets.UTF_8);
            }
            // Three streams of the same rules fed turn by turn, a few bytes at a time: each must end as it would
            // alone, so nothing one stream's recognizers keep leaks into another's.
            CollectingOutput[] outs = new CollectingOutput[texts.length];
            StreamScanner[] scanners = new StreamScanner[texts.length];
            int[] fed = new int[texts.length];
            for (int t = 0; t < texts.length; t++) {
                outs[t] = new CollectingOutput();
                scanners[t] = new StreamScanner(rules, ValueHasher.forTenant(Scans.KEY, "t1"), outs[t]);
            }
            for (boolean more = true; more; ) {
                more = false;
                for (int t = 0; t < texts.length; t++) {
                    int len = Math.min(texts[t].length - fed[t], 1 + random.nextInt(7));
                    if (len > 0) {
                        scanners[t].feed(texts[t], fed[t], len);
                        fed[t] += len;
                        more = true;
                    }
                }
            }
            for (int t = 0; t < texts.length; t++) {
                scanners[t].finish();
                CollectingOutput alone = Scans.whole(rules, texts[t]);
                assertThat(outs[t].bytes()).isEqualTo(alone.bytes());
                assertThat(outs[t].findings()).isEqualTo(alone.findings());
            }
        }
    }
}
