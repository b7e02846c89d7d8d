package io.meshguard.dlp.detect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** TextWindow.at answers every index: the bytes present, -1 outside a stream, NeedMore for bytes still to come. */
class TextWindowTest {
    private static TextWindow window(String text) {
        TextWindow t = new TextWindow();
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        t.append(b, 0, b.length);
        return t;
    }

    @Test
    void at_insideTheBytes_isTheByteAsUnsigned() {
        TextWindow t = window("a\u00ffz");
        assertThat(t.at(0)).isEqualTo('a');
        assertThat(t.at(1)).isEqualTo(0xc3); // no sign extension
        assertThat(t.at(t.length() - 1)).isEqualTo('z');
    }

    @Test
    void at_pastTheBytes_needsMoreUntilTheStreamEnds_thenIsMinusOne() {
        TextWindow t = window("abc");
        assertThatThrownBy(() -> t.at(3)).isSameAs(NeedMore.INSTANCE);
        assertThatThrownBy(() -> t.at(Integer.MAX_VALUE)).isSameAs(NeedMore.INSTANCE);
        t.markComplete();
        assertThat(t.at(3)).isEqualTo(-1);
        assertThat(t.at(Integer.MAX_VALUE)).isEqualTo(-1);
    }

    @Test
    void at_beforeTheStream_isMinusOne_butBeforeTheRetainedBytesIsAnError() {
        TextWindow t = window("abcdef");
        assertThat(t.at(-1)).isEqualTo(-1);
        assertThat(t.at(Integer.MIN_VALUE)).isEqualTo(-1);
        t.discardBefore(4); // "ef" left, at stream offset 4
        assertThat(t.at(0)).isEqualTo('e');
        assertThat(t.at(-5)).as("offset -1").isEqualTo(-1);
        assertThatThrownBy(() -> t.at(-1))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("3");
        assertThatThrownBy(() -> t.at(-4))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("0");
    }
}
