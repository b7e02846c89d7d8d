package io.meshguard.dlp.content;

import io.meshguard.dlp.detect.BuiltinDetector;
import io.meshguard.dlp.detect.JwkMembers;
import io.meshguard.dlp.scan.ActionKind;
import io.meshguard.dlp.scan.CollectingOutput;
import io.meshguard.dlp.scan.Finding;
import io.meshguard.dlp.scan.KeyContext;
import io.meshguard.dlp.scan.ScanRules;
import io.meshguard.dlp.scan.StreamScanner;
import io.meshguard.dlp.scan.ValueHasher;
import io.meshguard.dlp.scan.ValueRule;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;

/**
 * Streams a JSON document, scanning every string (keys and values, after decoding escapes) and every number. The
 * document stays valid: untouched parts are copied byte for byte (original escapes kept), replacements are
 * JSON-escaped, and a number with a finding becomes a string (a masked card number is not a number). A document that
 * stops being JSON is scanned as plain text from that byte on, so nothing passes unscanned.
 *
 * <p>The pass knows each object's keys, so it also gives every value its key as context ({@link
 * StreamScanner#context}: {@code "card_number": "4111…"}), and finds the private members of JSON Web Keys whatever
 * the order of the members ({@link JwkMembers}): a value under {@code d}, {@code p}, {@code k}… is held back (output
 * stops there) until its object's {@code kty} is read or the object closes, for at most {@value #MAX_HOLD} bytes of
 * input after it; then it is replaced as the {@code private_key} detector's action says, or passes. A key quoted as
 * JSON text inside a string value is found by that string's text scan ({@link io.meshguard.dlp.detect.JwkTextRecognizer}).
 * Bounded input: nesting deeper than {@value #MAX_DEPTH} (Jackson's default limit) and keys longer than {@link KeyContext#MAX_KEY_BYTES} are
 * defined outcomes (the text fallback; no context), see {@link #write}.
 */
public final class JsonTransformer implements BodyTransformer {
    private static final int MAX_NUMBER = 4096;
    /**
     * Deeper nesting is scanned as text from the opening bracket on (Jackson's {@code StreamReadConstraints}
     * default maximum depth is 1000): the stack of open containers stays bounded whatever the body.
     */
    static final int MAX_DEPTH = 1000;
    /**
     * Input bytes a private JWK member may wait for its object's {@code kty} (output behind it is held meanwhile);
     * past it the member is treated as a private key (fails towards the finding), so a padded object cannot carry a
     * key past the scan, and held output stays bounded.
     */
    static final int MAX_HOLD = 64 * 1024;
    /** Longest {@code kty} value kept; a longer one is an unknown key type. */
    private static final int MAX_KTY = 32;

    /** What a string value is being read for, besides the scan. */
    private enum Capture {
        NONE,
        KTY,
        PRIVATE
    }

    private enum State {
        STRUCT,
        STRING,
        NUMBER,
        LITERAL,
        FALLBACK
    }

    private static final class Frame {
        final boolean object;
        boolean expectKey = true;
        /** The current member's key as audit locations show it ({@link MemberKeys#location}). */
        String key = "";
        /** The current member's key, decoded; empty when longer than {@link KeyContext#MAX_KEY_BYTES}. */
        String member = "";
        /** The current member's key with what it names in a JWK. */
        MemberKeys.Key memberKey = MemberKeys.NONE;
        /** The object's {@code kty} value once read, else null. */
        String kty;

        int index;

        /** For an array: the key of the member it is the value of (context for its elements), else empty. */
        final String label;
        /** An object in an {@code oth} array: a multi-prime RSA key's other prime, private whatever the kty. */
        final boolean otherPrime;

        Frame(boolean object, String label, boolean otherPrime) {
            this.object = object;
            this.label = label;
            this.otherPrime = otherPrime;
        }
    }

    /**
     * A private JWK member's value: {@code [start, end)} of {@link #out}, held until decided. {@code replacement}
     * is set when it is replaced.
     */
    private static final class Held {
        final Frame owner;
        final String member;
        int start;
        int end;
        final byte[] value;
        final String location;
        /** Input offset where the value ended: the wait is measured from there, so chunking cannot change it. */
        final long at;

        boolean decided;
        byte[] replacement;

        Held(Frame owner, String member, int start, int end, byte[] value, String location, long at) {
            this.owner = owner;
            this.member = member;
            this.start = start;
            this.end = end;
            this.value = value;
            this.location = location;
            this.at = at;
        }
    }

    private final ScanRules rules;
    private final boolean shortcuts;
    private final ValueHasher hasher;
    /** Where output goes once decided; everything is written to {@link #out} first. */
    private final ByteSink target;
    /** This call's output, and everything behind a held JWK member until it is decided. */
    private final ByteSink out = new ByteSink();

    private final FindingListener listener;
    /** The private_key detector when this scan runs it, else null (no JWK search at all). */
    private final ValueRule jwk;

    private final List<Held> held = new ArrayList<>();
    private int undecided;
    private Capture capture = Capture.NONE;
    private int captureStart;
    private final ByteSink value = new ByteSink(64);
    private boolean valueTooLong;
    /** Set when a JWK finding blocks: what is held is dropped, never written. */
    private boolean dropHeld;

    private final EncodedTextScan strings;
    private final StreamScanner numberScanner;
    private final CollectingOutput numberOut = new CollectingOutput();
    private final Deque<Frame> stack = new ArrayDeque<>();
    /** {@code stack.peek()}, kept in a field: read at every structural byte and string. */
    private Frame top;

    private State state = State.STRUCT;
    private boolean inKey;
    private boolean stringScanStarted;
    private final byte[] keyBytes = new byte[KeyContext.MAX_KEY_BYTES];
    private int keyLen;
    private final MemberKeys memberKeys;
    private boolean keyTooLong;
    private final byte[] esc = new byte[12];
    private int escLen;
    private final byte[] decoded = new byte[8];
    private final ByteSink number = new ByteSink();
    private TextTransformer fallback;
    private Finding blocked;
    private long malformedAt = -1;
    private long offset;

    public JsonTransformer(ScanRules rules, ValueHasher hasher, ByteSink out, FindingListener listener) {
        this(rules, hasher, out, listener, true);
    }

    /**
     * @param shortcuts whether the pass takes its shortcuts: strings and numbers no recognizer could find anything in
     *     ({@link ScanRules#mayFind}) copied without a scan, member keys decoded and tested once per document
     *     ({@link MemberKeys}), runs of such tokens read in one loop and copied at once ({@link #plainRun}); false
     *     scans every string and number byte by byte and decodes every key, the plain version the tests check this
     *     one against
     */
    JsonTransformer(ScanRules rules, ValueHasher hasher, ByteSink out, FindingListener listener, boolean shortcuts) {
        this.shortcuts = shortcuts;
        this.rules = rules;
        this.hasher = hasher;
        this.target = out;
        this.listener = listener;
        this.jwk = rules.valueRule(BuiltinDetector.PRIVATE_KEY).orElse(null);
        this.strings = new EncodedTextScan(rules, hasher, this.out, JsonEscapes::escape, listener);
        this.numberScanner = new StreamScanner(rules, hasher, numberOut);
        this.memberKeys = new MemberKeys(rules);
    }

    /** Offset where the body stopped being JSON, if it did. */
    public Optional<Long> malformedAt() {
        return malformedAt < 0 ? Optional.empty() : Optional.of(malformedAt);
    }

    /**
     * Scans the next bytes. Defined outcomes for malformed input: a byte that breaks the JSON syntax (an unbalanced
     * bracket, a stray character) and nesting deeper than {@value #MAX_DEPTH} switch to the text scan from that byte
     * on; broken UTF-8 inside strings passes as it is (scanned as bytes); a key longer than {@link
     * KeyContext#MAX_KEY_BYTES} is scanned but gives its value no context, names no JWK member and shows as {@code *}
     * in locations.
     */
    @Override
    public void write(byte[] b, int off, int len) {
        consume(b, off, len);
        settle();
    }

    private void consume(byte[] b, int off, int len) {
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
                    // the run of number bytes here, up to the byte that makes the number too long
                    int j = i;
                    int stop = (int) Math.min(end, (long) i + MAX_NUMBER + 1 - number.size());
                    while (j < stop && numberByte(b[j])) {
                        j++;
                    }
                    if (j > i) {
                        number.write(b, i, j - i);
                        offset += j - i;
                        i = j;
                        if (number.size() > MAX_NUMBER) {
                            toFallback(number.drain());
                        }
                    } else {
                        flushNumber();
                        state = State.STRUCT;
                    }
                }
                case LITERAL -> {
                    int j = i;
                    while (j < end && b[j] >= 'a' && b[j] <= 'z') {
                        j++;
                    }
                    if (j > i) {
                        out.write(b, i, j - i);
                        offset += j - i;
                        i = j;
                    } else {
                        state = State.STRUCT;
                    }
                }
                case STRUCT -> {
                    if (shortcuts && undecided == 0) {
                        int j = plainRun(b, i, end);
                        if (j > i) {
                            i = j;
                            continue;
                        }
                    }
                    structural(b[i] & 0xff);
                    if (state != State.FALLBACK) {
                        i++;
                        offset++;
                    }
                }
            }
        }
    }

    private static boolean numberByte(byte c) {
        return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
    }

    private void structural(int c) {
        switch (c) {
            case ' ', '\t', '\n', '\r' -> out.write(c);
            case '{', '[' -> {
                if (!open(c)) {
                    toFallback(new byte[0]);
                    return;
                }
                out.write(c);
            }
            case '}', ']' -> {
                Frame f = top;
                if (f == null || f.object != (c == '}')) {
                    toFallback(new byte[0]);
                    return;
                }
                if (undecided > 0) {
                    resolve(f); // the object closed without (another) kty
                }
                close();
                out.write(c);
            }
            case ':', ',' -> {
                if (!separator(c)) {
                    toFallback(new byte[0]);
                    return;
                }
                out.write(c);
            }
            case '"' -> {
                Frame f = top;
                inKey = f != null && f.object && f.expectKey;
                keyLen = 0;
                keyTooLong = false;
                stringScanStarted = false; // started with the first piece that needs a scan
                out.write(c);
                state = State.STRING;
                if (jwk != null && !inKey && f != null && f.object) {
                    capture = capturing(f);
                    if (capture != Capture.NONE) {
                        value.reset();
                        valueTooLong = false;
                        captureStart = out.size();
                    }
                }
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

    /** Opens an object or array ({@code c} is its bracket); false when nesting is already {@value #MAX_DEPTH} deep. */
    private boolean open(int c) {
        if (stack.size() >= MAX_DEPTH) {
            return false;
        }
        Frame parent = top;
        top = new Frame(
                c == '{',
                c == '[' && parent != null ? valueKey(parent) : "",
                c == '{' && parent != null && !parent.object && parent.label.equals("oth"));
        stack.push(top);
        return true;
    }

    /** Closes the open container, its bracket checked by the caller. */
    private void close() {
        stack.pop();
        top = stack.peek();
    }

    /** A {@code :} or {@code ,} ({@code c}): false where the syntax has no place for it. */
    private boolean separator(int c) {
        Frame f = top;
        if (f == null || (c == ':' && !f.object)) {
            return false;
        }
        if (c == ':') {
            f.expectKey = false;
        } else if (f.object) {
            f.expectKey = true;
        } else {
            f.index++;
        }
        return true;
    }

    /**
     * The run from {@code i} that passes unchanged, read in one loop and copied to the output at once: whitespace,
     * brackets, separators, literals, numbers and unescaped strings that no recognizer could find anything in, each
     * whole before {@code end}. Returns where the run stops: at the first byte that needs the byte-by-byte path (a
     * string or number that needs a scan, an escape, a JWK member's value, a token cut by the chunk's end, a syntax
     * error), which then reads it as it always has. Called only when no JWK member is waiting, so nothing here reads
     * the output's size or the input offset; the state a byte changes (containers, the current key) is the same the
     * byte-by-byte path changes.
     */
    private int plainRun(byte[] b, int i, int end) {
        int from = i;
        while (i < end) {
            int c = b[i] & 0xff;
            int next =
                    switch (c) {
                        case ' ', '\t', '\n', '\r' -> i + 1;
                        case ':', ',' -> separator(c) ? i + 1 : -1;
                        case '{', '[' -> open(c) ? i + 1 : -1;
                        case '}', ']' -> {
                            Frame f = top;
                            if (f == null || f.object != (c == '}')) {
                                yield -1;
                            }
                            close();
                            yield i + 1;
                        }
                        case '"' -> plainString(b, i, end);
                        case 't', 'f', 'n' -> plainToken(b, i, end, false);
                        default -> c == '-' || (c >= '0' && c <= '9') ? plainToken(b, i, end, true) : -1;
                    };
            if (next < 0) {
                break;
            }
            i = next;
        }
        if (i > from) {
            out.write(b, from, i - from);
            offset += i - from;
        }
        return i;
    }

    /**
     * The string opening at {@code b[i]} when it passes unchanged (unescaped, closed before {@code end}, nothing any
     * recognizer could find in it, no JWK member to capture): the index after its closing quote, else -1.
     */
    private int plainString(byte[] b, int i, int end) {
        int from = i + 1;
        int q = io.meshguard.dlp.detect.Simd.quoteOrBackslash(b, from, end);
        if (q == end || b[q] != '"') {
            return -1;
        }
        Frame f = top;
        if (f != null && f.object && f.expectKey) {
            // a key is tested once per document: the key table knows whether it could hold a finding
            MemberKeys.Key k =
                    q - from > KeyContext.MAX_KEY_BYTES ? MemberKeys.TOO_LONG : memberKeys.of(b, from, q - from);
            if (!k.quiet()) {
                return -1;
            }
            f.memberKey = k;
            f.member = k.member();
            f.key = k.location();
            return q + 1;
        }
        if (jwk != null && f != null && f.object && capturing(f) != Capture.NONE) {
            return -1;
        }
        return rules.mayFind(b, from, q - from) ? -1 : q + 1;
    }

    /**
     * The literal ({@code isNumber} false) or number opening at {@code b[i]} when it ends before {@code end} and passes
     * unchanged (a number no recognizer could find anything in, {@link ScanRules#mayFindNumber}): the index after it,
     * else -1.
     */
    private int plainToken(byte[] b, int i, int end, boolean isNumber) {
        int j = i + 1;
        while (j < end && (isNumber ? numberByte(b[j]) : b[j] >= 'a' && b[j] <= 'z')) {
            j++;
        }
        if (j == end || (isNumber && (j - i > MAX_NUMBER || rules.mayFindNumber(b, i, j - i)))) {
            return -1;
        }
        return j;
    }

    /** Starts the scan of the current string, once it is known to need one. */
    private void startStringScan() {
        if (!stringScanStarted) {
            Frame f = top;
            strings.start(inKey ? keyLocation : valueLocation, inKey || f == null ? "" : valueKey(f));
            stringScanStarted = true;
        }
    }

    private int string(byte[] b, int i, int end) {
        if (escLen > 0) {
            return escape(b, i, end);
        }
        int run = i;
        i = io.meshguard.dlp.detect.Simd.quoteOrBackslash(b, i, end);
        if (shortcuts && !stringScanStarted && i < end && b[i] == '"' && !rules.mayFind(b, run, i - run)) {
            // The whole string is here, unescaped, and holds no byte any detector needs: copy it as it is.
            out.write(b, run, i - run);
            captured(b, run, i - run);
            offset += i - run + 1;
            stringEnded();
            out.write('"');
            state = State.STRUCT;
            return i + 1;
        }
        startStringScan();
        if (i > run) {
            strings.literal(b, run, i - run);
            captured(b, run, i - run);
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
                captured(esc, 0, need);
            } else {
                strings.escaped(esc, 0, need, decoded, dLen);
                captured(decoded, 0, dLen);
            }
            // Bytes collected beyond this escape (a lone high surrogate followed by something else) are read
            // again as string content; they may have come from an earlier chunk, so replay them from the copy.
            int extra = escLen - need;
            byte[] replay = java.util.Arrays.copyOfRange(esc, need, escLen);
            escLen = 0;
            offset -= extra;
            if (extra > 0) {
                consume(replay, 0, extra);
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
            } else if (hex(esc[k]) < 0
                    || (k == 8 && !(esc[k] == 'd' || esc[k] == 'D'))
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
        return c >= '0' && c <= '9'
                ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    }

    private void endString() {
        strings.finish();
        blocked = strings.blockedBy().orElse(null);
        stringEnded();
        out.write('"');
        state = State.STRUCT;
    }

    /** What a string value of object {@code f}, under its current member, is read for besides the scan. */
    private static Capture capturing(Frame f) {
        MemberKeys.Key k = f.memberKey;
        return k.kty()
                ? Capture.KTY
                : k.mayBePrivate() || (f.otherPrime && k.otherPrimeMember()) ? Capture.PRIVATE : Capture.NONE;
    }

    /** Decoded bytes of the current string: kept for a key, a kty value or a value that may be a private member. */
    private void captured(byte[] b, int off, int len) {
        if (inKey) {
            if (keyTooLong || keyLen + len > keyBytes.length) {
                keyTooLong = true;
            } else {
                System.arraycopy(b, off, keyBytes, keyLen, len);
                keyLen += len;
            }
        } else {
            if (capture != Capture.NONE && !valueTooLong) {
                if (value.size() + len > (capture == Capture.KTY ? MAX_KTY : JwkMembers.MAX_VALUE)) {
                    valueTooLong = true;
                    if (capture == Capture.PRIVATE) {
                        capture = Capture.NONE; // longer than any key member: not held
                    }
                } else {
                    value.write(b, off, len);
                }
            }
        }
    }

    /** The current string's contents are all written to {@link #out} (its closing quote is not). */
    private void stringEnded() {
        Frame f = top;
        if (inKey) {
            MemberKeys.Key k = keyTooLong
                    ? MemberKeys.TOO_LONG
                    : shortcuts ? memberKeys.of(keyBytes, 0, keyLen) : MemberKeys.decode(keyBytes, 0, keyLen);
            f.memberKey = k;
            f.member = k.member();
            f.key = k.location();
        } else if (capture == Capture.KTY) {
            f.kty = valueTooLong ? "?" : new String(value.array(), 0, value.size(), StandardCharsets.UTF_8);
            if (undecided > 0) {
                resolve(f);
            }
        } else if (capture == Capture.PRIVATE) {
            hold(f);
        }
        capture = Capture.NONE;
    }

    /** The key a value of frame {@code f} is under: the object's member, or the member an array is the value of. */
    private static String valueKey(Frame f) {
        return f.object ? f.member : f.label;
    }

    /** The value just read under a member that may be private: held when it can be key material. */
    private void hold(Frame f) {
        if (valueTooLong || !JwkMembers.keyMaterial(value.array(), 0, value.size())) {
            return;
        }
        Held h = new Held(
                f,
                f.member,
                captureStart,
                out.size(),
                java.util.Arrays.copyOf(value.array(), value.size()),
                path(),
                offset);
        held.add(h);
        if (f.otherPrime && JwkMembers.isOtherPrimeMember(h.member)) {
            decide(h, true);
        } else if (f.kty != null) {
            decide(h, JwkMembers.isPrivate(f.kty, h.member));
        } else {
            undecided++;
        }
    }

    /** Decides the held members of {@code f} by its kty (none: not a JWK). */
    private void resolve(Frame f) {
        for (Held h : held) {
            if (!h.decided && h.owner == f) {
                undecided--;
                decide(h, waitedTooLong(h) || (f.kty != null && JwkMembers.isPrivate(f.kty, h.member)));
            }
        }
    }

    /** Whether {@code h} has waited more than {@value #MAX_HOLD} input bytes for its kty. */
    private boolean waitedTooLong(Held h) {
        return offset - h.at > MAX_HOLD;
    }

    /** Members still waiting when the JSON ends, breaks or the hold is full: private keys (fails closed). */
    private void failClosed() {
        for (Held h : held) {
            if (!h.decided) {
                decide(h, true);
            }
        }
        undecided = 0;
    }

    private void decide(Held h, boolean privateKey) {
        h.decided = true;
        if (!privateKey || dropHeld) {
            return;
        }
        Optional<Finding> f = jwk.finding(h.value, 0, h.value.length, 1.0, hasher);
        if (f.isEmpty()) {
            return;
        }
        listener.onFinding(f.get(), h.location);
        if (f.get().action() == ActionKind.BLOCK) {
            if (blocked == null) {
                blocked = f.get();
            }
            dropHeld = true;
        } else if (f.get().action() != ActionKind.ALERT) {
            ByteSink esc = new ByteSink(64);
            JsonEscapes.escape(jwk.replacement(h.value, 0, h.value.length, f.get()), esc);
            h.replacement = esc.drain();
        }
    }

    /**
     * After each write: passes what is decided on. While a private member waits (or is being read) output stays in
     * {@link #out}; past {@value #MAX_HOLD} bytes the waiting members are decided as private keys.
     */
    private void settle() {
        if (undecided > 0 && blocked == null) {
            for (Held h : held) {
                if (!h.decided && waitedTooLong(h)) {
                    failClosed();
                    break;
                }
            }
        }
        if (dropHeld || (blocked != null && (!held.isEmpty() || capture == Capture.PRIVATE))) {
            out.reset();
            held.clear();
            return;
        }
        // Output up to the first member still waiting (or being read) passes; the rest stays.
        int upTo = capture == Capture.PRIVATE ? captureStart : out.size();
        int done = 0;
        for (; done < held.size(); done++) {
            Held h = held.get(done);
            if (!h.decided) {
                upTo = Math.min(upTo, h.start);
                break;
            }
        }
        byte[] a = out.array();
        int at = 0;
        for (int k = 0; k < done; k++) {
            Held h = held.get(k);
            if (h.end > upTo) {
                done = k;
                break;
            }
            if (h.replacement != null) {
                target.write(a, at, h.start - at);
                target.write(h.replacement);
                at = h.end;
            }
        }
        if (upTo > at) {
            target.write(a, at, upTo - at);
            at = upTo;
        }
        held.subList(0, done).clear();
        if (at == out.size()) {
            out.reset();
        } else {
            out.dropFirst(at);
        }
        for (Held h : held) {
            h.start -= at;
            h.end -= at;
        }
        captureStart -= at;
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
        if (shortcuts && !rules.mayFindNumber(number.array(), 0, number.size())) {
            // no recognizer could report anything in it (an id, a price): it goes on as it came, unscanned
            out.write(number.array(), 0, number.size());
            number.reset();
            return;
        }
        byte[] n = number.drain();
        numberScanner.reset();
        Frame f = top;
        numberScanner.context(f == null ? "" : valueKey(f));
        numberOut.discard();
        int before = numberOut.findingCount();
        if (shortcuts) {
            numberScanner.feedAll(n, 0, n.length);
        } else {
            numberScanner.feed(n, 0, n.length);
            numberScanner.finish();
        }
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
        failClosed();
        fallback = new TextTransformer(rules, hasher, out, listener, "body");
        state = State.FALLBACK;
        fallback.write(pendingText, 0, pendingText.length);
    }

    /** The body ended: an unterminated string is still scanned; members waiting for a kty are private keys. */
    @Override
    public void finish() {
        if (blocked != null) {
            capture = Capture.NONE;
            settle();
            return;
        }
        {
            switch (state) {
                case NUMBER -> flushNumber();
                case STRING -> {
                    startStringScan();
                    if (escLen > 0) {
                        strings.literal(esc, 0, escLen);
                        captured(esc, 0, escLen);
                        escLen = 0;
                    }
                    strings.finish(); // unterminated string: still scanned, nothing dropped
                    blocked = strings.blockedBy().orElse(null);
                    if (!inKey && top != null) {
                        stringEnded();
                    }
                }
                case FALLBACK -> {
                    fallback.finish();
                    blocked = fallback.blockedBy().orElse(null);
                }
                default -> {}
            }
        }
        capture = Capture.NONE;
        failClosed();
        settle();
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
        return strings.heldBack() + number.size() + escLen + (fallback == null ? 0 : fallback.heldBack()) + out.size();
    }
}
