package io.meshguard.dlp.content;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.dlp.detect.BuiltinDetector;
import io.meshguard.dlp.detect.PatternBounds;
import io.meshguard.dlp.detect.RegexRecognizer;
import io.meshguard.dlp.scan.Action;
import io.meshguard.dlp.scan.ActionKind;
import io.meshguard.dlp.scan.ContextRule;
import io.meshguard.dlp.scan.DetectorRule;
import io.meshguard.dlp.scan.ScanRules;
import io.meshguard.testing.SlowTest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The JSON pass with its shortcuts (clean strings and short numbers copied unscanned, member keys decoded once per
 * document, the plain run that copies whole stretches of unchanged tokens at once) against the same pass scanning
 * every string and number byte by byte and decoding every key: random documents, compact and with whitespace, whole
 * and chunked (and a set of shaped and malformed documents split at every offset), give the same output and the same
 * findings, HMACs and locations included.
 */
@SlowTest
class JsonShortcutsTest {
    private static final String[] KEYS = {
        "id",
        "amount",
        "card_number",
        "phone",
        "memo",
        "kty",
        "d",
        "n",
        "e",
        "oth",
        "contact",
        "account no",
        "a~b/c",
        "이름",
        "k12345678",
        "employee",
        "x".repeat(60),
        "status",
        "tags"
    };
    private static final String[] TEXTS = {
        "active",
        "KRW",
        "Account balance transfer please",
        "고객 계좌 이체 문의",
        "card 5105 1051 0510 5100",
        "주민등록번호 960121-1021413",
        "mail kim.minsu7@bank.co.kr",
        "tel 010-1234-5678",
        "IBAN DE89 3704 0044 0532 0130 00",
        "key AKIAIOSFODNN7EXAMPLE",
        "Confidential - Internal Only",
        "대외비 문서",
        "co",
        "account contact",
        "EMP-123456",
        "\\u0041KIAIOSFODNN7EXAMPLE",
        "a\\nb\\\"c",
        "RSA",
        "oct",
        "0123456789abcdef0123456789abcdef",
        "+82 10-1234-5678",
        "1.2.3.4",
        "fe80::1",
        ""
    };
    private static final String[] NUMBERS = {
        "0",
        "7",
        "-12",
        "1234",
        "123456.78",
        "12345678",
        "123456789",
        "5105105105105100",
        "4111111111111111",
        "01012345678",
        "0212345678",
        "9601211021413",
        "1234567890",
        "2208162426",
        "960121-1021413",
        "010-1234-5678",
        "1e+82",
        "3.14e-10",
        "-0.5",
        "123456789012",
        "1.2.3.4",
        "1E5",
        "12E",
        "-",
        "5105105105105100E",
        "--------",
        "9601211021413E+0"
    };

    private static ScanRules rules() {
        ScanRules rules = new ScanRules();
        for (BuiltinDetector d : BuiltinDetector.values()) {
            if (d == BuiltinDetector.IPV4 || d == BuiltinDetector.IPV6) {
                continue; // as in the shipped policy: numbers then need nine digits before they are scanned
            }
            ActionKind action = d == BuiltinDetector.EMAIL ? ActionKind.ALERT : ActionKind.MASK;
            rules.addBuiltin(
                    d,
                    new DetectorRule(
                            d.id(),
                            0.3,
                            new ContextRule(d.contextBoost(), d.contextPenalty(), 32, 0.3, 0.5),
                            Set.of(),
                            List.of(),
                            Action.of(action)));
        }
        String regex = "\\bEMP-[0-9]{6}\\b";
        rules.addRegex(
                new ScanRules.RegexSpec(
                        RegexRecognizer.compile(regex, false),
                        PatternBounds.shape(regex, false),
                        0.7,
                        RegexRecognizer.Validator.NONE),
                new DetectorRule(
                        "employee_id",
                        0.5,
                        new ContextRule(List.of("employee"), List.of(), 32, 0.3, 0.5),
                        Set.of(),
                        List.of(),
                        Action.of(ActionKind.MASK)));
        rules.addKeywords(
                new ScanRules.KeywordSpec(List.of("대외비", "CONFIDENTIAL - INTERNAL ONLY"), 0.9),
                new DetectorRule(
                        "confidential_marking",
                        0.5,
                        ContextRule.NONE,
                        Set.of(),
                        List.of(),
                        Action.of(ActionKind.ALERT)));
        return rules;
    }

    @Test
    void randomDocuments_giveTheSameOutputAndFindings_withTheShortcutsOnAndOff() {
        ScanRules rules = rules();
        Random random = new Random(2929);
        int withFindings = 0;
        for (int round = 0; round < 300; round++) {
            byte[] doc = document(random).getBytes(StandardCharsets.UTF_8);
            List<String> plain = new ArrayList<>();
            String expected = run(rules, doc, false, null, 0, plain);
            withFindings += plain.isEmpty() ? 0 : 1;
            for (int chunking = 0; chunking < 3; chunking++) {
                List<String> fast = new ArrayList<>();
                String out = chunking == 0
                        ? run(rules, doc, true, null, 0, fast)
                        : run(rules, doc, true, random, 1 + random.nextInt(chunking == 1 ? 7 : 200), fast);
                assertThat(out)
                        .as("round %d, document %s", round, new String(doc, StandardCharsets.UTF_8))
                        .isEqualTo(expected);
                assertThat(fast).as("round %d", round).isEqualTo(plain);
            }
        }
        assertThat(withFindings).as("documents with findings").isGreaterThan(200);
    }

    @Test
    void documentsWithWhitespace_giveTheSameOutputAndFindings_withTheShortcutsOnAndOff() {
        ScanRules rules = rules();
        Random random = new Random(3131);
        for (int round = 0; round < 200; round++) {
            byte[] doc = spaced(document(random), random).getBytes(StandardCharsets.UTF_8);
            List<String> plain = new ArrayList<>();
            String expected = run(rules, doc, false, null, 0, plain);
            for (int chunking = 0; chunking < 2; chunking++) {
                List<String> fast = new ArrayList<>();
                String out = chunking == 0
                        ? run(rules, doc, true, null, 0, fast)
                        : run(rules, doc, true, random, 1 + random.nextInt(40), fast);
                assertThat(out)
                        .as("round %d, document %s", round, new String(doc, StandardCharsets.UTF_8))
                        .isEqualTo(expected);
                assertThat(fast).as("round %d", round).isEqualTo(plain);
            }
        }
    }

    /**
     * Where the plain run must stop and hand over (a token cut by the chunk's end, a string or number that needs a
     * scan, an escape, a JWK member waiting for its kty, a key too long to cache or to give context, a syntax error,
     * nesting past the limit): every document split at every offset gives what the byte-by-byte pass gives whole.
     */
    @Test
    void shapedAndMalformedDocuments_splitAtEveryOffset_giveTheSameOutputAndFindings() {
        ScanRules rules = rules();
        String longKey = "k".repeat(300);
        List<String> docs = List.of(
                "{\"id\":12,\"status\":\"active\",\"amount\":123456.78,\"memo\":\"Account balance\","
                        + "\"tags\":[\"a\",\"b\"]}",
                "[ {\"a\" : true , \"b\":\tfalse,\n\"c\":null} ,\r\n[ [], {} , -0.5e+3 ] ]",
                "{\"contact\":\"card 5105 1051 0510 5100\",\"n\":5105105105105100,\"x\":\"tel 010-1234-5678\"}",
                "{\"d\":\"" + "X9fQ".repeat(12) + "\",\"id\":1,\"kty\":\"RSA\",\"memo\":\"quiet\"}",
                "{\"kty\":\"oct\",\"k\":\"" + "AQAB".repeat(8) + "\"},{\"oth\":[{\"r\":\"" + "AQAB".repeat(8) + "\"}]}",
                "{\"\\u0061b\":\"x\\\"y\",\"ab\":\"plain\",\"a\\nb\":[1,2]}",
                "{\"" + longKey + "\":\"value\",\"" + longKey + "\":\"card 5105 1051 0510 5100\"}",
                "{\"" + "x".repeat(60) + "\":\"v\",\"" + "x".repeat(60) + "\":1}",
                "{\"a\":1}}\"tail 5105 1051 0510 5100\"",
                "[1,2:3]",
                "{\"a\" 1}",
                "{\"a\":+1}",
                "[1,]x",
                "\"top-level string\"",
                "12345678901",
                "true",
                "[\"unterminated",
                "{\"a\":12",
                "[" + "[".repeat(JsonTransformer.MAX_DEPTH) + "1" + "]".repeat(JsonTransformer.MAX_DEPTH) + "]",
                "{\"n\":" + "1".repeat(5000) + "}",
                "[\"고객 계좌 이체 문의\",\"대외비 문서\",\"EMP-123456\"]");
        for (String d : docs) {
            byte[] doc = d.getBytes(StandardCharsets.UTF_8);
            List<String> plain = new ArrayList<>();
            String expected = run(rules, doc, false, null, 0, plain);
            int step = doc.length > 600 ? 97 : 1;
            for (int at = 0; at <= doc.length; at += step) {
                List<String> fast = new ArrayList<>();
                String out = runSplit(rules, doc, at, fast);
                assertThat(out)
                        .as("%s split at %d", d.length() > 80 ? d.substring(0, 80) : d, at)
                        .isEqualTo(expected);
                assertThat(fast)
                        .as("%s split at %d", d.length() > 80 ? d.substring(0, 80) : d, at)
                        .isEqualTo(plain);
            }
        }
    }

    @Test
    void manyDistinctKeys_overflowTheKeyTable_yetEveryLocationNamesItsOwnKey() {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < 200; i++) {
            sb.append("{\"key")
                    .append((char) ('a' + i % 26))
                    .append((char) ('a' + i / 26))
                    .append("\":\"card 5105 1051 0510 5100\"},");
        }
        sb.append("{}]");
        List<String> fast = new ArrayList<>();
        List<String> plain = new ArrayList<>();
        byte[] doc = sb.toString().getBytes(StandardCharsets.UTF_8);
        ScanRules rules = rules();
        assertThat(run(rules, doc, true, null, 0, fast)).isEqualTo(run(rules, doc, false, null, 0, plain));
        assertThat(fast).hasSize(200).isEqualTo(plain);
        assertThat(fast.get(27)).contains("/27/keybb");
    }

    /** {@code json} with whitespace of every kind put between its tokens (never inside a string). */
    private static String spaced(String json, Random r) {
        StringBuilder sb = new StringBuilder();
        boolean inString = false;
        for (int i = 0; i < json.length(); i++) {
            char c = json.charAt(i);
            sb.append(c);
            if (inString) {
                if (c == '\\') {
                    sb.append(json.charAt(++i));
                } else if (c == '"') {
                    inString = false;
                }
            } else if (c == '"') {
                inString = true;
            }
            if (!inString && (c == '{' || c == '[' || c == ',' || c == ':' || c == '"') && r.nextInt(3) == 0) {
                sb.append(" \t\n\r".charAt(r.nextInt(4))).append(r.nextBoolean() ? " " : "");
            }
        }
        return sb.toString();
    }

    private static String document(Random r) {
        StringBuilder sb = new StringBuilder("[");
        for (int o = 0, n = 1 + r.nextInt(30); o < n; o++) {
            object(sb, r, 0);
            sb.append(',');
        }
        sb.append("{}]");
        return sb.toString();
    }

    private static void object(StringBuilder sb, Random r, int depth) {
        sb.append('{');
        for (int m = 0, n = r.nextInt(7); m < n; m++) {
            if (m > 0) {
                sb.append(',');
            }
            String key = r.nextInt(10) == 0 ? "f" + r.nextInt(100) : KEYS[r.nextInt(KEYS.length)];
            sb.append('"').append(key).append("\":");
            value(sb, r, depth);
        }
        sb.append('}');
    }

    private static void value(StringBuilder sb, Random r, int depth) {
        int kind = r.nextInt(depth < 3 ? 10 : 7);
        switch (kind) {
            case 0, 1, 2 -> sb.append(NUMBERS[r.nextInt(NUMBERS.length)]);
            case 3 -> {
                StringBuilder digits = new StringBuilder(r.nextBoolean() ? "-" : "");
                for (int k = 0, n = 1 + r.nextInt(20); k < n; k++) {
                    digits.append((char) ('0' + r.nextInt(10)));
                }
                sb.append(digits);
            }
            case 4, 5 -> sb.append('"').append(TEXTS[r.nextInt(TEXTS.length)]).append('"');
            case 6 -> sb.append(r.nextBoolean() ? "true" : "null");
            case 7 -> object(sb, r, depth + 1);
            case 8 ->
                sb.append("{\"kty\":\"RSA\",\"n\":\"")
                        .append("AQAB".repeat(10))
                        .append("\",\"d\":\"")
                        .append("X9fQ".repeat(12))
                        .append("\"}");
            default -> {
                sb.append('[');
                for (int k = 0, n = r.nextInt(4); k < n; k++) {
                    if (k > 0) {
                        sb.append(',');
                    }
                    value(sb, r, depth + 1);
                }
                sb.append(']');
            }
        }
    }

    /** The shortcut pass over {@code doc} written in two pieces, {@code [0, at)} and the rest. */
    private static String runSplit(ScanRules rules, byte[] doc, int at, List<String> findings) {
        ByteSink out = new ByteSink();
        BodyTransformer t = transformer(rules, out, true, findings);
        java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
        t.write(doc, 0, at);
        all.writeBytes(out.drain());
        t.write(doc, at, doc.length - at);
        all.writeBytes(out.drain());
        t.finish();
        all.writeBytes(out.drain());
        return all.toString(StandardCharsets.UTF_8);
    }

    private static BodyTransformer transformer(
            ScanRules rules, ByteSink out, boolean shortcuts, List<String> findings) {
        return new JsonTransformer(
                rules,
                Bodies.HASHER,
                out,
                (f, location) -> findings.add(f.detector() + " " + f.action() + " " + f.start() + "-" + f.end() + " "
                        + f.confidence() + " " + f.valueHmac() + " " + f.chars() + " @" + location),
                shortcuts);
    }

    private static String run(
            ScanRules rules, byte[] doc, boolean shortcuts, Random random, int maxChunk, List<String> findings) {
        ByteSink out = new ByteSink();
        BodyTransformer t = transformer(rules, out, shortcuts, findings);
        java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
        for (int i = 0; i < doc.length; ) {
            int len = random == null ? doc.length : Math.min(doc.length - i, 1 + random.nextInt(maxChunk));
            t.write(doc, i, len);
            all.writeBytes(out.drain());
            i += len;
        }
        t.finish();
        all.writeBytes(out.drain());
        return all.toString(StandardCharsets.UTF_8);
    }
}
