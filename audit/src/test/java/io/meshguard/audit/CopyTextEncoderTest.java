package io.meshguard.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class CopyTextEncoderTest {
    @Test
    void row_hasEveryColumnInOrder_withNullsEscapesAndUtcMicroseconds() {
        AuditEvent e = AuditEvent.builder(AuditKind.API_CALL)
                .eventId(UUID.fromString("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"))
                .occurredAt(Instant.parse("2026-01-02T03:04:05.000007Z"))
                .tenant("a\tb\\c\nd\re")
                .subject("ü€😀")
                .status(200)
                .latencyUs(-5)
                .stream(true)
                .build();
        String line = new String(CopyTextEncoder.encode(List.of(e)), StandardCharsets.UTF_8);
        String[] cols = line.substring(0, line.length() - 1).split("\t", -1);
        assertThat(line).endsWith("\n");
        assertThat(cols).hasSize(22);
        assertThat(cols[0]).isEqualTo("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");
        assertThat(cols[1]).isEqualTo("2026-01-02 03:04:05.000007+00");
        assertThat(cols[2]).isEqualTo("api_call");
        assertThat(cols[3]).isEqualTo("\\N");
        assertThat(cols[5]).isEqualTo("a\\tb\\\\c\\nd\\re");
        assertThat(cols[6]).isEqualTo("ü€😀");
        assertThat(cols[14]).isEqualTo("200");
        assertThat(cols[17]).isEqualTo("-5");
        assertThat(cols[18]).isEqualTo("\\N");
        assertThat(cols[20]).isEqualTo("t");
        assertThat(cols[21]).isEqualTo("{}");
    }

    @Test
    void loneSurrogate_becomesReplacementCharacter_likeStringGetBytes() {
        AuditEvent e =
                AuditEvent.builder(AuditKind.API_CALL).subject("x\uD800y").build();
        String line = new String(CopyTextEncoder.encode(List.of(e)), StandardCharsets.UTF_8);
        assertThat(line.split("\t", -1)[6]).isEqualTo("x\uFFFDy");
    }
}
