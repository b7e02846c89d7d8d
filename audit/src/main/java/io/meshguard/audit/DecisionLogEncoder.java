package io.meshguard.audit;

import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.util.Arrays;
import java.util.Map;
import java.util.UUID;

/**
 * Encodes audit events as decision log lines: one JSON object per line, UTF-8, the event's fields at the top level
 * under the names of the {@code audit_event} columns (the names {@code meshguard audit query} prints), so a line on
 * stdout and a row in PostgreSQL mean the same thing. The shape follows OPA's decision log events
 * (https://www.openpolicyagent.org/docs/management-decision-logs: {@code decision_id}, {@code timestamp},
 * {@code labels}, input, result); here {@code event_id} is the decision id, {@code occurred_at} the timestamp and the
 * request and outcome are flat fields.
 *
 * <p>Written into one reused, growing byte buffer by hand: no intermediate strings, no tree, nothing per event
 * beyond the bytes themselves. Absent optional fields are left out. Strings are escaped as RFC 8259 requires, plus
 * DEL, U+2028 and U+2029 (JavaScript-based readers), and lone surrogates (text that was never valid UTF-16 cannot be
 * written as UTF-8) become {@code \\uXXXX} escapes, so every line is valid UTF-8 and valid JSON. Not thread-safe:
 * one per writer thread.
 */
final class DecisionLogEncoder {
    /** The value of {@code type}: tells a decision log line from any other line on the same stream. */
    static final String TYPE = "meshguard/decision_log";

    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] PREFIX =
            ("{\"type\":\"" + TYPE + "\",\"event_id\":\"").getBytes(StandardCharsets.US_ASCII);

    private final byte[] labels;
    private final PathPolicy paths;
    private byte[] buf;
    private int size;

    private long cachedDay = Long.MIN_VALUE;
    private final byte[] cachedDate = new byte[10];
    private final byte[] digits = new byte[20];

    /**
     * @param labels what every line carries under {@code labels} (service, instance); written once here
     * @param paths  the query-string rule the database writer applies, so both records hold the same path
     * @param initialBytes starting buffer size; it grows for a batch that needs more
     */
    DecisionLogEncoder(Map<String, String> labels, PathPolicy paths, int initialBytes) {
        this.paths = paths;
        this.buf = new byte[Math.max(initialBytes, 1024)];
        this.labels = labelBytes(labels);
    }

    private byte[] labelBytes(Map<String, String> labels) {
        if (labels.isEmpty()) {
            return new byte[0];
        }
        int mark = size;
        ascii(",\"labels\":{");
        boolean first = true;
        for (Map.Entry<String, String> e : labels.entrySet()) {
            if (!first) {
                put((byte) ',');
            }
            first = false;
            string(e.getKey());
            put((byte) ':');
            string(e.getValue());
        }
        put((byte) '}');
        byte[] out = Arrays.copyOfRange(buf, mark, size);
        size = mark;
        return out;
    }

    /** Appends one line (newline included) for {@code e}. */
    void append(AuditEvent e) {
        put(PREFIX);
        uuid(e.eventId());
        ascii("\",\"occurred_at\":\"");
        timestamp(e.occurredAt().getEpochSecond(), e.occurredAt().getNano());
        put((byte) '"');
        put(labels);
        ascii(",\"kind\":");
        string(e.kind().dbName());
        optional(",\"request_id\":", e.requestId().orElse(null));
        optional(",\"trace_id\":", e.traceId().orElse(null));
        optional(",\"tenant\":", e.tenant().orElse(null));
        optional(",\"subject\":", e.subject().orElse(null));
        optional(",\"client_id\":", e.clientId().orElse(null));
        optional(",\"source\":", e.source().orElse(null));
        optional(",\"caller_type\":", e.callerType().orElse(null));
        optional(",\"method\":", e.method().orElse(null));
        optional(",\"authority\":", e.authority().orElse(null));
        if (e.path().isPresent()) {
            ascii(",\"path\":");
            string(paths.apply(e.path().get(), e.isStream()));
        }
        optional(",\"route\":", e.route().orElse(null));
        if (e.status().isPresent()) {
            ascii(",\"status\":");
            number(e.status().getAsInt());
        }
        optional(",\"decision\":", e.decision().orElse(null));
        optional(",\"reason\":", e.reason().orElse(null));
        if (e.latencyUs().isPresent()) {
            ascii(",\"latency_us\":");
            number(e.latencyUs().getAsLong());
        }
        if (e.requestBytes().isPresent()) {
            ascii(",\"request_bytes\":");
            number(e.requestBytes().getAsLong());
        }
        if (e.responseBytes().isPresent()) {
            ascii(",\"response_bytes\":");
            number(e.responseBytes().getAsLong());
        }
        ascii(e.isStream() ? ",\"is_stream\":true" : ",\"is_stream\":false");
        ascii(",\"details\":");
        rawJson(e.detailsJson());
        put((byte) '}');
        put((byte) '\n');
    }

    /** The encoded bytes; valid up to {@link #size()}. */
    byte[] bytes() {
        return buf;
    }

    int size() {
        return size;
    }

    /** Forgets the contents, keeping the buffer. */
    void reset() {
        size = 0;
    }

    /** Gives back a buffer that one very large line grew beyond {@code max} bytes (call when empty). */
    void shrinkTo(int max) {
        if (buf.length > max && size <= max) {
            buf = Arrays.copyOf(buf, max);
        }
    }

    /** Drops everything from {@code mark} on (a line that could not be finished). */
    void truncate(int mark) {
        size = mark;
    }

    // ------------------------------------------------------------------ pieces

    private void optional(String keyAndColon, String value) {
        if (value != null) {
            ascii(keyAndColon);
            string(value);
        }
    }

    private void uuid(UUID id) {
        long hi = id.getMostSignificantBits();
        long lo = id.getLeastSignificantBits();
        hex(hi >>> 32, 8);
        put((byte) '-');
        hex(hi >>> 16, 4);
        put((byte) '-');
        hex(hi, 4);
        put((byte) '-');
        hex(lo >>> 48, 4);
        put((byte) '-');
        hex(lo, 12);
    }

    private void hex(long value, int nibbles) {
        ensure(nibbles);
        for (int i = nibbles - 1; i >= 0; i--) {
            buf[size + i] = HEX[(int) (value & 0xf)];
            value >>>= 4;
        }
        size += nibbles;
    }

    /** RFC 3339 UTC with microseconds: {@code 2026-11-22T10:00:00.123456Z} (the database keeps microseconds). */
    private void timestamp(long epochSecond, int nano) {
        long day = Math.floorDiv(epochSecond, 86_400);
        int secondOfDay = (int) Math.floorMod(epochSecond, 86_400);
        if (day != cachedDay) {
            byte[] date = LocalDate.ofEpochDay(day).toString().getBytes(StandardCharsets.US_ASCII);
            if (date.length != 10) {
                // Years beyond 9999 or before 0000: rare enough to spell out in full every time.
                ascii(LocalDate.ofEpochDay(day).toString());
                time(secondOfDay, nano);
                return;
            }
            System.arraycopy(date, 0, cachedDate, 0, 10);
            cachedDay = day;
        }
        put(cachedDate);
        time(secondOfDay, nano);
    }

    private void time(int secondOfDay, int nano) {
        ensure(17);
        buf[size++] = 'T';
        twoDigits(secondOfDay / 3600);
        buf[size++] = ':';
        twoDigits(secondOfDay / 60 % 60);
        buf[size++] = ':';
        twoDigits(secondOfDay % 60);
        buf[size++] = '.';
        int micros = nano / 1000;
        for (int i = 5; i >= 0; i--) {
            buf[size + i] = (byte) ('0' + micros % 10);
            micros /= 10;
        }
        size += 6;
        buf[size++] = 'Z';
    }

    private void twoDigits(int v) {
        buf[size++] = (byte) ('0' + v / 10);
        buf[size++] = (byte) ('0' + v % 10);
    }

    private void number(long v) {
        if (v == Long.MIN_VALUE) {
            ascii(Long.toString(v));
            return;
        }
        if (v < 0) {
            put((byte) '-');
            v = -v;
        }
        int n = 0;
        do {
            digits[n++] = (byte) ('0' + v % 10);
            v /= 10;
        } while (v != 0);
        ensure(n);
        while (n > 0) {
            buf[size++] = digits[--n];
        }
    }

    private void ascii(String s) {
        int n = s.length();
        ensure(n);
        for (int i = 0; i < n; i++) {
            buf[size++] = (byte) s.charAt(i);
        }
    }

    /** A quoted, escaped JSON string. */
    private void string(String s) {
        int n = s.length();
        ensure(n * 6 + 2); // worst case: every char a six-byte escape
        buf[size++] = '"';
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c >= 0x20 && c < 0x7f) {
                if (c == '"' || c == '\\') {
                    buf[size++] = '\\';
                }
                buf[size++] = (byte) c;
            } else if (c < 0x20 || c == 0x7f) {
                switch (c) {
                    case '\n' -> escape('n');
                    case '\r' -> escape('r');
                    case '\t' -> escape('t');
                    case '\b' -> escape('b');
                    case '\f' -> escape('f');
                    default -> unicodeEscape(c);
                }
            } else if (c == '\u2028' || c == '\u2029') {
                unicodeEscape(c);
            } else {
                i = utf8(s, i, c, n);
            }
        }
        buf[size++] = '"';
    }

    /**
     * A details object produced by {@link AuditEvent} (Jackson, compact): copied as it is, except that raw line
     * breaks, which compact JSON can hold only as whitespace between tokens, become spaces (a line must stay one
     * line), and lone surrogates, which can stand only inside strings, become escapes.
     */
    private void rawJson(String json) {
        int n = json.length();
        ensure(n * 6);
        for (int i = 0; i < n; i++) {
            char c = json.charAt(i);
            if (c < 0x80) {
                buf[size++] = (byte) (c == '\n' || c == '\r' ? ' ' : c);
            } else {
                i = utf8(json, i, c, n);
            }
        }
    }

    /** Writes the non-ASCII char at {@code i} (and its low surrogate); returns the index of the last char used. */
    private int utf8(String s, int i, char c, int n) {
        if (c < 0x800) {
            buf[size++] = (byte) (0xc0 | (c >> 6));
            buf[size++] = (byte) (0x80 | (c & 0x3f));
        } else if (!Character.isSurrogate(c)) {
            buf[size++] = (byte) (0xe0 | (c >> 12));
            buf[size++] = (byte) (0x80 | ((c >> 6) & 0x3f));
            buf[size++] = (byte) (0x80 | (c & 0x3f));
        } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
            int cp = Character.toCodePoint(c, s.charAt(++i));
            buf[size++] = (byte) (0xf0 | (cp >> 18));
            buf[size++] = (byte) (0x80 | ((cp >> 12) & 0x3f));
            buf[size++] = (byte) (0x80 | ((cp >> 6) & 0x3f));
            buf[size++] = (byte) (0x80 | (cp & 0x3f));
        } else {
            unicodeEscape(c);
        }
        return i;
    }

    private void escape(char c) {
        buf[size++] = '\\';
        buf[size++] = (byte) c;
    }

    private void unicodeEscape(char c) {
        buf[size++] = '\\';
        buf[size++] = 'u';
        buf[size++] = HEX[(c >> 12) & 0xf];
        buf[size++] = HEX[(c >> 8) & 0xf];
        buf[size++] = HEX[(c >> 4) & 0xf];
        buf[size++] = HEX[c & 0xf];
    }

    private void put(byte b) {
        ensure(1);
        buf[size++] = b;
    }

    private void put(byte[] bytes) {
        ensure(bytes.length);
        System.arraycopy(bytes, 0, buf, size, bytes.length);
        size += bytes.length;
    }

    private void ensure(int more) {
        if (size + more > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, size + more));
        }
    }
}
