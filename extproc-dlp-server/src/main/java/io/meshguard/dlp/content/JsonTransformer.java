package io.meshguard.dlp.content;

import io.meshguard.dlp.scan.CollectingOutput;
import io.meshguard.dlp.scan.Finding;
import io.meshguard.dlp.scan.ScanRules;
import io.meshguard.dlp.scan.StreamScanner;
import io.meshguard.dlp.scan.ValueHasher;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Optional;

/**
 * Streams a JSON document, scanning every string (keys and values, after decoding escapes) and every number. The
 * document stays valid: untouched parts are copied byte for byte (original escapes kept), replacements are
 * JSON-escaped, and a number with a finding becomes a string (a masked card number is not a number). A document that
 * stops being JSON is scanned as plain text from that byte on, so nothing passes unscanned.
 */
public final class JsonTransformer implements BodyTransformer {
    private static final int MAX_NUMBER = 4096;

    private enum State { STRUCT, STRING, NUMBER, LITERAL, FALLBACK }

    private static final class Frame {
        final boolean object;
        boolean expectKey = true;
        String key = "";
        int index;

        Frame(boolean object) {
            this.object = object;
        }
    }

    private final ScanRules rules;
    private final ValueHasher hasher;
    private final ByteSink out;
    private final FindingListener listener;
    private final EncodedTextScan strings;
    private final StreamScanner numberScanner;
    private final CollectingOutput numberOut = new CollectingOutput();
    private final Deque<Frame> stack = new ArrayDeque<>();
    private State state = State.STRUCT;
    private boolean inKey;
    private boolean stringScanStarted;
    private final StringBuilder keyText = new StringBuilder();
    private final byte[] esc = new byte[12];
    private int escLen;
    private final byte[] decoded = new byte[8];
    private final ByteSink number = new ByteSink();
    private TextTransformer fallback;
    private Finding blocked;
    private long malformedAt = -1;
    private long offset;

    public JsonTransformer(ScanRules rules, ValueHasher hasher, ByteSink out, FindingListener listener) {
        this.rules = rules;
        this.hasher = hasher;
        this.out = out;
        this.listener = listener;
        this.strings = new EncodedTextScan(rules, hasher, out, JsonEscapes::escape, listener);
        this.numberScanner = new StreamScanner(rules, hasher, numberOut);
    }

    /** Offset where the body stopped being JSON, if it did. */
    public Optional<Long> malformedAt() {
        return malformedAt < 0 ? Optional.empty() : Optional.of(malformedAt);
    }

    @Override
    public void write(byte[] b, int off, int len) {
        int i = off;
        int end = off + len;
        while (i < end && blocked == null) {
            switch (state) {
                case FALLBACK -> {
                    fallback.write(b, i, end - i);
                    offset += end - i;
                    i = end;
                    blocked = fallback.blockedBy().orElse(null);
                }
                case STRING -> i = string(b, i, end);
                case NUMBER -> {
                    int c = b[i] & 0xff;
                    if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E') {
                        number.write(c);
                        i++;
                        offset++;
                        if (number.size() > MAX_NUMBER) {
                            toFallback(number.drain());
                        }
                    } else {
                        flushNumber();
                        state = State.STRUCT;
                    }
                }
                case LITERAL -> {
                    int c = b[i] & 0xff;
                    if (c >= 'a' && c <= 'z') {
                        out.write(c);
                        i++;
                        offset++;
                    } else {
                        state = State.STRUCT;
                    }
                }
                case STRUCT -> {
                    structural(b[i] & 0xff);
                    if (state != State.FALLBACK) {
                        i++;
                        offset++;
                    }
                }
            }
        }
    }

    private void structural(int c) {
        switch (c) {
            case ' ', '\t', '\n', '\r' -> out.write(c);
            case '{', '[' -> {
                stack.push(new Frame(c == '{'));
                out.write(c);
            }
            case '}', ']' -> {
                Frame f = stack.peek();
                if (f == null || f.object != (c == '}')) {
                    toFallback(new byte[0]);
                    return;
                }
                stack.pop();
                out.write(c);
            }
            case ':' -> {
                Frame f = stack.peek();
                if (f == null || !f.object) {
                    toFallback(new byte[0]);
                    return;
                }
                f.expectKey = false;
                out.write(c);
            }
            case ',' -> {
                Frame f = stack.peek();
                if (f == null) {
                    toFallback(new byte[0]);
                    return;
                }
                if (f.object) {
                    f.expectKey = true;
                } else {
                    f.index++;
                }
                out.write(c);
            }
            case '"' -> {
                Frame f = stack.peek();
                inKey = f != null && f.object && f.expectKey;
                keyText.setLength(0);
                stringScanStarted = false; // started with the first piece that needs a scan
                out.write(c);
                state = State.STRING;
            }
            case 't', 'f', 'n' -> {
                out.write(c);
                state = State.LITERAL;
            }
            default -> {
                if (c == '-' || (c >= '0' && c <= '9')) {
                    number.write(c);
                    state = State.NUMBER;
                } else {
                    toFallback(new byte[0]);
                }
            }
        }
    }

    /** Starts the scan of the current string, once it is known to need one. */
    private void startStringScan() {
        if (!stringScanStarted) {
            strings.start(inKey ? keyLocation : valueLocation);
            stringScanStarted = true;
        }
    }

    private int string(byte[] b, int i, int end) {
        if (escLen > 0) {
            return escape(b, i, end);
        }
        int run = i;
        while (i < end) {
            byte c = b[i];
            if (c == '"' || c == '\\') {
                break;
            }
            i++;
        }
        if (!stringScanStarted && i < end && b[i] == '"' && !rules.mayFind(b, run, i - run)) {
            // The whole string is here, unescaped, and holds no byte any detector needs: copy it as it is.
            out.write(b, run, i - run);
            captureKey(b, run, i - run);
            offset += i - run + 1;
            out.write('"');
            state = State.STRUCT;
            if (inKey) {
                stack.peek().key = sanitizeKey(keyText.toString());
            }
            return i + 1;
        }
        startStringScan();
        if (i > run) {
            strings.literal(b, run, i - run);
            captureKey(b, run, i - run);
            offset += i - run;
        }
        if (i == end) {
            return i;
        }
        if (b[i] == '"') {
            endString();
            offset++;
            return i + 1;
        }
        return escape(b, i, end);
    }

    /** Collects an escape (possibly a surrogate pair) across chunks and feeds it once complete. */
    private int escape(byte[] b, int i, int end) {
        startStringScan();
        while (i < end) {
            esc[escLen++] = b[i++];
            offset++;
            int need = escapeLength();
            if (need < 0) {
                continue; // more bytes needed
            }
            int dLen;
            int cp = codeUnit(esc, 2);
            if (esc[1] != 'u') {
                dLen = 1;
                decoded[0] = switch (esc[1]) {
                    case 'n' -> '\n';
                    case 't' -> '\t';
                    case 'r' -> '\r';
                    case 'b' -> '\b';
                    case 'f' -> '\f';
                    default -> esc[1]; // \" \\ \/ and, leniently, anything else
                };
            } else if (need == 12) {
                int lo = codeUnit(esc, 8);
                dLen = JsonEscapes.utf8(0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00), decoded);
            } else if (cp < 0) {
                dLen = 0;
            } else {
                dLen = JsonEscapes.utf8(cp, decoded);
            }
            if (dLen == 0) {
                strings.literal(esc, 0, need); // not a valid escape: keep and scan the bytes as they are
            } else {
                strings.escaped(esc, 0, need, decoded, dLen);
                captureKey(decoded, 0, dLen);
            }
            // Bytes collected beyond this escape (a lone high surrogate followed by something else) are read
            // again as string content; they may have come from an earlier chunk, so replay them from the copy.
            int extra = escLen - need;
            byte[] replay = java.util.Arrays.copyOfRange(esc, need, escLen);
            escLen = 0;
            offset -= extra;
            if (extra > 0) {
                write(replay, 0, extra);
            }
            return i;
        }
        return i;
    }

    /** Length of the complete escape in {@code esc}, or -1 when more bytes are needed. */
    private int escapeLength() {
        if (escLen < 2) {
            return -1;
        }
        if (esc[1] != 'u') {
            return 2;
        }
        if (escLen < 6) {
            for (int k = 2; k < escLen; k++) {
                if (hex(esc[k]) < 0) {
                    return k; // malformed \\u escape: treat the bytes so far as literal text
                }
            }
            return -1;
        }
        int cp = codeUnit(esc, 2);
        if (cp < 0xD800 || cp > 0xDBFF) {
            return 6;
        }
        // High surrogate: a low one may follow as \\uDC00-\\uDFFF.
        String want = "\\u";
        for (int k = 6; k < escLen; k++) {
            if (k < 8) {
                if (esc[k] != want.charAt(k - 6)) {
                    return 6;
                }
            } else if (hex(esc[k]) < 0 || (k == 8 && !(esc[k] == 'd' || esc[k] == 'D'))
                    || (k == 9 && "cdefCDEF".indexOf(esc[k]) < 0)) {
                return 6;
            }
        }
        return escLen == 12 ? 12 : -1;
    }

    private static int codeUnit(byte[] e, int at) {
        int v = 0;
        for (int k = at; k < at + 4; k++) {
            int h = hex(e[k]);
            if (h < 0) {
                return -1;
            }
            v = v * 16 + h;
        }
        return v;
    }

    private static int hex(byte c) {
        return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F'
                ? c - 'A' + 10 : -1;
    }

    private void endString() {
        strings.finish();
        blocked = strings.blockedBy().orElse(null);
        out.write('"');
        state = State.STRUCT;
        if (inKey) {
            Frame f = stack.peek();
            f.key = sanitizeKey(keyText.toString());
        }
    }

    private void captureKey(byte[] b, int off, int len) {
        if (inKey && keyText.length() < 80) {
            keyText.append(new String(b, off, Math.min(len, 80), java.nio.charset.StandardCharsets.UTF_8));
        }
    }

    /** Keys go into audit locations; a key that could itself be sensitive (long, digit-heavy) is replaced by *. */
    private static String sanitizeKey(String key) {
        if (!Locations.safeName(key)) {
            return "*";
        }
        return key.replace("~", "~0").replace("/", "~1");
    }

    private final java.util.function.Supplier<String> valueLocation = this::path;
    private final java.util.function.Supplier<String> keyLocation = () -> path() + "/(key)";

    private String path() {
        StringBuilder sb = new StringBuilder();
        java.util.Iterator<Frame> it = stack.descendingIterator();
        while (it.hasNext()) {
            Frame f = it.next();
            sb.append('/').append(f.object ? f.key : Integer.toString(f.index));
        }
        return sb.length() == 0 ? "/" : sb.toString();
    }

    private void flushNumber() {
        byte[] n = number.drain();
        numberScanner.reset();
        numberOut.discard();
        int before = numberOut.findingCount();
        numberScanner.feedAll(n, 0, n.length);
        if (numberOut.findingCount() == before) {
            numberOut.discard(); // no finding: the number passed through unchanged
            out.write(n);
            return;
        }
        byte[] rewritten = numberOut.drain();
        for (int k = before; k < numberOut.findingCount(); k++) {
            listener.onFinding(numberOut.finding(k), path());
        }
        if (numberOut.blockedBy().isPresent() && blocked == null) {
            blocked = numberOut.blockedBy().get();
            return;
        }
        if (java.util.Arrays.equals(rewritten, n)) {
            out.write(n);
        } else {
            JsonEscapes.quote(rewritten, 0, rewritten.length, out);
        }
    }

    private void toFallback(byte[] pendingText) {
        malformedAt = offset;
        fallback = new TextTransformer(rules, hasher, out, listener, "body");
        state = State.FALLBACK;
        fallback.write(pendingText, 0, pendingText.length);
    }

    @Override
    public void finish() {
        if (blocked != null) {
            return;
        }
        switch (state) {
            case NUMBER -> flushNumber();
            case STRING -> {
                startStringScan();
                if (escLen > 0) {
                    strings.literal(esc, 0, escLen);
                    escLen = 0;
                }
                strings.finish(); // unterminated string: still scanned, nothing dropped
                blocked = strings.blockedBy().orElse(null);
            }
            case FALLBACK -> {
                fallback.finish();
                blocked = fallback.blockedBy().orElse(null);
            }
            default -> { }
        }
    }

    @Override
    public Optional<Finding> blockedBy() {
        if (blocked == null && state == State.STRING) {
            return strings.blockedBy();
        }
        return Optional.ofNullable(blocked);
    }

    @Override
    public long heldBack() {
        return strings.heldBack() + number.size() + escLen + (fallback == null ? 0 : fallback.heldBack());
    }
}
