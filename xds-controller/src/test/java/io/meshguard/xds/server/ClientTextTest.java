package io.meshguard.xds.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.contract.peer.ClientText;
import org.junit.jupiter.api.Test;

class ClientTextTest {

    @Test
    void printable_answersWhatEscapingWouldSay_forEveryUtf16CodeUnit() {
        int unprintable = 0;
        for (char c = 0; c < Character.MAX_VALUE; c++) {
            String text = "node-" + c + "-1";
            boolean unchanged = ClientText.escape(text).equals(text);
            assertThat(ClientText.printable(text)).as("U+%04x", (int) c).isEqualTo(unchanged);
            unprintable += unchanged ? 0 : 1;
        }
        // the classes the type escapes: C0 (32), DEL, C1 (32), backslash, separators, bidi controls, marks, BOM
        assertThat(unprintable).isEqualTo(32 + 1 + 32 + 1 + 2 + 5 + 4 + 2 + 1);
    }

    @Test
    void printable_refusesWhatEscapingWouldCut() {
        assertThat(ClientText.printable("a".repeat(ClientText.MAX_CHARS))).isTrue();
        assertThat(ClientText.printable("a".repeat(ClientText.MAX_CHARS + 1))).isFalse();
        assertThat(ClientText.printable("")).isTrue();
        assertThat(ClientText.printable("grüße-\uD83D\uDE00")).isTrue();
    }
}
