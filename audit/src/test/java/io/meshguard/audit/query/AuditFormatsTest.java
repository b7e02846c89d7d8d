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
        return AuditEvent.builder(AuditKind.AUTHZ_DECISION).occurredAt(AT).tenant("acme").subject("alice")
                .method("GET").path("=HYPERLINK(\"http://evil\")").status(403).decision("deny")
                .reason("missing_scope").requestId("r-1").detail("note", "a,b").build();
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
        assertThat(AuditFormats.csvCell("plain", true)).isEqualTo("plain");
        assertThat(AuditFormats.csvCell("-1", true)).isEqualTo("\"'-1\"");
    }

    @Test
    void table_listsEventsWithHeaderAndCount_withoutControlCharacters() throws Exception {
        StringWriter out = new StringWriter();
        AuditEvent sneaky = AuditEvent.builder(AuditKind.API_CALL).occurredAt(AT).path("/a\u001b[2J").build();
        AuditFormats.writeTable(List.of(event(), sneaky), out);
        String text = out.toString();
        assertThat(text.lines().findFirst().orElseThrow()).startsWith("OCCURRED_AT").contains("REQUEST_ID");
        assertThat(text).contains("acme").contains("deny").contains("(2 events)").doesNotContain("\u001b");
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
