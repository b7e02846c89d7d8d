package io.meshguard.dlp.scan;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The allow-list on bytes must decide as {@link DetectorRule#allowed(String)} decides on the decoded value. */
class AllowListTest {
    private static final List<Set<String>> VALUE_SETS = List.of(
            Set.of(),
            Set.of("4111111111111111", "5555555555554444", "378282246310005"),
            Set.of("4111111111111111", ""),
            Set.of("12-34", "ab cd", "1234", "x"),
            Set.of("é1", "4111111111111111"),
            manyValues());
    private static final List<List<String>> DOMAIN_LISTS = List.of(
            List.of(), List.of("example.com", "Example.ORG"), List.of("kbank.com"), List.of("é.kr", "example.com"));
    private static final String[] PIECES = {
        "4111",
        "1111",
        "5555",
        "4444",
        "3782",
        "8224",
        "6310",
        "005",
        "0",
        "1",
        "12",
        "34",
        "ab",
        "cd",
        "x",
        "é",
        "\u212A",
        "K",
        "k",
        " ",
        "-",
        "  ",
        "@",
        ".",
        "example.com",
        "EXAMPLE.com",
        "example.org",
        "kbank.com",
        "bank.com",
        "@\u212Abank.com",
        ".\u212ABANK.com",
        "é.kr",
        "user",
        "mail."
    };

    private static Set<String> manyValues() {
        Set<String> s = new java.util.HashSet<>();
        for (int k = 0; k < 40; k++) {
            s.add("4111" + k);
        }
        return s;
    }

    @Test
    void allowed_decidesAsTheRuleDoesOnTheDecodedValue_forAsciiBrokenAndOtherValues() {
        Random random = new Random(41);
        for (Set<String> values : VALUE_SETS) {
            for (List<String> domains : DOMAIN_LISTS) {
                DetectorRule rule =
                        new DetectorRule("r", 0.5, ContextRule.NONE, values, domains, Action.of(ActionKind.ALERT));
                AllowList list = new AllowList(rule);
                for (int round = 0; round < 3000; round++) {
                    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
                    int lead = random.nextInt(3);
                    out.writeBytes(new byte[lead]);
                    List<String> chosen = new ArrayList<>();
                    if (random.nextInt(4) == 0 && !values.isEmpty()) {
                        // An allowed value, grouped with spaces or dashes the way card numbers are written.
                        String v = values.stream()
                                .skip(random.nextInt(values.size()))
                                .findFirst()
                                .orElseThrow();
                        for (int c = 0; c < v.length(); c++) {
                            chosen.add(String.valueOf(v.charAt(c)));
                            if (random.nextInt(4) == 0) {
                                chosen.add(random.nextBoolean() ? " " : "-");
                            }
                        }
                    } else {
                        for (int k = 0, n = random.nextInt(8); k < n; k++) {
                            chosen.add(PIECES[random.nextInt(PIECES.length)]);
                        }
                    }
                    for (String piece : chosen) {
                        out.writeBytes(piece.getBytes(StandardCharsets.UTF_8));
                    }
                    if (random.nextInt(10) == 0) {
                        out.write(random.nextBoolean() ? 0xFF : 0x80); // not UTF-8
                    }
                    byte[] b = out.toByteArray();
                    boolean want = rule.allowed(new String(b, lead, b.length - lead, StandardCharsets.UTF_8));
                    assertThat(list.allowed(b, lead, b.length))
                            .as("%s allowing %s and %s", chosen, values, domains)
                            .isEqualTo(want);
                }
            }
        }
    }

    @Test
    void allowed_valueEndingLikeNoAllowedValue_isNotAllowed_andTestCardNumbersAre() {
        AllowList list = new AllowList(new DetectorRule(
                "card",
                0.5,
                ContextRule.NONE,
                Set.of("4111111111111111", "378282246310005"),
                List.of(),
                Action.of(ActionKind.ALERT)));
        byte[] b = "5105 1051 0510 5100 4111-1111-1111-1111 3782 822463 10005 -".getBytes(StandardCharsets.US_ASCII);
        assertThat(list.allowed(b, 0, 19)).isFalse();
        assertThat(list.allowed(b, 20, 39)).isTrue();
        assertThat(list.allowed(b, 40, b.length)).isTrue(); // trailing space and dash are not part of the value
        assertThat(list.allowed(b, 20, 38)).isFalse();
    }

    @Test
    void allowed_valueNotAscii_isDecidedOnTheDecodedValue_whichLowerCasingMayTurnIntoAnAllowedDomain() {
        // The Kelvin sign lower-cases to the ASCII letter k.
        AllowList list = new AllowList(new DetectorRule(
                "email", 0.5, ContextRule.NONE, Set.of(), List.of("kbank.com"), Action.of(ActionKind.ALERT)));
        byte[] b = "user@\u212Abank.com".getBytes(StandardCharsets.UTF_8);
        assertThat(list.allowed(b, 0, b.length)).isTrue();
    }

    @Test
    void ascii_isFalseForAByteWithTheHighBitSetAnywhereInTheRange() {
        for (int len = 0; len < 20; len++) {
            byte[] b = new byte[len + 2];
            java.util.Arrays.fill(b, (byte) 'a');
            b[0] = (byte) 0xC3; // outside the range looked at
            b[len + 1] = (byte) 0xC3;
            assertThat(AllowList.ascii(b, 1, len + 1)).isTrue();
            for (int k = 1; k <= len; k++) {
                b[k] = (byte) 0x80;
                assertThat(AllowList.ascii(b, 1, len + 1))
                        .as("len %d at %d", len, k)
                        .isFalse();
                b[k] = 'a';
            }
        }
    }
}
