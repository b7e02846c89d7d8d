package io.meshguard.runtime.logging;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.encoder.EncoderBase;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.slf4j.event.KeyValuePair;

/**
 * Logback encoder writing one flat JSON object per line:
 * {@code {"time":"2026-11-21T10:00:00.123Z","level":"INFO","logger":"…","thread":"…","message":"…",
 * "request_id":"…","trace_id":"…","exception":"…"}}.
 *
 * <p>MDC entries and SLF4J key/value pairs go at the top level (log pipelines filter on
 * {@code request_id} without digging into a nested object, which is why Logback's own {@code JsonEncoder}
 * is not used). An MDC key that clashes with a fixed field is written as {@code mdc_<key>}.
 */
public final class JsonLineEncoder extends EncoderBase<ILoggingEvent> {
    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);
    private static final Set<String> FIXED = Set.of("time", "level", "logger", "thread", "message", "exception");

    @Override
    public byte[] headerBytes() {
        return null;
    }

    @Override
    public byte[] footerBytes() {
        return null;
    }

    @Override
    public byte[] encode(ILoggingEvent event) {
        return toJson(event).getBytes(StandardCharsets.UTF_8);
    }

    /** The JSON line for {@code event}, newline included. */
    String toJson(ILoggingEvent event) {
        StringBuilder out = new StringBuilder(256);
        out.append("{\"time\":\"").append(TIME.format(event.getInstant())).append('"');
        out.append(",\"level\":\"").append(event.getLevel()).append('"');
        field(out, "logger", event.getLoggerName());
        field(out, "thread", threadName(event));
        field(out, "message", event.getFormattedMessage());
        Map<String, String> mdc = event.getMDCPropertyMap();
        if (mdc != null && !mdc.isEmpty()) {
            for (Map.Entry<String, String> entry : new TreeMap<>(mdc).entrySet()) {
                field(out, FIXED.contains(entry.getKey()) ? "mdc_" + entry.getKey() : entry.getKey(), entry.getValue());
            }
        }
        if (event.getKeyValuePairs() != null) {
            for (KeyValuePair pair : event.getKeyValuePairs()) {
                String key = FIXED.contains(pair.key) ? "kv_" + pair.key : pair.key;
                out.append(',');
                JsonText.appendString(out, key);
                out.append(':');
                appendValue(out, pair.value);
            }
        }
        IThrowableProxy thrown = event.getThrowableProxy();
        if (thrown != null) {
            field(out, "exception", ThrowableProxyUtil.asString(thrown));
        }
        return out.append("}\n").toString();
    }

    private static String threadName(ILoggingEvent event) {
        String name = event.getThreadName();
        // Virtual threads are usually unnamed; an empty name says nothing in a log line.
        return name == null || name.isEmpty() ? "virtual" : name;
    }

    private static void field(StringBuilder out, String key, String value) {
        out.append(',');
        JsonText.appendString(out, key);
        out.append(':');
        if (value == null) {
            out.append("null");
        } else {
            JsonText.appendString(out, value);
        }
    }

    private static void appendValue(StringBuilder out, Object value) {
        if (value == null) {
            out.append("null");
        } else if (value instanceof Boolean
                || value instanceof Integer
                || value instanceof Long
                || value instanceof Short
                || value instanceof Byte) {
            out.append(value);
        } else if (value instanceof Double d && Double.isFinite(d) || value instanceof Float f && Float.isFinite(f)) {
            out.append(value);
        } else {
            JsonText.appendString(out, String.valueOf(value));
        }
    }
}
