package io.meshguard.dlp.detect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PatternBoundsTest {
    @ParameterizedTest
    @CsvSource(delimiter = ';', textBlock = """
            \\bEMP-[0-9]{6}\\b            ; 10
            (?:ab|cde)?x                  ; 4
            [가-힣]{2,3}                   ; 12
            \\d{3}-\\d{4}                 ; 8
            (?i)secret[=:]\\s?\\w{8,40}   ; 48
            """)
    void longestMatch(String pattern, int bytes) {
        assertThat(PatternBounds.maxBytes(pattern)).isEqualTo(bytes);
    }

    @Test
    void unboundedOrWholeTextPatterns_areRejectedWithAReason() {
        assertThatThrownBy(() -> PatternBounds.maxBytes("\\d+")).hasMessageContaining("unbounded repetition '+'");
        assertThatThrownBy(() -> PatternBounds.maxBytes("a.*b")).hasMessageContaining("unbounded");
        assertThatThrownBy(() -> PatternBounds.maxBytes("x{2,}")).hasMessageContaining("{n,}");
        assertThatThrownBy(() -> PatternBounds.maxBytes("\\Aabc")).hasMessageContaining("whole text");
        assertThatThrownBy(() -> PatternBounds.maxBytes("a{5000}")).hasMessageContaining("limit is 4096");
    }

    @Test
    void firstBytes_coverEveryPossibleStart() {
        boolean[] f = PatternBounds.shape("(?:\\+82)?01[0-9]", false).firstBytes();
        assertThat(f['+']).isTrue();
        assertThat(f['0']).isTrue();
        assertThat(f['1']).isFalse();
        boolean[] ci = PatternBounds.shape("emp-\\d{3}", true).firstBytes();
        assertThat(ci['e']).isTrue();
        assertThat(ci['E']).isTrue();
    }

    @ParameterizedTest(name = "{0} (ignore case {1}) -> \"{2}\"")
    @CsvSource(delimiter = ';', textBlock = """
            \\bEMP-[0-9]{6}\\b        ; false ; EMP-
            ^ID:\\s?\\d{4}             ; false ; ID:
            abc?d                         ; false ; ab
            ab{2}c                        ; false ; a
            ab{1,3}c                      ; false ; a
            a\\.b\\d                  ; false ; a.b
            (?i)ORDER-\\d{4}            ; false ; order-
            ORDER-\\d{4}                ; true  ; order-
            (?i)task-\\d{4}             ; false ; ta
            ab|cd                         ; false ; ''
            (ab|cd)x                      ; false ; ''
            [A-Z]{2}\\d{4}              ; false ; ''
            주민\\d{6}                   ; false ; 주민
            주민\\d{6}                   ; true  ; ''
            """)
    void literalPrefix_isWhatEveryMatchStartsWith(String pattern, boolean ignoreCase, String prefix) {
        assertThat(new String(
                        PatternBounds.shape(pattern, ignoreCase).prefix(), java.nio.charset.StandardCharsets.UTF_8))
                .isEqualTo(prefix);
        java.util.regex.Pattern check = java.util.regex.Pattern.compile(pattern);
        assertThat(check).isNotNull();
    }

    @Test
    void literalPrefix_neverRejectsAMatchThatRe2Finds() {
        String[][] cases = {
            {"(?i)kask-\\d{2}", "KASK-12", "\u212Aask-12"},
            {"(?i)ask-\\d{2}", "ASK-12", "aSk-12"},
            {"\\bEMP-[0-9]{6}\\b", "EMP-123456"},
            {"ab{1,3}c", "abbbc"},
        };
        for (String[] c : cases) {
            PatternBounds.Shape shape = PatternBounds.shape(c[0], false);
            com.google.re2j.Pattern re2 = RegexRecognizer.compile(c[0], false);
            for (int k = 1; k < c.length; k++) {
                byte[] text = c[k].getBytes(java.nio.charset.StandardCharsets.UTF_8);
                com.google.re2j.Matcher matcher = re2.matcher(text);
                assertThat(matcher.find()).as("%s on %s", c[0], c[k]).isTrue();
                byte[] p = shape.prefix();
                int at = matcher.start();
                boolean starts = text.length - at >= p.length;
                for (int m = 0; m < p.length && starts; m++) {
                    byte x = text[at + m];
                    starts = (shape.prefixIgnoresCase() && x >= 'A' && x <= 'Z' ? x + 32 : x) == p[m];
                }
                assertThat(starts).as("%s on %s", c[0], c[k]).isTrue();
            }
        }
    }
}
