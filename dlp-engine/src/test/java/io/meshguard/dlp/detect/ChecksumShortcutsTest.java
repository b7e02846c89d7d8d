package io.meshguard.dlp.detect;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.testing.SlowTest;
import java.nio.CharBuffer;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The scan's array and table forms of the checksums answer exactly what the public CharSequence forms answer. */
@SlowTest
class ChecksumShortcutsTest {
    @Test
    void ibanLengthOfTwoBytes_isTheRegistryLengthOfThatCountryCode_forEveryPair() {
        int registered = 0;
        for (int c0 = -1; c0 < 256; c0++) {
            for (int c1 = -1; c1 < 256; c1++) {
                String code = c0 < 0 || c1 < 0 ? "" : "" + (char) c0 + (char) c1;
                int want = Checksums.ibanLength(code);
                assertThat(Checksums.ibanLength(c0, c1)).as("%d %d", c0, c1).isEqualTo(want);
                registered += want > 0 ? 1 : 0;
            }
        }
        assertThat(registered).as("countries with an IBAN").isGreaterThan(60);
    }

    /** Luhn as the standard states it: every second digit from the right doubled, the digits of all summed. */
    private static boolean luhnByDigitSums(char[] digits, int len) {
        int sum = 0;
        for (int k = 0; k < len; k++) {
            int d = (digits[len - 1 - k] - '0') * (k % 2 == 1 ? 2 : 1);
            sum += d / 10 + d % 10;
        }
        return sum % 10 == 0;
    }

    @Test
    void luhnOnArray_agreesWithTheDigitSumDefinition() {
        Random random = new Random(10);
        char[] digits = new char[40];
        int passing = 0;
        for (int round = 0; round < 50_000; round++) {
            int len = random.nextInt(21);
            for (int k = 0; k < len; k++) {
                digits[k] = (char) ('0' + random.nextInt(10));
            }
            boolean want = luhnByDigitSums(digits, len);
            assertThat(Checksums.luhn(digits, len))
                    .as(new String(digits, 0, len))
                    .isEqualTo(want);
            assertThat(Checksums.luhn(CharBuffer.wrap(digits, 0, len))).isEqualTo(want);
            passing += want ? 1 : 0;
        }
        assertThat(passing).as("numbers passing Luhn (the empty one too)").isBetween(5_000, 9_000);
    }

    @Test
    void cardBrandOnArray_agreesWithTheCharSequenceForm() {
        Random random = new Random(16);
        String[] prefixes = {
            "4", "51", "55", "2221", "2720", "34", "37", "6011", "65", "644", "649", "622126", "622925", "3528", "3589",
            "62", "81", "300", "305", "36", "38", "39", "3095", "50", "56", "58", "67", "63", "9400", "9499", "1", "0",
            "99", ""
        };
        char[] digits = new char[40];
        int brands = 0;
        for (int round = 0; round < 50_000; round++) {
            String p = prefixes[random.nextInt(prefixes.length)];
            int len = Math.max(1, p.length() + random.nextInt(21 - p.length()));
            for (int k = 0; k < len; k++) {
                digits[k] = k < p.length() ? p.charAt(k) : (char) ('0' + random.nextInt(10));
            }
            boolean want = Checksums.cardBrand(CharBuffer.wrap(digits, 0, len));
            assertThat(Checksums.hasLength(Checksums.cardBrandLengths(digits, len), len))
                    .as(new String(digits, 0, len))
                    .isEqualTo(want);
            brands += want ? 1 : 0;
        }
        assertThat(brands).as("numbers with a brand's prefix and length").isGreaterThan(5_000);
    }

    @Test
    void cardBrandLengths_holdExactlyTheLengthsTheCharSequenceFormAccepts_fromFirstDigitsWorkedOutOnce() {
        Random random = new Random(17);
        String[] prefixes = {
            "4", "51", "2720", "37", "6011", "649", "622126", "3589", "81", "305", "3095", "58", "9400", "1", "0"
        };
        char[] digits = new char[40];
        int accepted = 0;
        for (int round = 0; round < 5_000; round++) {
            String p = prefixes[random.nextInt(prefixes.length)];
            for (int k = 0; k < digits.length; k++) {
                digits[k] = k < p.length() ? p.charAt(k) : (char) ('0' + random.nextInt(10));
            }
            int walked = 6 + random.nextInt(35); // the digits a walk gathered: the first six decide
            int lengths = Checksums.cardBrandLengths(digits, walked);
            int from = random.nextInt(4); // the same digits further into the array: the same lengths
            char[] shifted = new char[from + digits.length];
            System.arraycopy(digits, 0, shifted, from, digits.length);
            assertThat(Checksums.cardBrandLengths(shifted, from, walked)).isEqualTo(lengths);
            for (int len = 1; len <= 40; len++) { // also past 19 and past 31, where a shift would wrap
                boolean want = len >= 6 && Checksums.cardBrand(CharBuffer.wrap(digits, 0, len));
                if (len >= 6) {
                    assertThat(Checksums.hasLength(lengths, len))
                            .as("%s %d", new String(digits), len)
                            .isEqualTo(want);
                }
                accepted += want ? 1 : 0;
            }
        }
        assertThat(accepted).as("lengths some brand accepts").isGreaterThan(5_000);
    }

    @Test
    void entropyBelow_isTheExactFormulaComparedWithTheThreshold_andLeavesTheScratchClear() {
        Random random = new Random(35);
        int[] scratch = new int[256];
        int below = 0;
        for (int round = 0; round < 20_000; round++) {
            byte[] b = new byte[1 + random.nextInt(round % 10 == 0 ? 400 : 64)];
            int symbols = 1 + random.nextInt(round % 2 == 0 ? 24 : 256);
            for (int k = 0; k < b.length; k++) {
                b[k] = (byte) (random.nextInt(symbols) * 7);
            }
            int from = random.nextInt(Math.min(4, b.length));
            double threshold = round % 3 == 0 ? 3.5 : random.nextDouble() * 6;
            boolean want = Checksums.entropy(b, from, b.length, new int[256]) < threshold;
            assertThat(Checksums.entropyBelow(b, from, b.length, scratch, threshold))
                    .isEqualTo(want);
            assertThat(scratch).containsOnly(0);
            below += want ? 1 : 0;
        }
        assertThat(below).as("tokens below their threshold").isBetween(2_000, 18_000);
    }

    @Test
    void entropyBelow_atExactlyTheThreshold_answersAsTheExactFormula() {
        // Eight symbols once and four twice: 8/16 * 4 + 8/16 * 3 = 3.5 bits, where rounding alone decides.
        byte[] b = "abcdefghIIJJKKLL".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        int[] scratch = new int[256];
        double exact = Checksums.entropy(b, 0, b.length, new int[256]);
        assertThat(exact).isCloseTo(3.5, org.assertj.core.data.Offset.offset(1e-12));
        assertThat(Checksums.entropyBelow(b, 0, b.length, scratch, 3.5)).isEqualTo(exact < 3.5);
        assertThat(Checksums.entropyBelow(b, 0, b.length, scratch, exact)).isFalse();
        assertThat(Checksums.entropyBelow(b, 0, b.length, scratch, Math.nextUp(exact)))
                .isTrue();
    }

    @Test
    void mayStartCard_isFalseExactlyWhereNoSixDigitPrefixHasABrand() {
        boolean[] pairs = new boolean[100];
        boolean[] firsts = new boolean[10];
        char[] digits = new char[6];
        for (int p6 = 0; p6 < 1_000_000; p6++) {
            String s = String.format("%06d", p6);
            s.getChars(0, 6, digits, 0);
            if (Checksums.cardBrandLengths(digits, 6) != 0) {
                pairs[p6 / 10_000] = true;
                firsts[p6 / 100_000] = true;
            }
        }
        for (int d0 = 0; d0 < 10; d0++) {
            assertThat(Checksums.mayStartCard(d0, -1)).as("%d", d0).isEqualTo(firsts[d0]);
            for (int d1 = 0; d1 < 10; d1++) {
                assertThat(Checksums.mayStartCard(d0, d1)).as("%d%d", d0, d1).isEqualTo(pairs[d0 * 10 + d1]);
            }
        }
    }
}
