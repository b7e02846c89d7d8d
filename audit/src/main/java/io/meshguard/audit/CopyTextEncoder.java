package io.meshguard.audit;

import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;

/**
 * Encodes events as rows of PostgreSQL's COPY text format (tab-separated, {@code \N} for NULL, backslash escapes)
 * straight into UTF-8 bytes. Written by hand because it is the writer's hottest loop: no intermediate strings for
 * ids, timestamps or numbers.
 *
 * <p>The database writer streams a batch through one buffer of {@link #CHUNK_BYTES} that it keeps for its lifetime
 * ({@link #stream}): a batch of 1,000 decisions is ~1 MB of text, and building it as one array (grown by doubling,
 * then copied to its length) allocated several such arrays per batch, each above G1's humongous-object threshold
 * (half a region: 512 KB at the pod's heap), which went straight to the old generation and drove concurrent cycles.
 */
public final class CopyTextEncoder {
    /** Bytes handed to the sink at a time; well below G1's humongous threshold at any heap size. */
    static final int CHUNK_BYTES = 64 * 1024;

    private static final byte[] HEX = "0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private byte[] buf;
    private int len;
    private Sink sink;

    /** Where full chunks of COPY text go (pgjdbc's {@code CopyIn.writeToCopy} in the store). */
    @FunctionalInterface
    interface Sink {
        void write(byte[] bytes, int offset, int length) throws java.sql.SQLException;
    }

    /** Thrown through the encoder's private methods to carry the sink's failure out of {@link #stream}. */
    private static final class SinkFailure extends RuntimeException {
        private static final long serialVersionUID = 1L;

        SinkFailure(java.sql.SQLException cause) {
            super(cause);
        }
    }

    private CopyTextEncoder(int capacity) {
        buf = new byte[capacity];
    }

    /** An encoder for {@link #stream}, its buffer allocated once. */
    static CopyTextEncoder streaming() {
        return new CopyTextEncoder(CHUNK_BYTES);
    }

    /** The COPY text of {@code batch}, one line per event, columns in {@link PostgresAuditStore#COLUMNS} order. */
    public static byte[] encode(List<AuditEvent> batch) {
        CopyTextEncoder out = new CopyTextEncoder(Math.max(256, batch.size() * 400));
        for (AuditEvent e : batch) {
            out.row(e);
        }
        return Arrays.copyOf(out.buf, out.len);
    }

    /**
     * Writes the COPY text of {@code batch} to {@code to} in chunks of at most {@link #CHUNK_BYTES} (more only for
     * one value longer than that), the same bytes as {@link #encode}.
     */
    void stream(List<AuditEvent> batch, Sink to) throws java.sql.SQLException {
        sink = to;
        len = 0;
        try {
            for (AuditEvent e : batch) {
                row(e);
            }
            flush();
        } catch (SinkFailure f) {
            throw (java.sql.SQLException) f.getCause();
        } finally {
            sink = null;
            len = 0;
            if (buf.length > CHUNK_BYTES) {
                buf = new byte[CHUNK_BYTES]; // an outsized value does not keep its buffer alive
            }
        }
    }

    private void flush() {
        if (len == 0) {
            return;
        }
        try {
            sink.write(buf, 0, len);
        } catch (java.sql.SQLException e) {
            throw new SinkFailure(e);
        }
        len = 0;
    }

    private void row(AuditEvent e) {
        uuid(e.eventId());
        tab();
        timestamp(e);
        tab();
        text(e.kind().dbName());
        tab();
        text(e.requestId().orElse(null));
        tab();
        text(e.traceId().orElse(null));
        tab();
        text(e.tenant().orElse(null));
        tab();
        text(e.subject().orElse(null));
        tab();
        text(e.clientId().orElse(null));
        tab();
        text(e.source().orElse(null));
        tab();
        text(e.callerType().orElse(null));
        tab();
        text(e.method().orElse(null));
        tab();
        text(e.authority().orElse(null));
        tab();
        text(e.path().orElse(null));
        tab();
        text(e.route().orElse(null));
        tab();
        if (e.status().isPresent()) {
            number(e.status().getAsInt());
        } else {
            nul();
        }
        tab();
        text(e.decision().orElse(null));
        tab();
        text(e.reason().orElse(null));
        tab();
        optionalNumber(e.latencyUs().isPresent(), e.latencyUs().orElse(0));
        tab();
        optionalNumber(e.requestBytes().isPresent(), e.requestBytes().orElse(0));
        tab();
        optionalNumber(e.responseBytes().isPresent(), e.responseBytes().orElse(0));
        tab();
        ensure(1);
        buf[len++] = (byte) (e.isStream() ? 't' : 'f');
        tab();
        text(e.detailsJson());
        ensure(1);
        buf[len++] = '\n';
    }

    private void tab() {
        ensure(1);
        buf[len++] = '\t';
    }

    private void nul() {
        ensure(2);
        buf[len++] = '\\';
        buf[len++] = 'N';
    }

    private void optionalNumber(boolean present, long value) {
        if (present) {
            number(value);
        } else {
            nul();
        }
    }

    private void number(long value) {
        if (value < 0) {
            ensure(1);
            buf[len++] = '-';
            if (value == Long.MIN_VALUE) {
                ascii("9223372036854775808");
                return;
            }
            value = -value;
        }
        ensure(20);
        int start = len;
        do {
            buf[len++] = (byte) ('0' + (value % 10));
            value /= 10;
        } while (value != 0);
        for (int i = start, j = len - 1; i < j; i++, j--) {
            byte t = buf[i];
            buf[i] = buf[j];
            buf[j] = t;
        }
    }

    private void fixed(int value, int digits) {
        ensure(digits);
        for (int i = digits - 1; i >= 0; i--) {
            buf[len + i] = (byte) ('0' + value % 10);
            value /= 10;
        }
        len += digits;
    }

    /** {@code YYYY-MM-DD HH:MM:SS.ffffff+00}; events are already at microsecond precision. */
    private void timestamp(AuditEvent e) {
        LocalDateTime t = LocalDateTime.ofEpochSecond(
                e.occurredAt().getEpochSecond(), e.occurredAt().getNano(), ZoneOffset.UTC);
        int year = t.getYear();
        if (year < 1 || year > 9999) {
            ascii(e.occurredAt().toString()); // PostgreSQL reports the out-of-range value itself
            return;
        }
        fixed(year, 4);
        ascii("-");
        fixed(t.getMonthValue(), 2);
        ascii("-");
        fixed(t.getDayOfMonth(), 2);
        ascii(" ");
        fixed(t.getHour(), 2);
        ascii(":");
        fixed(t.getMinute(), 2);
        ascii(":");
        fixed(t.getSecond(), 2);
        ascii(".");
        fixed(t.getNano() / 1000, 6);
        ascii("+00");
    }

    private void uuid(UUID id) {
        ensure(36);
        hex(id.getMostSignificantBits() >>> 32, 8);
        buf[len++] = '-';
        hex(id.getMostSignificantBits() >>> 16, 4);
        buf[len++] = '-';
        hex(id.getMostSignificantBits(), 4);
        buf[len++] = '-';
        hex(id.getLeastSignificantBits() >>> 48, 4);
        buf[len++] = '-';
        hex(id.getLeastSignificantBits(), 12);
    }

    private void hex(long value, int digits) {
        for (int i = digits - 1; i >= 0; i--) {
            buf[len + i] = HEX[(int) (value & 0xF)];
            value >>>= 4;
        }
        len += digits;
    }

    private void ascii(String s) {
        ensure(s.length());
        for (int i = 0; i < s.length(); i++) {
            buf[len++] = (byte) s.charAt(i);
        }
    }

    /** Escaped UTF-8 text, or {@code \N} for null. */
    private void text(String s) {
        if (s == null) {
            nul();
            return;
        }
        ensure(s.length() * 3 + 2);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                switch (c) {
                    case '\\' -> {
                        buf[len++] = '\\';
                        buf[len++] = '\\';
                    }
                    case '\n' -> {
                        buf[len++] = '\\';
                        buf[len++] = 'n';
                    }
                    case '\r' -> {
                        buf[len++] = '\\';
                        buf[len++] = 'r';
                    }
                    case '\t' -> {
                        buf[len++] = '\\';
                        buf[len++] = 't';
                    }
                    default -> buf[len++] = (byte) c;
                }
            } else if (c < 0x800) {
                buf[len++] = (byte) (0xC0 | (c >> 6));
                buf[len++] = (byte) (0x80 | (c & 0x3F));
            } else if (Character.isHighSurrogate(c)
                    && i + 1 < s.length()
                    && Character.isLowSurrogate(s.charAt(i + 1))) {
                int cp = Character.toCodePoint(c, s.charAt(++i));
                ensure(4);
                buf[len++] = (byte) (0xF0 | (cp >> 18));
                buf[len++] = (byte) (0x80 | ((cp >> 12) & 0x3F));
                buf[len++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
                buf[len++] = (byte) (0x80 | (cp & 0x3F));
            } else if (Character.isSurrogate(c)) {
                buf[len++] = (byte) 0xEF; // a lone surrogate is not UTF-8: U+FFFD, as String.getBytes would
                buf[len++] = (byte) 0xBF;
                buf[len++] = (byte) 0xBD;
            } else {
                buf[len++] = (byte) (0xE0 | (c >> 12));
                buf[len++] = (byte) (0x80 | ((c >> 6) & 0x3F));
                buf[len++] = (byte) (0x80 | (c & 0x3F));
            }
        }
    }

    private void ensure(int more) {
        if (len + more > buf.length) {
            if (sink != null) {
                flush();
                if (more <= buf.length) {
                    return;
                }
            }
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + more));
        }
    }
}
