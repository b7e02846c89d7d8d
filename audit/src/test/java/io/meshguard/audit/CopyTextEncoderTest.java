package io.meshguard.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
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

    /** ~1.3 MB of COPY text: 2,000 events with 600 characters of details, some of them multi-byte. */
    private static List<AuditEvent> largeBatch() {
        List<AuditEvent> batch = new ArrayList<>();
        Instant at = Instant.parse("2026-11-26T10:00:00Z");
        for (int i = 0; i < 2000; i++) {
            batch.add(AuditEvent.builder(AuditKind.AUTHZ_DECISION)
                    .occurredAt(at.plusNanos(i * 1000L))
                    .tenant("t" + i)
                    .path("/v1/orders/" + i)
                    .detail("facts", ("ü€😀\t" + i).repeat(60))
                    .build());
        }
        return batch;
    }

    @Test
    void stream_largeBatch_sendsTheSameBytesAsOneArray_inChunksOfAtMostChunkBytes() throws SQLException {
        List<AuditEvent> batch = largeBatch();
        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        List<Integer> chunks = new ArrayList<>();
        CopyTextEncoder encoder = CopyTextEncoder.streaming();

        encoder.stream(batch, (bytes, offset, length) -> {
            chunks.add(length);
            sent.write(bytes, offset, length);
        });

        byte[] whole = CopyTextEncoder.encode(batch);
        assertThat(whole.length).isGreaterThan(10 * CopyTextEncoder.CHUNK_BYTES);
        assertThat(sent.toByteArray()).isEqualTo(whole);
        assertThat(chunks).allSatisfy(n -> assertThat(n).isBetween(1, CopyTextEncoder.CHUNK_BYTES));

        // the same encoder again (the store keeps one): nothing of the first batch is left in it
        ByteArrayOutputStream again = new ByteArrayOutputStream();
        encoder.stream(batch.subList(0, 3), (bytes, offset, length) -> again.write(bytes, offset, length));
        assertThat(again.toByteArray()).isEqualTo(CopyTextEncoder.encode(batch.subList(0, 3)));
    }

    @Test
    void stream_valueLongerThanAChunk_isSentWhole_andMatchesOneArray() throws SQLException {
        AuditEvent big = AuditEvent.builder(AuditKind.API_CALL)
                .detail("body", "x\\y".repeat(CopyTextEncoder.CHUNK_BYTES))
                .build();
        List<AuditEvent> batch =
                List.of(TestEvents.numbered(1, Instant.now()), big, TestEvents.numbered(2, Instant.now()));
        ByteArrayOutputStream sent = new ByteArrayOutputStream();

        CopyTextEncoder.streaming().stream(batch, (bytes, offset, length) -> sent.write(bytes, offset, length));

        assertThat(sent.toByteArray()).isEqualTo(CopyTextEncoder.encode(batch));
    }

    @Test
    void stream_sinkFailure_reachesTheCallerAsTheSameSqlException() {
        SQLException gone = new SQLException("Database connection failed when writing to copy", "08006");

        assertThatThrownBy(() -> CopyTextEncoder.streaming().stream(largeBatch(), (bytes, offset, length) -> {
                    throw gone;
                }))
                .isSameAs(gone);
    }
}
