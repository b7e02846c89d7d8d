package io.meshguard.dlp.detect;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;

/**
 * The private members of JSON Web Keys written as JSON anywhere in a text: a key pasted into prose, a chat message,
 * a log line, a form field or a streamed answer. From each {@code {} the text is read as JSON for as long as it stays
 * JSON; each object's members are known as they arrive, so a private member ({@link JwkMembers}) is found whatever
 * the order of the members, however its name is escaped and however it is spaced, as the JSON body pass finds it.
 *
 * <p>Streaming and chunk-invariant: bytes are read one round at a time and every decision depends on the bytes alone.
 * A value under a member that may be private ({@code d}, {@code p}, {@code k}…) waits for its object's {@code kty}:
 * it is reported when the kty makes it private, dropped when the object closes without one. Bounds, all failing
 * towards a finding: a member that has waited more than {@value #MAX_HOLD} bytes of input, or is still waiting where
 * the text stops being JSON, where nesting passes {@value #MAX_DEPTH} or where the text ends, is reported. A string
 * value that holds JSON text itself (a key quoted once more, {@code "{\"kty\":…}"}) is read as such within
 * {@value #MAX_QUOTED} bytes as written and {@value #MAX_LEVELS} levels; longer quoted text is not read for keys.
 *
 * <p>JSON written escaped in a text ({@code msg="{\"kty\":…}"}) is read by {@link JwkEscapedText} with an instance of
 * this class that it feeds unescaped and opens where this one reports an object starting with a backslash
 * ({@link Openings}).
 *
 * <p>{@link #frontier} says where a finding could still start: the first waiting member, or the string being read
 * when it may become one. Everything before passes, so JSON in prose without key material is not held back.
 */
final class JwkText {
    /** Where a private member was found: {@code [start, end)} of the text read, and its decoded value. */
    interface Sink {
        void found(long start, long end, byte[] value);
    }

    /** Told of each object whose first byte after {@code {} and white space is a backslash: escaped JSON may start. */
    interface Openings {
        void escaped(long braceAt, long backslashAt);
    }

    /** Input bytes a member may wait for its object's kty; past it, it is a private key. */
    static final int MAX_HOLD = 64 * 1024;
    /** Open objects and arrays; deeper text is no longer read as JSON (Jackson's default limit). */
    static final int MAX_DEPTH = 1000;
    /** Bytes as written of a string read as quoted JSON text. */
    static final int MAX_QUOTED = 64 * 1024;
    /** JSON text quoted in a string in JSON text … read this many levels deep (the text itself is level 1). */
    static final int MAX_LEVELS = 3;
    /** Longest kty kept; a longer one is an unknown key type. */
    private static final int MAX_KTY = 32;
    /** Longest member name kept as written (every name that matters is 4 characters, 24 bytes escaped). */
    private static final int MAX_NAME = 64;

    private static final int KEY_OR_CLOSE = 0;
    private static final int KEY = 1;
    private static final int COLON = 2;
    private static final int VALUE = 3;
    private static final int COMMA_OR_CLOSE = 4;
    private static final int VALUE_OR_CLOSE = 5;

    private static final int NONE = 0;
    private static final int STRING = 1;
    private static final int NUMBER = 2;
    private static final int LITERAL = 3;

    /** What a string is kept for. */
    private static final int KEPT_NOT = 0;

    private static final int KEPT_NAME = 1;
    private static final int KEPT_KTY = 2;
    private static final int KEPT_PRIVATE = 3;
    private static final int KEPT_QUOTED = 4;

    private record Waiting(long start, long end, long at, String member, byte[] value) {}

    private static final class Frame {
        final boolean object;
        /** Offset of its {@code {} or {@code [}. */
        final long openedAt;
        /** An object in an {@code oth} array: a multi-prime RSA key's other prime. */
        final boolean otherPrime;
        /** For an array: the member it is the value of. */
        final String label;

        int expect;
        String member = "";
        String kty;
        List<Waiting> waiting;

        Frame(boolean object, boolean otherPrime, String label, long openedAt) {
            this.object = object;
            this.openedAt = openedAt;
            this.otherPrime = otherPrime;
            this.label = label;
            this.expect = object ? KEY_OR_CLOSE : VALUE_OR_CLOSE;
        }
    }

    private final int level;
    /** Whether a {@code {} in the text starts JSON; false for escaped JSON, which {@link #open} starts. */
    private final boolean selfOpening;
    /**
     * Bytes of a closing quote as written before the offset its decoded {@code "} is fed at: 0 in JSON text, 1 for
     * {@code \"} and 3 for {@code \\\"} ({@link JwkEscapedText} feeds an escape at the offset of its last byte).
     */
    private final int quoteTail;

    private final Openings openings;
    private final Deque<Frame> stack = new ArrayDeque<>();
    private long pos;
    private int token = NONE;
    private boolean escaped;
    private int kept;
    /** For a string kept as possible quoted JSON: 0 still in leading space, 1 after a backslash there, 2 decided. */
    private int lead;

    private long stringStart;
    /** Made at the first string kept (most streams never hold a JWK member): every held stream has three of these. */
    private byte[] raw = NO_BYTES;

    private static final byte[] NO_BYTES = new byte[0];
    private int rawLen;
    private boolean rawOver;
    private int waitingCount;
    private boolean finished;

    JwkText(int level) {
        this(level, true, 0, null);
    }

    /** JSON text that tells {@code openings} where escaped JSON may start. */
    JwkText(Openings openings) {
        this(1, true, 0, openings);
    }

    private JwkText(int level, boolean selfOpening, int quoteTail, Openings openings) {
        this.level = level;
        this.selfOpening = selfOpening;
        this.quoteTail = quoteTail;
        this.openings = openings;
    }

    /**
     * JSON text escaped {@code levels} times, fed decoded by {@link JwkEscapedText}: objects start only where it
     * {@link #open opens} them, and strings in it are not read as JSON text once more.
     */
    static JwkText escaped(int levels) {
        return new JwkText(MAX_LEVELS, false, (1 << levels) - 1, null);
    }

    /** Whether no object is open: reading waits for the next {@code {} (or, escaped, the next {@link #open}). */
    boolean idle() {
        return stack.isEmpty();
    }

    /** Escaped JSON: an object opened at {@code braceAt}; reading goes on at {@code resumeAt}. */
    void open(long braceAt, long resumeAt) {
        stack.clear();
        stack.push(new Frame(true, false, "", braceAt));
        token = NONE;
        kept = KEPT_NOT;
        pos = resumeAt;
    }

    /**
     * The text stopped being JSON here without a byte that says so (escaped JSON met a quote that ends the string it
     * is written in): as at the end of the text, a key string cut off and every waiting member are keys.
     */
    void interrupt(Sink sink) {
        if (token == STRING && (kept == KEPT_PRIVATE || kept == KEPT_QUOTED)) {
            endString(pos, sink);
        }
        failClosed(sink);
    }

    /** Forgets all progress: a new text at offset 0. */
    void reset() {
        stack.clear();
        pos = 0;
        token = NONE;
        escaped = false;
        kept = KEPT_NOT;
        rawLen = 0;
        rawOver = false;
        waitingCount = 0;
        finished = false;
        if (raw.length > 4096) {
            raw = new byte[64];
        }
    }

    /** Offset of the next byte to read. */
    long position() {
        return pos;
    }

    /** Reads {@code b[from, to)}, which is the text from offset {@link #position()} on ({@code b[0]} is offset base). */
    void feed(byte[] b, int from, int to, long base, Sink sink) {
        feed(b, from, to, base, null, sink);
    }

    /**
     * {@link #feed(byte[], int, int, long, Sink)} of the window {@code starts}' bytes ({@code b} is its array,
     * {@code to} its length), whose start map the search for an object's first {@code {} uses.
     */
    void feed(byte[] b, int from, int to, long base, TextWindow starts, Sink sink) {
        if (finished) {
            return;
        }
        int i = from;
        int stop = to;
        while (i < to) {
            if (stack.isEmpty()) {
                if (!selfOpening) {
                    stop = i;
                    break;
                }
                i = starts == null
                        ? Simd.indexOf(b, i, to, (byte) '{')
                        : starts.indexOf(i, (byte) '{', StartTable.BRACES);
                if (i == to) {
                    break;
                }
                stack.push(new Frame(true, false, "", base + i));
                i++;
                continue;
            }
            if (token == STRING) {
                i = string(b, i, to, base, sink);
                continue;
            }
            int c = b[i] & 0xff;
            if (token == NUMBER) {
                if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E') {
                    i++;
                    continue;
                }
                token = NONE;
            } else if (token == LITERAL) {
                if (c >= 'a' && c <= 'z') {
                    i++;
                    continue;
                }
                token = NONE;
            }
            if (structural(c, base + i, sink)) {
                i++;
            } // else the run ended at this byte: it is looked at again as text
        }
        pos = base + stop;
        if (waitingCount > 0) {
            expire(sink);
        }
    }

    /** The text ended: a member still waiting, or a key string cut off, is a private key. */
    void finish(Sink sink) {
        if (finished) {
            return;
        }
        finished = true;
        if (token == STRING && (kept == KEPT_PRIVATE || kept == KEPT_QUOTED)) {
            endString(pos, sink); // unterminated: what arrived is judged as a whole string
        }
        failClosed(sink);
    }

    /** The smallest offset at which a finding not yet reported could start; {@code end} when none. */
    long frontier(long end) {
        long f = end;
        if (token == STRING && (kept == KEPT_PRIVATE || kept == KEPT_QUOTED)) {
            f = Math.min(f, stringStart);
        }
        if (waitingCount > 0) {
            for (Frame fr : stack) {
                if (fr.waiting != null) {
                    for (Waiting w : fr.waiting) {
                        f = Math.min(f, w.start);
                    }
                }
            }
        }
        return f;
    }

    /** One byte outside strings, numbers and literals; false when it ended the run (not consumed). */
    private boolean structural(int c, long at, Sink sink) {
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            return true;
        }
        Frame f = stack.peek();
        switch (f.expect) {
            case KEY_OR_CLOSE, KEY -> {
                if (c == '"') {
                    startString(at, KEPT_NAME);
                    f.expect = COLON;
                    return true;
                }
                if (c == '}' && f.expect == KEY_OR_CLOSE) {
                    close(at, sink);
                    return true;
                }
                if (c == '\\' && f.expect == KEY_OR_CLOSE && openings != null) {
                    openings.escaped(f.openedAt, at);
                }
            }
            case COLON -> {
                if (c == ':') {
                    f.expect = VALUE;
                    return true;
                }
            }
            case VALUE, VALUE_OR_CLOSE -> {
                if (c == ']' && f.expect == VALUE_OR_CLOSE) {
                    close(at, sink);
                    return true;
                }
                if (value(f, c, at)) {
                    return true;
                }
            }
            case COMMA_OR_CLOSE -> {
                if (c == ',') {
                    f.expect = f.object ? KEY : VALUE;
                    return true;
                }
                if (c == (f.object ? '}' : ']')) {
                    close(at, sink);
                    return true;
                }
            }
            default -> {}
        }
        // Not JSON any more: waiting members are keys (fails closed); the byte may open the next run.
        failClosed(sink);
        return false;
    }

    /** A value starts with byte {@code c}; false when no JSON value starts so. */
    private boolean value(Frame f, int c, long at) {
        switch (c) {
            case '{', '[' -> {
                if (stack.size() >= MAX_DEPTH) {
                    return false;
                }
                f.expect = COMMA_OR_CLOSE;
                stack.push(
                        c == '{'
                                ? new Frame(true, !f.object && f.label.equals("oth"), "", at)
                                : new Frame(false, false, f.object ? f.member : "", at));
                return true;
            }
            case '"' -> {
                f.expect = COMMA_OR_CLOSE;
                int keep = KEPT_NOT;
                if (f.object && f.member.equals("kty")) {
                    keep = KEPT_KTY;
                } else if (f.object
                        && (JwkMembers.mayBePrivate(f.member)
                                || (f.otherPrime && JwkMembers.isOtherPrimeMember(f.member)))) {
                    keep = KEPT_PRIVATE;
                } else if (level < MAX_LEVELS) {
                    keep = KEPT_QUOTED;
                }
                startString(at, keep);
                return true;
            }
            case 't', 'f', 'n' -> {
                f.expect = COMMA_OR_CLOSE;
                token = LITERAL;
                return true;
            }
            default -> {
                if (c == '-' || (c >= '0' && c <= '9')) {
                    f.expect = COMMA_OR_CLOSE;
                    token = NUMBER;
                    return true;
                }
                return false;
            }
        }
    }

    private void startString(long quoteAt, int keep) {
        token = STRING;
        escaped = false;
        kept = keep;
        lead = 0;
        stringStart = quoteAt + 1;
        rawLen = 0;
        rawOver = false;
    }

    /** Inside a string from {@code b[i]}; returns where reading goes on. */
    private int string(byte[] b, int i, int to, long base, Sink sink) {
        if (escaped) {
            escaped = false;
            keep(b, i, 1);
            return i + 1;
        }
        int j = Simd.quoteOrBackslash(b, i, to);
        if (j > i) {
            keep(b, i, j - i);
        }
        if (j == to) {
            return j;
        }
        if (b[j] == '\\') {
            keep(b, j, 1);
            escaped = true;
            return j + 1;
        }
        endString(base + j - quoteTail, sink);
        return j + 1;
    }

    /** Keeps bytes of the current string as written, as far as its purpose needs. */
    private void keep(byte[] b, int off, int len) {
        if (kept == KEPT_NOT) {
            return;
        }
        if (kept == KEPT_QUOTED && lead < 2) {
            // Quoted JSON text starts, after white space (also escaped), with { or [; anything else is no JSON text.
            for (int k = off; k < off + len && lead < 2 && kept == KEPT_QUOTED; k++) {
                int c = b[k];
                if (lead == 1) {
                    lead = c == 'n' || c == 'r' || c == 't' ? 0 : c == 'u' ? 2 : -1;
                } else if (c == '\\') {
                    lead = 1;
                } else if (c == '{' || c == '[') {
                    lead = 2;
                } else if (c != ' ' && c != '\t') {
                    lead = -1;
                }
                if (lead < 0) {
                    kept = KEPT_NOT;
                    return;
                }
            }
        }
        int cap =
                switch (kept) {
                    case KEPT_NAME -> MAX_NAME;
                    case KEPT_KTY -> MAX_KTY * 6;
                    case KEPT_PRIVATE -> JwkMembers.MAX_VALUE * 6;
                    default -> MAX_QUOTED;
                };
        if (rawOver || rawLen + len > cap) {
            rawOver = true;
            if (kept == KEPT_PRIVATE || kept == KEPT_QUOTED) {
                kept = KEPT_NOT; // longer than any key member, or than quoted text is read: nothing to hold for
            }
            return;
        }
        if (rawLen + len > raw.length) {
            raw = Arrays.copyOf(raw, Math.max(Math.max(rawLen + len, 64), raw.length * 2));
        }
        System.arraycopy(b, off, raw, rawLen, len);
        rawLen += len;
    }

    /** The current string's contents ended at offset {@code end} (its closing quote, or the text's end). */
    private void endString(long end, Sink sink) {
        token = NONE;
        Frame f = stack.peek();
        int what = kept;
        kept = KEPT_NOT;
        switch (what) {
            case KEPT_NAME -> f.member = rawOver ? "" : new String(decode(raw, rawLen), StandardCharsets.UTF_8);
            case KEPT_KTY -> {
                byte[] v = decode(raw, rawLen);
                f.kty = rawOver || v.length > MAX_KTY ? "?" : new String(v, StandardCharsets.UTF_8);
                decide(f, end, sink);
            }
            case KEPT_PRIVATE -> {
                byte[] v = decode(raw, rawLen);
                if (!JwkMembers.keyMaterial(v, 0, v.length)) {
                    return;
                }
                if (f.otherPrime && JwkMembers.isOtherPrimeMember(f.member)) {
                    sink.found(stringStart, end, v);
                } else if (f.kty != null) {
                    if (JwkMembers.isPrivate(f.kty, f.member)) {
                        sink.found(stringStart, end, v);
                    }
                } else {
                    if (f.waiting == null) {
                        f.waiting = new ArrayList<>(2);
                    }
                    f.waiting.add(new Waiting(stringStart, end, end, f.member, v));
                    waitingCount++;
                }
            }
            case KEPT_QUOTED -> quoted(end, sink);
            default -> {}
        }
    }

    /**
     * A string that may hold JSON text ended: the keys in that text are found as in this one, one level deeper, and
     * each private value is reported where it stands in the string as written (key material has no escapes); where
     * it does not stand as decoded, the whole string is the finding.
     */
    private void quoted(long end, Sink sink) {
        byte[] v = decode(raw, rawLen);
        int k = 0;
        while (k < v.length && (v[k] == ' ' || v[k] == '\t' || v[k] == '\n' || v[k] == '\r')) {
            k++;
        }
        if (k == v.length || (v[k] != '{' && v[k] != '[')) {
            return;
        }
        List<byte[]> found = new ArrayList<>(0);
        JwkText inner = new JwkText(level + 1);
        Sink collect = (s, e, value) -> found.add(value);
        inner.feed(v, 0, v.length, 0, collect);
        inner.finish(collect);
        for (byte[] value : found) {
            boolean placed = false;
            for (int at = indexOf(raw, rawLen, value, 0); at >= 0; at = indexOf(raw, rawLen, value, at + 1)) {
                sink.found(stringStart + at, stringStart + at + value.length, value);
                placed = true;
            }
            if (!placed) {
                sink.found(stringStart, end, value);
            }
        }
    }

    /** An object or array closes at {@code at}: its waiting members are decided by its kty (none: not a JWK). */
    private void close(long at, Sink sink) {
        Frame f = stack.pop();
        if (f.waiting != null) {
            for (Waiting w : f.waiting) {
                if (at - w.at > MAX_HOLD || (f.kty != null && JwkMembers.isPrivate(f.kty, w.member))) {
                    sink.found(w.start, w.end, w.value);
                }
            }
            waitingCount -= f.waiting.size();
            f.waiting = null;
        }
    }

    /** The kty of {@code f} has arrived: its waiting members are decided by it. */
    private void decide(Frame f, long now, Sink sink) {
        if (f.waiting == null) {
            return;
        }
        for (Waiting w : f.waiting) {
            if (now - w.at > MAX_HOLD || JwkMembers.isPrivate(f.kty, w.member)) {
                sink.found(w.start, w.end, w.value);
            }
        }
        waitingCount -= f.waiting.size();
        f.waiting = null;
    }

    /** Members that have waited more than {@value #MAX_HOLD} input bytes are private keys. */
    private void expire(Sink sink) {
        for (Frame f : stack) {
            if (f.waiting == null) {
                continue;
            }
            for (var it = f.waiting.iterator(); it.hasNext(); ) {
                Waiting w = it.next();
                if (pos - w.at > MAX_HOLD) {
                    sink.found(w.start, w.end, w.value);
                    it.remove();
                    waitingCount--;
                }
            }
        }
    }

    /** The run of JSON ends where the text stops being JSON or at its end: every waiting member is a key. */
    private void failClosed(Sink sink) {
        for (Frame f : stack) {
            if (f.waiting != null) {
                for (Waiting w : f.waiting) {
                    sink.found(w.start, w.end, w.value);
                }
            }
        }
        stack.clear();
        waitingCount = 0;
        token = NONE;
        kept = KEPT_NOT;
    }

    private static int indexOf(byte[] hay, int len, byte[] needle, int from) {
        outer:
        for (int i = from; i <= len - needle.length; i++) {
            for (int k = 0; k < needle.length; k++) {
                if (hay[i + k] != needle[k]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    /**
     * A JSON string's contents as written, decoded to UTF-8 (RFC 8259 §7): {@code \\uXXXX} with surrogate pairs, the
     * one-letter escapes; an invalid escape is kept as written, a lone surrogate becomes U+FFFD.
     */
    static byte[] decode(byte[] b, int len) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(len);
        int i = 0;
        while (i < len) {
            int c = b[i];
            if (c != '\\' || i + 1 >= len) {
                out.write(c);
                i++;
                continue;
            }
            int e = b[i + 1];
            if (e != 'u') {
                out.write(
                        switch (e) {
                            case 'n' -> '\n';
                            case 't' -> '\t';
                            case 'r' -> '\r';
                            case 'b' -> '\b';
                            case 'f' -> '\f';
                            default -> e;
                        });
                i += 2;
                continue;
            }
            int cp = unit(b, i + 2, len);
            if (cp < 0) {
                out.write('\\');
                i++;
                continue;
            }
            i += 6;
            if (cp >= 0xD800 && cp <= 0xDBFF && i + 1 < len && b[i] == '\\' && b[i + 1] == 'u') {
                int lo = unit(b, i + 2, len);
                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    i += 6;
                }
            }
            if (cp >= 0xD800 && cp <= 0xDFFF) {
                cp = 0xFFFD;
            }
            byte[] u = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8);
            out.write(u, 0, u.length);
        }
        return out.toByteArray();
    }

    private static int unit(byte[] b, int at, int len) {
        if (at + 4 > len) {
            return -1;
        }
        int v = 0;
        for (int k = at; k < at + 4; k++) {
            int h = Character.digit(b[k], 16);
            if (h < 0) {
                return -1;
            }
            v = v * 16 + h;
        }
        return v;
    }
}
