package io.meshguard.dlp.scan;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

class CodePointsTest {
    @Test
    void codePoints_countsEveryByteThatIsNotAContinuationByte_atAnyOffsetAndLength() {
        Random random = new Random(12);
        String pieces = "a1-@ 가나é😀\n";
        for (int round = 0; round < 20_000; round++) {
            StringBuilder sb = new StringBuilder();
            for (int k = 0, n = random.nextInt(40); k < n; k++) {
                sb.appendCodePoint(pieces.codePointAt(pieces.offsetByCodePoints(0, random.nextInt(10))));
            }
            byte[] b = sb.toString().getBytes(StandardCharsets.UTF_8);
            int off = b.length == 0 ? 0 : random.nextInt(b.length);
            int len = random.nextInt(b.length - off + 1);
            long want = 0;
            for (int i = off; i < off + len; i++) {
                want += (b[i] & 0xC0) != 0x80 ? 1 : 0;
            }
            assertThat(Finding.codePoints(b, off, len))
                    .as("%s [%d, +%d)", sb, off, len)
                    .isEqualTo(want);
        }
        assertThat(Finding.codePoints("카드 4111".getBytes(StandardCharsets.UTF_8), 0, 11))
                .isEqualTo(7);
    }
}
