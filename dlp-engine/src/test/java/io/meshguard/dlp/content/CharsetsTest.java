package io.meshguard.dlp.content;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** A declared charset resolves as the JDK names it, in any case, and a name it does not know resolves to nothing. */
class CharsetsTest {

    @Test
    void lookup_everyNameAndAliasOfTheJdk_inAnyCase_isThatCharset() {
        int names = 0;
        for (Charset c : Charset.availableCharsets().values()) {
            java.util.List<String> spellings = new java.util.ArrayList<>(c.aliases());
            spellings.add(c.name());
            for (String name : spellings) {
                // an alias two charsets share resolves to one of them, as Charset.forName does
                Charset expected = Charset.forName(name);
                assertThat(Charsets.lookup(name)).as(name).hasValue(expected);
                assertThat(Charsets.lookup(" " + name.toUpperCase(Locale.ROOT) + " "))
                        .as(name)
                        .hasValue(expected);
                assertThat(Charsets.lookup(name.toLowerCase(Locale.ROOT)))
                        .as(name)
                        .hasValue(expected);
                names++;
            }
        }
        assertThat(names).isGreaterThan(500);
    }

    @Test
    void lookup_unknownOrIllegalNames_isEmpty() {
        for (String name :
                new String[] {"x-no-such-charset", "", "utf 8", "utf\u0000-8", "ütf-8", "a".repeat(10_000)}) {
            assertThat(Charsets.lookup(name)).as(name).isEqualTo(Optional.empty());
        }
    }

    @Test
    void asciiCompatible_isDecidedPerCharset_whateverItsSpelling() {
        assertThat(Charsets.asciiCompatible("ISO-8859-1")).isTrue();
        assertThat(Charsets.asciiCompatible("latin1")).isTrue();
        assertThat(Charsets.asciiCompatible("EUC-KR")).isTrue();
        assertThat(Charsets.asciiCompatible("UTF-16")).isFalse();
        assertThat(Charsets.asciiCompatible("IBM037")).isFalse();
        assertThat(Charsets.asciiCompatible("x-no-such-charset")).isFalse();
        assertThat(Charsets.isUtf8(Charsets.lookup("UTF8").orElseThrow())).isTrue();
        assertThat(Charsets.lookup("utf8")).hasValue(StandardCharsets.UTF_8);
    }
}
