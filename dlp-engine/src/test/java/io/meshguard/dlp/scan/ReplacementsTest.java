package io.meshguard.dlp.scan;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ReplacementsTest {
    /** Masking written out on code points: letters, digits and non-ASCII characters but the last few. */
    private static byte[] naive(String value, int keepLast, char maskChar) {
        int[] cps = value.codePoints().toArray();
        int maskable = 0;
        for (int cp : cps) {
            maskable += maskable(cp) ? 1 : 0;
        }
        StringBuilder sb = new StringBuilder();
        int seen = 0;
        for (int cp : cps) {
            if (maskable(cp) && ++seen <= maskable - keepLast) {
                sb.append(maskChar);
            } else {
                sb.appendCodePoint(cp);
            }
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static boolean maskable(int cp) {
        return cp >= 0x80 || (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
    }

    @Test
    void mask_keepsTheLastMaskableCharactersAndSeparators_forAsciiAndKoreanValues() {
        String pieces = "0123456789-- ..@_abcXYZ가나é";
        Random random = new Random(41);
        for (int round = 0; round < 20_000; round++) {
            StringBuilder sb = new StringBuilder();
            boolean ascii = random.nextBoolean();
            for (int k = 0, n = 1 + random.nextInt(30); k < n; k++) {
                sb.append(pieces.charAt(random.nextInt(ascii ? pieces.length() - 3 : pieces.length())));
            }
            String value = sb.toString();
            byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
            byte[] padded = new byte[bytes.length + 6];
            System.arraycopy(bytes, 0, padded, 3, bytes.length);
            int keepLast = random.nextInt(6);
            assertThat(Replacements.mask(padded, 3, bytes.length, keepLast, '*'))
                    .as("%s keeping %d", value, keepLast)
                    .isEqualTo(naive(value, keepLast, '*'));
        }
        assertThat(new String(
                        Replacements.mask("4111-1111-1111-1111".getBytes(StandardCharsets.US_ASCII), 0, 19, 4, '*'),
                        StandardCharsets.US_ASCII))
                .isEqualTo("****-****-****-1111");
    }

    @Test
    void mask_wordAtATime_agreesWithTheCodePointRule_atEveryLengthCutAndBoundaryByte() {
        // The bytes on each side of the letter and digit ranges, at every length around whole words, each place of
        // the cut (keepLast past the count of letters and digits too), and a non-ASCII character in any word.
        String pieces = "/09:@AZ[`az{\u007f -.5mQ";
        Random random = new Random(43);
        for (int round = 0; round < 40_000; round++) {
            StringBuilder sb = new StringBuilder();
            int n = random.nextInt(41);
            for (int k = 0; k < n; k++) {
                sb.append(pieces.charAt(random.nextInt(pieces.length())));
            }
            if (n > 0 && random.nextInt(5) == 0) {
                sb.setCharAt(random.nextInt(n), random.nextBoolean() ? '\u00e9' : '\uac00');
            }
            String value = sb.toString();
            byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
            int off = random.nextInt(9);
            byte[] padded = new byte[off + bytes.length + random.nextInt(9)];
            java.util.Arrays.fill(padded, (byte) '7'); // maskable bytes around the value stay out of it
            System.arraycopy(bytes, 0, padded, off, bytes.length);
            int keepLast = random.nextInt(13);
            char maskChar = "*#x".charAt(random.nextInt(3));
            assertThat(Replacements.mask(padded, off, bytes.length, keepLast, maskChar))
                    .as("%s keeping %d", value, keepLast)
                    .isEqualTo(naive(value, keepLast, maskChar));
        }
    }

    @Test
    void mask_asciiWords_keptLettersInTheLastWordOrBefore_agreeWithTheCodePointRule() {
        // ASCII values of 8-64 bytes, shaped as masked values are (digit groups, letters, separators) but with runs of
        // separators at the end as well, so that the last eight bytes hold sometimes all, sometimes fewer than
        // keepLast of the letters and digits kept (the word path leaves those to the byte loops). Both cases must
        // occur, and each answer equal the rule written out on code points.
        String digitsAndLetters = "0123456789AZaz";
        String separators = " -./:@_";
        Random random = new Random(47);
        int inLastWord = 0;
        int beforeIt = 0;
        for (int round = 0; round < 40_000; round++) {
            int n = 8 + random.nextInt(57);
            int trailing = random.nextInt(4) == 0 ? random.nextInt(Math.min(n, 12)) : 0;
            StringBuilder sb = new StringBuilder();
            for (int k = 0; k < n; k++) {
                boolean separator = k >= n - trailing || random.nextInt(4) == 0;
                String from = separator ? separators : digitsAndLetters;
                sb.append(from.charAt(random.nextInt(from.length())));
            }
            String value = sb.toString();
            int keepLast = random.nextInt(9);
            long maskableAtEnd = value.substring(n - 8)
                    .chars()
                    .filter(c -> digitsAndLetters.indexOf(c) >= 0)
                    .count();
            if (maskableAtEnd >= keepLast) {
                inLastWord++;
            } else {
                beforeIt++;
            }
            byte[] bytes = value.getBytes(StandardCharsets.US_ASCII);
            int off = random.nextInt(9);
            byte[] padded = new byte[off + n + random.nextInt(9)];
            java.util.Arrays.fill(padded, (byte) 'x');
            System.arraycopy(bytes, 0, padded, off, n);
            char maskChar = "*#".charAt(random.nextInt(2));
            assertThat(new String(Replacements.mask(padded, off, n, keepLast, maskChar), StandardCharsets.US_ASCII))
                    .as("%s keeping %d", value, keepLast)
                    .isEqualTo(new String(naive(value, keepLast, maskChar), StandardCharsets.US_ASCII));
        }
        assertThat(inLastWord).isGreaterThan(10_000);
        assertThat(beforeIt).isGreaterThan(1_000);
    }

    @Test
    void templates_fillDetectorAndEveryHashPlace_likeStringReplace() {
        String hmac = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        byte[] value = "x5105105105105100y".getBytes(StandardCharsets.US_ASCII);
        for (String template : new String[] {
            "[REDACTED:{detector}]",
            "[{detector}:{hash}]",
            "{hash}",
            "",
            "{hash}{hash}-{detector}-{hash}",
            "숨김 {detector} {hash}끝",
            "{hash"
        }) {
            for (ActionKind kind : new ActionKind[] {ActionKind.REDACT, ActionKind.HASH}) {
                String expected = kind == ActionKind.REDACT
                        ? template.replace("{detector}", "card")
                        : template.replace("{detector}", "card").replace("{hash}", hmac.substring(0, 16));
                Replacements r = new Replacements(new Action(kind, 0, '*', template), "card");
                assertThat(new String(r.of(value, 1, 16, hmac), StandardCharsets.UTF_8))
                        .as("%s %s", kind, template)
                        .isEqualTo(expected);
            }
        }
        Replacements mask = new Replacements(new Action(ActionKind.MASK, 4, '#', ""), "card");
        assertThat(new String(mask.of(value, 1, 16, hmac), StandardCharsets.US_ASCII))
                .isEqualTo("############5100");
    }
}
