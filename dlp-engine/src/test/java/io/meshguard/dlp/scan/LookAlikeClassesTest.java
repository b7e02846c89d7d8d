package io.meshguard.dlp.scan;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Look-alike characters by Unicode class: separators (Zs), format marks (Cf), decimal digits of any script
 * (Nd), and '.' or TAB between groups, around a Luhn-valid card. Scanned whole and in random chunks; with vectors
 * and without vectors (run with {@code -DargLine=-Dmeshguard.dlp.simd=false} for the portable path).
 */
class LookAlikeClassesTest {
    private static final String CARD = ContextWordsUnmaskTest.CARD; // 4532015112830366

    /** {@code CARD} with every digit moved to the script whose zero is {@code zero}. */
    private static String inScript(int zero) {
        StringBuilder sb = new StringBuilder();
        for (char c : CARD.toCharArray()) {
            sb.appendCodePoint(zero + c - '0');
        }
        return sb.toString();
    }

    private static String grouped(String sep) {
        return CARD.substring(0, 4)
                + sep
                + CARD.substring(4, 8)
                + sep
                + CARD.substring(8, 12)
                + sep
                + CARD.substring(12);
    }

    private static void assertRedacted(String value) {
        String text = "pay with " + value + " now";
        byte[] in = text.getBytes(StandardCharsets.UTF_8);
        ScanRules rules = Scans.allBuiltins(ActionKind.REDACT);
        byte[] whole = Scans.whole(rules, in).bytes();
        assertThat(new String(whole, StandardCharsets.UTF_8)).as(value).isEqualTo("pay with [REDACTED:card] now");
        Random random = new Random(5);
        for (int round = 0; round < 12; round++) {
            assertThat(Scans.chunked(rules, in, random, 1 + round).bytes()).isEqualTo(whole);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0x202F, 0x2007, 0x2009, 0x00A0, 0x3000, 0x205F})
    void spaceSeparators_betweenGroups(int sep) {
        assertRedacted(grouped(Character.toString(sep)));
    }

    @ParameterizedTest
    @ValueSource(
            ints = {0x200E, 0x200F, 0x2060, 0x2061, 0x2062, 0x2063, 0x2064, 0x200B, 0x200C, 0x200D, 0x00AD, 0xFEFF})
    void formatMarks_betweenDigits(int mark) {
        assertRedacted(grouped(Character.toString(mark)));
        String m = Character.toString(mark);
        assertRedacted(String.join(m, CARD.split("")));
    }

    @ParameterizedTest
    @ValueSource(ints = {0x0660, 0x06F0, 0x0966, 0x09E6, 0x0E50, 0xFF10, 0x1D7CE, 0x1D7EC, 0x1D7F6})
    void digitsOfOtherScripts(int zero) {
        assertRedacted(inScript(zero));
    }

    @ParameterizedTest
    @ValueSource(strings = {".", "\t"})
    void dotOrTab_betweenGroups(String sep) {
        assertRedacted(grouped(sep));
    }
}
