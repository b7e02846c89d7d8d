package io.meshguard.runtime.logging;

import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.encoder.EncoderBase;
import java.util.Locale;

/**
 * The encoder {@code logback.xml} uses: JSON lines ({@link JsonLineEncoder}) unless {@code format} is
 * {@code text}, then a human-readable pattern. An unknown format falls back to JSON with a Logback warning,
 * so a typo in {@code MESHGUARD_LOG_FORMAT} never silences logging.
 */
public final class LogFormatEncoder extends EncoderBase<ILoggingEvent> {
    /** Pattern of the text format; includes the request and trace ids when set. */
    public static final String TEXT_PATTERN =
            "%d{yyyy-MM-dd HH:mm:ss.SSS} %-5level [%thread] %logger{36}%replace( [req=%X{request_id}]){' \\[req=\\]', ''}"
                    + "%replace( [trace=%X{trace_id}]){' \\[trace=\\]', ''} - %msg%n%ex";

    private String format = "json";
    private Encoder<ILoggingEvent> delegate;

    /** {@code json} (default) or {@code text}, case-insensitive. */
    public void setFormat(String format) {
        this.format = format == null ? "json" : format.trim().toLowerCase(Locale.ROOT);
    }

    /** The format in effect once started. */
    public String getFormat() {
        return format;
    }

    @Override
    public void start() {
        if (format.equals("text")) {
            PatternLayoutEncoder text = new PatternLayoutEncoder();
            text.setContext(getContext());
            text.setPattern(TEXT_PATTERN);
            delegate = text;
        } else {
            if (!format.equals("json")) {
                addWarn("unknown log format '" + format + "' (expected json or text); writing JSON");
                format = "json";
            }
            JsonLineEncoder json = new JsonLineEncoder();
            json.setContext(getContext());
            delegate = json;
        }
        delegate.start();
        super.start();
    }

    @Override
    public void stop() {
        if (delegate != null) {
            delegate.stop();
        }
        super.stop();
    }

    @Override
    public byte[] headerBytes() {
        return delegate.headerBytes();
    }

    @Override
    public byte[] footerBytes() {
        return delegate.footerBytes();
    }

    @Override
    public byte[] encode(ILoggingEvent event) {
        return delegate.encode(event);
    }
}
