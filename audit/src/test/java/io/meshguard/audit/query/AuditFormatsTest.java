package io.meshguard.audit.query;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshguard.audit.AuditEvent;
import io.meshguard.audit.AuditKind;
import java.io.StringWriter;
import java.time.Clock;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

class AuditFormatsTest {
    private static final Instant AT = Instant.parse("2026-11-21T10:00:00Z");

    private static AuditEvent event() {
        return AuditEvent.builder(AuditKind.AUTHZ_DECISION)
                .occurredAt(AT)
                .tenant("acme")
                .subject("alice")
                .method("GET")
                .path("=HYPERLINK(\"http://evil\")")
                .status(403)
                .decision("deny")
                .reason("missing_scope")
                .requestId("r-1")
                .detail("note", "a,b")
                .build();
    }

    @Test
    void json_usesColumnNames_andNullForAbsentValues() throws Exception {
        StringWriter out = new StringWriter();
        AuditFormats.writeJsonLine(event(), out);
        JsonNode o = new ObjectMapper().readTree(out.toString());
        assertThat(o.get("kind").asText()).isEqualTo("authz_decision");
        assertThat(o.get("status").asInt()).isEqualTo(403);
        assertThat(o.get("latency_us").isNull()).isTrue();
        assertThat(o.get("details").get("note").asText()).isEqualTo("a,b");
        assertThat(out.toString()).endsWith("\n").doesNotContain("\n{");
    }

    @Test
    void csv_quotesCommasAndNeutralizesFormulas() throws Exception {
        StringWriter out = new StringWriter();
        AuditFormats.writeCsvHeader(out);
        AuditFormats.writeCsvRow(event(), out);
        String[] lines = out.toString().split("\r\n");
        assertThat(lines[0]).startsWith("event_id,occurred_at,kind,");
        assertThat(lines[1]).contains(",\"'=HYPERLINK(\"\"http://evil\"\")\",");
        assertThat(lines[1]).endsWith(",\"{\"\"note\"\":\"\"a,b\"\"}\"");
        assertThat(AuditFormats.csvText("plain")).isEqualTo("\"plain\"");
        assertThat(AuditFormats.csvText("-1")).isEqualTo("\"'-1\"");
    }

    @Test
    void csv_quotesEveryTextCell_numbersAndBooleansBare() throws Exception {
        StringWriter out = new StringWriter();
        AuditFormats.writeCsvRow(
                AuditEvent.builder(AuditKind.API_CALL)
                        .occurredAt(AT)
                        .tenant("acme")
                        .method("GET")
                        .path("/plain")
                        .status(200)
                        .latencyUs(12)
                        .build(),
                out);
        String row = out.toString().strip();
        assertThat(row)
                .contains(",\"acme\",")
                .contains(",\"GET\",")
                .contains(",\"/plain\",")
                .contains(",200,")
                .contains(",12,")
                .contains(",false,");
        assertThat(row).doesNotContain(",acme,").doesNotContain(",GET,");
    }

    @Test
    void csv_neutralisesFormulas_afterEverySeparatorASpreadsheetMaySplitOn() {
        for (String sep : List.of(";", "\t", ",", "|", "\n", "\r", "; ", ",  ")) {
            for (String trigger : List.of("=", "+", "-", "@")) {
                String cell = AuditFormats.csvText("/a" + sep + trigger + "HYPERLINK(1)");
                assertThat(cell)
                        .as("separator %s trigger %s", sep.replace("\t", "TAB"), trigger)
                        .contains(sep + "'" + trigger + "HYPERLINK");
            }
        }
        // first character, and first after leading spaces
        assertThat(AuditFormats.csvText("=1+2")).isEqualTo("\"'=1+2\"");
        assertThat(AuditFormats.csvText("  @SUM(A1)")).isEqualTo("\"  '@SUM(A1)\"");
        assertThat(AuditFormats.csvText("\t=1")).startsWith("\"'\t'=1");
        // no trigger after a separator: unchanged apart from quoting
        assertThat(AuditFormats.csvText("/v1/a-b;c=d")).isEqualTo("\"/v1/a-b;c=d\"");
    }

    @Test
    void table_listsEventsWithHeaderAndCount_withoutControlCharacters() throws Exception {
        StringWriter out = new StringWriter();
        AuditEvent sneaky = AuditEvent.builder(AuditKind.API_CALL)
                .occurredAt(AT)
                .path("/a\u001b[2J")
                .build();
        AuditFormats.writeTable(List.of(event(), sneaky), out);
        String text = out.toString();
        assertThat(text.lines().findFirst().orElseThrow())
                .startsWith("OCCURRED_AT")
                .contains("REQUEST_ID");
        assertThat(text)
                .contains("acme")
                .contains("deny")
                .contains("(2 events)")
                .doesNotContain("\u001b");
    }

    @Test
    void jsonArray_ofNothing_isAnEmptyArray() throws Exception {
        StringWriter out = new StringWriter();
        AuditFormats.writeJsonArray(List.of(), out);
        assertThat(out.toString()).isEqualTo("[]\n");
    }

    @Test
    void timeArguments_acceptDurationsAgoIsoTimesAndDates() {
        Clock clock = Clock.fixed(AT, ZoneOffset.UTC);
        assertThat(TimeArguments.pointInTime("1h", clock)).isEqualTo(AT.minusSeconds(3600));
        assertThat(TimeArguments.pointInTime("15m", clock)).isEqualTo(AT.minusSeconds(900));
        assertThat(TimeArguments.pointInTime("2d", clock)).isEqualTo(AT.minusSeconds(2 * 86400));
        assertThat(TimeArguments.pointInTime("2026-11-20T08:00:00+01:00", clock))
                .isEqualTo(Instant.parse("2026-11-20T07:00:00Z"));
        assertThat(TimeArguments.pointInTime("2026-11-01", clock)).isEqualTo(Instant.parse("2026-11-01T00:00:00Z"));
        assertThat(TimeArguments.month("2026-11")).isEqualTo(YearMonth.of(2026, 11));
    }

    @Test
    void timeArguments_garbage_isRejectedWithTheAcceptedForms() {
        Clock clock = Clock.fixed(AT, ZoneOffset.UTC);
        assertThatThrownBy(() -> TimeArguments.pointInTime("yesterday", clock)).hasMessageContaining("1h");
        assertThatThrownBy(() -> TimeArguments.month("2026-13")).hasMessageContaining("YYYY-MM");
    }

    @Test
    void query_untilBeforeSince_isRejected() {
        assertThatThrownBy(() -> AuditQuery.since(AT).withUntil(AT.minusSeconds(1)))
                .hasMessageContaining("must be after");
    }
}
