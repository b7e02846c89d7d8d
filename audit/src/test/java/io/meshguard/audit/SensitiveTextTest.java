package io.meshguard.audit;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.audit.query.AuditFormats;
import io.meshguard.runtime.logging.SensitiveText;
import java.io.StringWriter;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Card numbers and national ids never reach the audit trail: DLP scans bodies, but paths, query strings,
 * headers and claims reach the audit columns without passing it. One masking step when the event is built covers
 * every column, every details string, and so every sink (PostgreSQL rows, spool, decision log, exports).
 */
class SensitiveTextTest {
    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "/cards/4532015112830366                | /cards/************0366",
                "/cards/4532-0151-1283-0366/charge      | /cards/****-****-****-0366/charge",
                "/cards/4532-0151-1283-0366-e54d1ebe29  | /cards/****-****-****-0366-e54d1ebe29",
                "ea4532015112830366b1c2d3e4f5a6b7c      | ea************0366b1c2d3e4f5a6b7c", // 33 hex: not a trace id
                "0af7651916cd43dd8448eb2a45320151-12830366abcdef01 | 0af7651916cd43dd8448eb2a********-****0366abcdef01",
                "/cards/4532 0151 1283 0366             | /cards/**** **** **** 0366",
                "/cards/4532%200151%201283%200366       | /cards/****%20****%20****%200366",
                "/cards/4532%2D0151%2d1283%2D0366       | /cards/****%2D****%2d****%2D0366",
                "/pay?pan=5105105105105100&x=1          | /pay?pan=************5100&x=1",
                "/pay?pan=4532.0151.1283.0366           | /pay?pan=****.****.****.0366",
                "/amex/378282246310005                  | /amex/***********0005",
                "/r/6011000990139424124                 | /r/***************4124",
                "/kr/900101-1234567                     | /kr/******-*******",
                "/kr/9001011234567                      | /kr/*************",
                "/kr/900101-5234560                     | /kr/******-*******",
            })
    void panAndNationalId_areMasked_inEverySpelling(String in, String masked) {
        assertThat(SensitiveText.mask(in.strip())).isEqualTo(masked.strip());
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "/cards/4532015112830367", // Luhn fails
                "/ids/45320151128303660000", // more than 19 digits: not a PAN
                "/v1/orders/123456789012", // 12 digits
                "/trace/0af7651916cd43dd8448eb211c80319c", // hex trace id
                "/u/123e4567-e89b-12d3-a456-426614174000", // UUID
                // a request id whose groups 45391-7036-4478-8318 make a Luhn-valid 17-digit run: it was masked, and the
                // request's rows no longer joined on it (GatewayJourneysTest's rare missing rows)
                "48c45391-7036-4478-8318-e54d1ebe2910",
                "/u/48C45391-7036-4478-8318-E54D1EBE2910/x",
                // trace ids: a Luhn-valid 16-digit run between letters, in a bare id and across a traceparent's hyphen
                "ea4532015112830366b1c2d3e4f5a6b7",
                "trace_id=ea4532015112830366b1c2d3e4f5a6b7&x=1",
                "00-0af7651916cd43dd8448eb2a45320151-12830366abcdef01-01",
                "/kr/901301-1234567", // month 13: not a registration number (Luhn fails too)
                "/kr/900101-9234567", // gender digit 9
            })
    void otherNumbers_areLeftAlone(String in) {
        assertThat(SensitiveText.mask(in.strip())).isEqualTo(in.strip());
    }

    @org.junit.jupiter.api.Test
    void textWithFewDigits_isReturnedAsTheSameInstance() {
        String path = "/v1/chat/completions?stream=true&n=2";
        assertThat(SensitiveText.mask(path)).isSameAs(path);
    }

    @Test
    void everyTextColumn_andEveryDetailsString_isMaskedWhenTheEventIsBuilt() {
        String pan = "4532015112830366";
        AuditEvent e = AuditEvent.builder(AuditKind.AUTHZ_DECISION)
                .path("/cards/" + pan + "?cvv=1")
                .route("/cards/" + pan)
                .subject("user-" + pan)
                .clientId(pan)
                .tenant(pan)
                .authority("h" + pan)
                .reason("bad " + pan)
                .requestId(pan)
                .source(pan.substring(0, 13 + 1))
                .callerType("x")
                .method("GET")
                .detail("header_x_card", pan)
                .detail("query", Map.of("pan", pan))
                .detail("list", List.of(pan))
                .detail(pan, "as a key")
                .build();
        String all = String.join(
                "|",
                e.path().orElseThrow(),
                e.route().orElseThrow(),
                e.subject().orElseThrow(),
                e.clientId().orElseThrow(),
                e.tenant().orElseThrow(),
                e.authority().orElseThrow(),
                e.reason().orElseThrow(),
                e.requestId().orElseThrow(),
                e.detailsJson());
        assertThat(all).doesNotContain(pan).doesNotContain("453201511283").contains("************0366");
    }

    @Test
    void panCutAtTheColumnWidth_isMaskedBeforeTheCut() {
        String path = "/" + "a".repeat(AuditEvent.PATH_MAX - 12) + "4532015112830366";
        AuditEvent e = AuditEvent.builder(AuditKind.API_CALL).path(path).build();
        assertThat(e.path().orElseThrow()).doesNotContain("45320151").endsWith("***********");
    }

    @Test
    void csvExport_ofAMaskedRow_holdsNoPan() throws Exception {
        StringWriter out = new StringWriter();
        AuditFormats.writeCsvRow(
                AuditEvent.builder(AuditKind.API_CALL)
                        .path("/cards/4532015112830366")
                        .build(),
                out);
        assertThat(out.toString()).doesNotContain("4532015112830366").contains("/cards/************0366");
    }
}
