package io.meshguard.runtime.logging;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;

class LogContextTest {

    @AfterEach
    void clear() {
        MDC.clear();
    }

    @Test
    void fromHeaders_setsRequestAndTraceIdThenRemovesThem() {
        Map<String, String> headers = Map.of(
                "x-request-id", "req-1",
                "traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");

        try (LogContext ignored = LogContext.fromHeaders(name -> Optional.ofNullable(headers.get(name)))) {
            assertThat(MDC.get("request_id")).isEqualTo("req-1");
            assertThat(MDC.get("trace_id")).isEqualTo("4bf92f3577b34da6a3ce929d0e0e4736");
        }

        assertThat(MDC.get("request_id")).isNull();
        assertThat(MDC.get("trace_id")).isNull();
    }

    @Test
    void fromHeaders_invalidTraceparent_setsOnlyRequestId() {
        Map<String, String> headers = Map.of("x-request-id", "req-2", "traceparent", "nonsense");

        try (LogContext ignored = LogContext.fromHeaders(name -> Optional.ofNullable(headers.get(name)))) {
            assertThat(MDC.get("request_id")).isEqualTo("req-2");
            assertThat(MDC.get("trace_id")).isNull();
        }
    }

    @Test
    void close_restoresOuterValues() {
        try (LogContext outer = LogContext.forRequest(Optional.of("outer"), Optional.empty())) {
            try (LogContext inner = LogContext.forRequest(Optional.of("inner"), Optional.of("t"))) {
                assertThat(MDC.get("request_id")).isEqualTo("inner");
            }
            assertThat(MDC.get("request_id")).isEqualTo("outer");
            assertThat(MDC.get("trace_id")).isNull();
        }
    }

    @Test
    void clientValues_areCappedAndStrippedOfControlCharacters() {
        try (LogContext ignored =
                LogContext.forRequest(Optional.of("a\nb\u00e9" + "x".repeat(500)), Optional.empty())) {
            String value = MDC.get("request_id");
            assertThat(value).startsWith("a?b?x").hasSize(LogContext.MAX_VALUE_LENGTH);
        }
    }

    @Test
    void of_emptyValues_areSkipped() {
        try (LogContext ignored = LogContext.of(Map.of("route", "", "tenant", "acme"))) {
            assertThat(MDC.getCopyOfContextMap()).containsExactly(Map.entry("tenant", "acme"));
        }
    }
}
