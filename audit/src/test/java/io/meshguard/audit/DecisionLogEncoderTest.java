package io.meshguard.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.meshguard.audit.query.AuditFormats;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DecisionLogEncoderTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Instant AT = Instant.parse("2026-11-22T10:15:30.123456Z");

    private static byte[] encode(AuditEvent e, PathPolicy paths) {
        DecisionLogEncoder encoder = new DecisionLogEncoder(Map.of("service", "meshguard-test"), paths, 64);
        encoder.append(e);
        return Arrays.copyOf(encoder.bytes(), encoder.size());
    }

    @Test
    void line_everyKind_holdsWhatAuditQueryPrintsUnderTheSameNames() throws Exception {
        for (AuditEvent e : TestEvents.everyKind(AT)) {
            JsonNode line = JSON.readTree(encode(e, PathPolicy.DROP_QUERY));
            ObjectNode row = AuditFormats.toJson(e);

            assertThat(line.get("type").asText()).isEqualTo(DecisionLogEncoder.TYPE);
            assertThat(line.get("labels").get("service").asText()).isEqualTo("meshguard-test");
            for (Iterator<String> names = row.fieldNames(); names.hasNext(); ) {
                String name = names.next();
                JsonNode expected = row.get(name);
                if (name.equals("occurred_at")) {
                    assertThat(Instant.parse(line.get(name).asText())).isEqualTo(e.occurredAt());
                } else if (expected.isIntegralNumber()) {
                    assertThat(line.get(name).asLong())
                            .as("%s of %s", name, e.kind())
                            .isEqualTo(expected.asLong());
                } else if (expected.isNull()) {
                    assertThat(line.has(name))
                            .as("%s of %s is absent", name, e.kind())
                            .isFalse();
                } else {
                    assertThat(line.get(name)).as("%s of %s", name, e.kind()).isEqualTo(expected);
                }
            }
        }
    }

    @Test
    void line_timestamp_isUtcWithMicroseconds() throws Exception {
        AuditEvent e = AuditEvent.builder(AuditKind.AUTHZ_DECISION)
                .occurredAt(Instant.parse("1999-12-31T23:59:59Z"))
                .build();

        assertThat(JSON.readTree(encode(e, PathPolicy.DROP_QUERY))
                        .get("occurred_at")
                        .asText())
                .isEqualTo("1999-12-31T23:59:59.000000Z");
    }

    @Test
    void line_hostileText_escapedSoTheLineIsOneLineOfValidUtf8Json() throws Exception {
        String controls = "a\u0001b\u001b[31mred\nnext\rline\tTab\bback\fform\u007fdel";
        String quotes = "say \"hi\" \\ back\\slash";
        String separators = "js\u2028line\u2029para";
        String loneSurrogates = "high\uD83Dalone low\uDE00alone end\uD800";
        String pair = "emoji \uD83D\uDE00 and é ü 中";
        String brokenUtf8 =
                new String(new byte[] {'x', (byte) 0xC3, (byte) 0x28, (byte) 0xFF, 'y'}, StandardCharsets.UTF_8);
        AuditEvent e = AuditEvent.builder(AuditKind.AUTHZ_DECISION)
                .occurredAt(AT)
                .requestId(controls)
                .tenant(quotes)
                .subject(separators)
                .clientId(loneSurrogates)
                .route(pair)
                .authority(brokenUtf8)
                .path("/v1/a\u0000b?token=secret")
                .reason("x\ny")
                .detail("note", "multi\nline \uDC00 \u2028")
                .build();

        byte[] line = encode(e, PathPolicy.DROP_QUERY);

        assertThat(line[line.length - 1]).isEqualTo((byte) '\n');
        for (int i = 0; i < line.length - 1; i++) {
            assertThat(line[i] & 0xff)
                    .as("byte %d", i)
                    .isGreaterThanOrEqualTo(0x20)
                    .isNotEqualTo(0x7f);
        }
        strictUtf8(line);
        JsonNode parsed = JSON.readTree(line);
        assertThat(parsed.get("request_id").asText()).isEqualTo(controls);
        assertThat(parsed.get("tenant").asText()).isEqualTo(quotes);
        assertThat(parsed.get("subject").asText()).isEqualTo(separators);
        assertThat(parsed.get("client_id").asText()).isEqualTo(loneSurrogates);
        assertThat(parsed.get("route").asText()).isEqualTo(pair);
        assertThat(parsed.get("authority").asText()).isEqualTo(brokenUtf8).contains("\uFFFD");
        assertThat(parsed.get("path").asText()).isEqualTo("/v1/a\uFFFDb");
        assertThat(parsed.get("reason").asText()).isEqualTo("x\ny");
        assertThat(parsed.get("details").get("note").asText()).isEqualTo("multi\nline \uDC00 \u2028");
    }

    @Test
    void line_path_followsTheDatabaseWritersQueryStringRule() throws Exception {
        AuditEvent call = AuditEvent.builder(AuditKind.API_CALL)
                .occurredAt(AT)
                .path("/v1/search?q=iban#frag")
                .build();
        AuditEvent stream = call.toBuilder().stream(true).build();

        assertThat(JSON.readTree(encode(call, PathPolicy.DROP_QUERY))
                        .get("path")
                        .asText())
                .isEqualTo("/v1/search");
        assertThat(JSON.readTree(encode(call, new PathPolicy(true))).get("path").asText())
                .isEqualTo("/v1/search?q=iban#frag");
        assertThat(JSON.readTree(encode(stream, new PathPolicy(true)))
                        .get("path")
                        .asText())
                .isEqualTo("/v1/search");
    }

    @Test
    void append_manyEvents_oneLineEachInOneBufferThatGrows() throws Exception {
        DecisionLogEncoder encoder = new DecisionLogEncoder(Map.of(), PathPolicy.DROP_QUERY, 64);
        for (int i = 0; i < 500; i++) {
            encoder.append(TestEvents.numbered(i, AT));
        }

        List<String> lines = new String(encoder.bytes(), 0, encoder.size(), StandardCharsets.UTF_8)
                .lines()
                .toList();
        assertThat(lines).hasSize(500);
        for (int i = 0; i < 500; i++) {
            JsonNode n = JSON.readTree(lines.get(i));
            assertThat(n.get("request_id").asText()).isEqualTo("req-" + i);
            assertThat(n.get("details").get("i").asInt()).isEqualTo(i);
            assertThat(n.has("labels")).isFalse();
        }
        encoder.reset();
        assertThat(encoder.size()).isZero();
    }

    @Test
    void append_lineLargerThanTheBuffer_writtenWhole_bufferGivenBackAfterwards() throws Exception {
        DecisionLogEncoder encoder = new DecisionLogEncoder(Map.of(), PathPolicy.DROP_QUERY, 4096);
        String big = "\u00e9\"x".repeat(100_000);
        encoder.append(AuditEvent.builder(AuditKind.CONFIG_CHANGE)
                .occurredAt(AT)
                .detail("text", big)
                .build());

        JsonNode n = JSON.readTree(new String(encoder.bytes(), 0, encoder.size(), StandardCharsets.UTF_8));
        assertThat(n.get("details").get("text").asText()).isEqualTo(big);
        encoder.reset();
        encoder.shrinkTo(8192);
        assertThat(encoder.bytes()).hasSize(8192);
    }

    private static void strictUtf8(byte[] bytes) throws CharacterCodingException {
        StandardCharsets.UTF_8
                .newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT)
                .decode(ByteBuffer.wrap(bytes));
    }
}
