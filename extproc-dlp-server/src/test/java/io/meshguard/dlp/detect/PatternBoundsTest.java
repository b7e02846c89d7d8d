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
}
