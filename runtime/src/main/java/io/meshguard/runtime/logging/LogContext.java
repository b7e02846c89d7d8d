package io.meshguard.runtime.logging;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.slf4j.MDC;

/**
 * Puts request-scoped keys (request id, trace id) into the SLF4J MDC for a block of code and restores what
 * was there before when closed, so every log line of a request carries them:
 *
 * <pre>{@code
 * try (LogContext ignored = LogContext.fromHeaders(name -> Optional.ofNullable(headers.get(name)))) {
 *     log.info("decision {}", decision);
 * }
 * }</pre>
 *
 * <p>Values come from clients, so they are capped at {@value #MAX_VALUE_LENGTH} characters and anything
 * outside printable ASCII is replaced by {@code ?} (a newline in a request id must not forge a log line in
 * the text format). Not thread-safe: open and close it on the same thread, as the MDC is per thread.
 */
public final class LogContext implements AutoCloseable {
    /** MDC key of the request id (Envoy's {@code x-request-id}). */
    public static final String REQUEST_ID = "request_id";
    /** MDC key of the W3C trace id. */
    public static final String TRACE_ID = "trace_id";
    /** MDC key of the id of meshguard's own span for the request (when tracing is on). */
    public static final String SPAN_ID = "span_id";
    /** Request header carrying the request id. */
    public static final String REQUEST_ID_HEADER = "x-request-id";
    /** Request header carrying the W3C trace context. */
    public static final String TRACEPARENT_HEADER = "traceparent";
    /** Longest value kept; longer ones are cut. */
    public static final int MAX_VALUE_LENGTH = 128;

    private final Map<String, String> previous;
    private boolean closed;

    private LogContext(Map<String, String> entries) {
        this.previous = new HashMap<>();
        for (Map.Entry<String, String> entry : entries.entrySet()) {
            previous.put(entry.getKey(), MDC.get(entry.getKey()));
            MDC.put(entry.getKey(), entry.getValue());
        }
    }

    /** Sets the given keys; empty values are skipped. */
    public static LogContext of(Map<String, String> entries) {
        Map<String, String> clean = new LinkedHashMap<>();
        entries.forEach((key, value) -> {
            if (value != null && !value.isEmpty()) {
                clean.put(key, sanitize(value));
            }
        });
        return new LogContext(clean);
    }

    /** Sets {@code request_id} and {@code trace_id} when present. */
    public static LogContext forRequest(Optional<String> requestId, Optional<String> traceId) {
        Map<String, String> entries = new LinkedHashMap<>();
        requestId.ifPresent(id -> entries.put(REQUEST_ID, id));
        traceId.ifPresent(id -> entries.put(TRACE_ID, id));
        return of(entries);
    }

    /**
     * Sets {@code request_id} from {@code x-request-id} and {@code trace_id} from a valid {@code traceparent},
     * looked up by lowercase header name.
     */
    public static LogContext fromHeaders(Function<String, Optional<String>> header) {
        return forRequest(
                header.apply(REQUEST_ID_HEADER),
                header.apply(TRACEPARENT_HEADER).flatMap(TraceParent::parse).map(TraceParent::traceId));
    }

    /** Restores the MDC values these keys had before. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        previous.forEach((key, value) -> {
            if (value == null) {
                MDC.remove(key);
            } else {
                MDC.put(key, value);
            }
        });
    }

    static String sanitize(String value) {
        String capped = value.length() > MAX_VALUE_LENGTH ? value.substring(0, MAX_VALUE_LENGTH) : value;
        StringBuilder out = null;
        for (int i = 0; i < capped.length(); i++) {
            char c = capped.charAt(i);
            if (c < 0x20 || c > 0x7e) {
                if (out == null) {
                    out = new StringBuilder(capped);
                }
                out.setCharAt(i, '?');
            }
        }
        return out == null ? capped : out.toString();
    }
}
