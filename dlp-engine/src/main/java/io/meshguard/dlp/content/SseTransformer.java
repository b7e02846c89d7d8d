package io.meshguard.dlp.content;

import io.meshguard.dlp.detect.BuiltinDetector;
import io.meshguard.dlp.detect.Simd;
import io.meshguard.dlp.scan.ActionKind;
import io.meshguard.dlp.scan.Finding;
import io.meshguard.dlp.scan.ScanOutput;
import io.meshguard.dlp.scan.ScanRules;
import io.meshguard.dlp.scan.StreamScanner;
import io.meshguard.dlp.scan.ValueHasher;
import io.meshguard.dlp.scan.ValueRule;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code text/event-stream}, with LLM token streams in mind. Events are framed per the WHATWG rules (LF, CRLF or CR
 * line ends, blank line dispatches, {@code :} comments). In JSON payloads, the strings that are pieces of a text an
 * LLM streams token by token ({@link TokenDeltas}: OpenAI Chat Completions and Responses, Anthropic Messages,
 * Gemini, Cohere, text-generation-inference, Ollama) form one continuous stream per text, scanned across events, so
 * a card number spread over several token deltas is still found. An event is written once every piece of its text
 * is decided; a replacement goes into the event where the finding starts, and later events carry what is left of
 * their delta. Framing, ids, other fields and the JSON syntax of every event are kept; unchanged events are copied
 * byte for byte. Every other string and number, and every other payload, is scanned on its own (as JSON or as
 * text). {@link #jsonLines} reads JSON lines the same way, a line per event.
 *
 * <p>An LLM stream is hundreds of thousands of small events per second at full speed, so the per-event path keeps
 * its garbage small: buffers and lists are reused across events, a one-line {@code data:} value is read where it
 * lies in the event, a delta's text is kept only once something in it changes, and audit locations are spelled out
 * only for findings.
 */
public final class SseTransformer implements BodyTransformer {
    /** Events larger than this are not held: the rest of the stream is scanned as plain text. */
    static final int MAX_EVENT = 1 << 20;

    private static final byte[] BOM = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};
    private static final byte[] DONE = "[DONE]".getBytes(StandardCharsets.US_ASCII);
    private static final Comparator<Edit> BY_START = Comparator.comparingInt(Edit::rawStart);
    private final boolean jsonLines;
    /** Whether an event like the last one is read by comparison ({@link JsonTokens#readLike}); off only in tests. */
    private final boolean reuseShapes;

    private final ScanRules rules;
    private final ValueHasher hasher;
    private final ByteSink out;
    private final FindingListener listener;

    private final ByteSink current = new ByteSink(); // raw bytes of the event being assembled
    private int[] lines = new int[24]; // {start, contentEnd, end} per line of the current event
    private int lineCount;
    private int lineStart;
    private boolean afterCr;
    private boolean started;
    private int bomSeen;

    private final Deque<Queued> queue = new ArrayDeque<>();
    // Keyed by the stream's name: the map's iteration order decides in which order streams are finished.
    private final Map<String, ChoiceStream> streams = new HashMap<>();
    /** Made at the first value that needs a scan of its own: most event streams carry none (a held stream's memory). */
    private StreamScanner oneShot;

    private final AloneOutput alone = new AloneOutput();
    /** The private_key detector when this scan runs it (JWK private members in payloads), else null. */
    private final ValueRule jwk;
    /** Whether a key gives any rule context ({@link ScanRules#keyIsContext}), for the few keys a stream repeats. */
    private final Map<String, Boolean> keyIsContext = new HashMap<>();

    private TextTransformer fallback;
    private Finding blocked;

    // Reused per event.
    private final JsonTokens tokens = new JsonTokens();
    private final ByteSink decoded = new ByteSink();
    private final ByteSink rewrite = new ByteSink();
    private final TokenDeltas deltas = new TokenDeltas();
    private int[] feeds = new int[8]; // indexes of the scalars that are pieces of a token stream
    /**
     * Per scalar of the last JSON event: whether scanning it on its own found nothing and changed nothing. With the
     * same bytes at the same path in the next event ({@link JsonTokens#readLike}) it is not scanned again.
     */
    private boolean[] quiet = new boolean[8];
    /** {@link JwkDocuments#mayHavePrivateMembers} of the last JSON event's scalars. */
    private boolean jwkShaped;

    private final WaitingArrays waiting = new WaitingArrays();
    /**
     * Short texts scanned on their own that came out unchanged and without any finding. Streams repeat such
     * strings in every event ({@code "id":"chatcmpl-…"}, {@code "object"}, {@code "model"}, {@code "role"}); a scan
     * of a reset scanner depends on nothing but the text (recognizers, allow-lists and context words keep no state
     * across texts), so a text seen clean is clean again and is not scanned again.
     */
    private final byte[][] clean = new byte[8][];

    private int cleanNext;
    private static final int MAX_CLEAN = 96;

    /** A piece of a choice stream's text inside one event: the stream range {@code [a, b)}. */
    private static final class Slot {
        final long a;
        final long b;
        final int rawStart; // of the JSON string contents, within the event's data
        final int rawEnd;
        final Queued event;
        /** Bytes passed into this slot while nothing in it changed (they equal its decoded text). */
        int passed;
        /** What this slot's string becomes; kept only once the slot changed. */
        ByteSink text;

        boolean changed;
        boolean complete;

        Slot(long a, long b, int rawStart, int rawEnd, Queued event) {
            this.a = a;
            this.b = b;
            this.rawStart = rawStart;
            this.rawEnd = rawEnd;
            this.event = event;
        }

        /** Marks the slot changed, keeping the text passed into it so far. */
        void change() {
            if (text == null) {
                text = new ByteSink((int) (b - a) + 16);
                if (passed > 0) {
                    byte[] original =
                            JsonStrings.decodeBytes(event.data, event.dataOff + rawStart, event.dataOff + rawEnd);
                    text.write(original, 0, passed);
                }
            }
            changed = true;
        }
    }

    /**
     * Arrays for the events that have to wait (a token split mid-word holds its event until the next delta), handed
     * back once the event is written: a few per power-of-two size up to 2 KiB, so a stream reuses the same handful.
     */
    private static final class WaitingArrays {
        private static final int MAX_CLASS = 11;
        private static final int PER_CLASS = 4;
        // Per size class, made when the first array of that class comes back (most streams use one or two).
        private final byte[][][] bytes = new byte[MAX_CLASS + 1][][];
        private final int[] byteCount = new int[MAX_CLASS + 1];
        private final int[][][] ints = new int[MAX_CLASS + 1][][];
        private final int[] intCount = new int[MAX_CLASS + 1];

        private static int sizeClass(int n) {
            return n <= 16 ? 4 : 32 - Integer.numberOfLeadingZeros(n - 1);
        }

        byte[] bytes(int n) {
            int c = sizeClass(n);
            if (c > MAX_CLASS) {
                return new byte[n];
            }
            if (byteCount[c] > 0) {
                byte[] b = bytes[c][--byteCount[c]];
                bytes[c][byteCount[c]] = null;
                return b;
            }
            return new byte[1 << c];
        }

        int[] ints(int n) {
            int c = sizeClass(n);
            if (c > MAX_CLASS) {
                return new int[n];
            }
            if (intCount[c] > 0) {
                int[] a = ints[c][--intCount[c]];
                ints[c][intCount[c]] = null;
                return a;
            }
            return new int[1 << c];
        }

        void give(byte[] b) {
            int c = sizeClass(b.length);
            if (c <= MAX_CLASS && b.length == 1 << c && byteCount[c] < PER_CLASS) {
                if (bytes[c] == null) {
                    bytes[c] = new byte[PER_CLASS][];
                }
                bytes[c][byteCount[c]++] = b;
            }
        }

        void give(int[] a) {
            int c = sizeClass(a.length);
            if (c <= MAX_CLASS && a.length == 1 << c && intCount[c] < PER_CLASS) {
                if (ints[c] == null) {
                    ints[c] = new int[PER_CLASS][];
                }
                ints[c][intCount[c]++] = a;
            }
        }
    }

    /** A substitution of a string's contents inside an event's data (offsets relative to the data's start). */
    private record Edit(int rawStart, int rawEnd, Slot slot, byte[] bytes) {}

    /**
     * An event waiting for its text to be decided. While it is being dispatched it borrows the assembly buffers (the
     * raw bytes and the line table); most events are decided and written at once, and only one that has to wait
     * takes its own copy ({@link #keep}).
     */
    private static final class Queued {
        byte[] raw;
        final int rawLen;
        int[] lines;
        final int lineInts;
        final int dataLines;
        byte[] data;
        final int dataOff;
        final int dataLen;
        final List<Edit> edits;
        private boolean borrowed = true;
        boolean written;

        Queued(
                byte[] raw,
                int rawLen,
                int[] lines,
                int lineInts,
                int dataLines,
                byte[] data,
                int dataOff,
                int dataLen,
                List<Edit> edits) {
            this.raw = raw;
            this.rawLen = rawLen;
            this.lines = lines;
            this.lineInts = lineInts;
            this.dataLines = dataLines;
            this.data = data;
            this.dataOff = dataOff;
            this.dataLen = dataLen;
            this.edits = edits;
        }

        /** Stops borrowing: the event keeps its own copy of its bytes and lines (arrays from {@code arrays}). */
        void keep(WaitingArrays arrays) {
            if (!borrowed) {
                return;
            }
            byte[] own = arrays.bytes(rawLen);
            System.arraycopy(raw, 0, own, 0, rawLen);
            if (data == raw) {
                data = own;
            }
            raw = own;
            int[] ownLines = arrays.ints(lineInts);
            System.arraycopy(lines, 0, ownLines, 0, lineInts);
            lines = ownLines;
            borrowed = false;
        }

        /** The event was written: its own arrays (if it took any) go back for the next event that waits. */
        void release(WaitingArrays arrays) {
            if (!borrowed) {
                arrays.give(raw);
                arrays.give(lines);
                raw = null;
                lines = null;
                data = null;
            }
        }

        boolean complete() {
            for (int k = 0; k < edits.size(); k++) {
                Slot s = edits.get(k).slot();
                if (s != null && !s.complete) {
                    return false;
                }
            }
            return true;
        }
    }

    private final class ChoiceStream implements ScanOutput {
        final String key;
        final String location;
        final StreamScanner scanner;
        final Deque<Slot> open = new ArrayDeque<>();
        long fed;
        long emitted;

        ChoiceStream(String key) {
            this.key = key;
            this.location = "sse:" + key;
            this.scanner = new StreamScanner(rules, hasher, this);
        }

        Slot add(byte[] text, int off, int len, int rawStart, int rawEnd, Queued event) {
            Slot s = new Slot(fed, fed + len, rawStart, rawEnd, event);
            fed += len;
            if (len == 0) {
                s.complete = true;
            } else {
                open.addLast(s);
                scanner.feed(text, off, len);
            }
            return s;
        }

        @Override
        public void pass(byte[] bytes, int off, int len) {
            while (len > 0) {
                Slot s = open.peekFirst();
                int take = (int) Math.min(len, s.b - emitted);
                if (s.text != null) {
                    s.text.write(bytes, off, take);
                } else {
                    s.passed += take;
                }
                off += take;
                len -= take;
                emitted += take;
                if (emitted == s.b) {
                    s.complete = true;
                    open.removeFirst();
                }
            }
        }

        @Override
        public void replace(Finding f, byte[] replacement) {
            listener.onFinding(f, location);
            Slot first = open.peekFirst();
            first.change();
            first.text.write(replacement);
            emitted = f.end();
            while (!open.isEmpty() && open.peekFirst().b <= emitted) {
                Slot s = open.removeFirst();
                s.change();
                s.complete = true;
            }
            if (!open.isEmpty() && open.peekFirst().a < emitted) {
                open.peekFirst().change();
            }
        }

        @Override
        public void block(Finding f) {
            listener.onFinding(f, location);
            if (blocked == null) {
                blocked = f;
            }
        }

        @Override
        public void alert(Finding f) {
            listener.onFinding(f, location);
        }
    }

    /** Gathers what a text scanned on its own becomes, and its findings, for the next {@link #scanAlone}. */
    private static final class AloneOutput implements ScanOutput {
        final ByteSink bytes = new ByteSink();
        final List<Finding> findings = new ArrayList<>();
        Finding block;

        void clear() {
            bytes.reset();
            findings.clear();
            block = null;
        }

        @Override
        public void pass(byte[] b, int off, int len) {
            bytes.write(b, off, len);
        }

        @Override
        public void replace(Finding finding, byte[] replacement) {
            findings.add(finding);
            bytes.write(replacement);
        }

        @Override
        public void block(Finding finding) {
            findings.add(finding);
            block = finding;
        }

        @Override
        public void alert(Finding finding) {
            findings.add(finding);
        }
    }

    public SseTransformer(ScanRules rules, ValueHasher hasher, ByteSink out, FindingListener listener) {
        this(rules, hasher, out, listener, false, true);
    }

    /**
     * JSON lines ({@code application/x-ndjson}, as Ollama streams): every line is one event whose data is the whole
     * line, with the same token-stream reassembly.
     */
    public static SseTransformer jsonLines(
            ScanRules rules, ValueHasher hasher, ByteSink out, FindingListener listener) {
        return new SseTransformer(rules, hasher, out, listener, true, true);
    }

    /** The reference the tests hold the shape reuse to: every event tokenised, every value scanned. */
    static SseTransformer withoutShapeReuse(
            ScanRules rules, ValueHasher hasher, ByteSink out, FindingListener listener, boolean jsonLines) {
        return new SseTransformer(rules, hasher, out, listener, jsonLines, false);
    }

    private SseTransformer(
            ScanRules rules,
            ValueHasher hasher,
            ByteSink out,
            FindingListener listener,
            boolean jsonLines,
            boolean reuseShapes) {
        this.jsonLines = jsonLines;
        this.reuseShapes = reuseShapes;
        this.rules = rules;
        this.hasher = hasher;
        this.out = out;
        this.listener = listener;
        this.jwk = rules.valueRule(BuiltinDetector.PRIVATE_KEY).orElse(null);
    }

    /** The event that ends a stream meshguard blocked after it started. */
    public static byte[] errorEvent(String message) {
        String json = "{\"error\":{\"type\":\"dlp_blocked\",\"code\":\"dlp_blocked\",\"message\":"
                + JsonText.quote(message) + "}}";
        return ("event: error\ndata: " + json + "\n\n").getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void write(byte[] b, int off, int len) {
        try {
            writeBytes(b, off, len);
        } finally {
            // Scratch of one event, reset before each use: between messages a held stream keeps none of it.
            decoded.release();
            rewrite.release();
            alone.bytes.release();
            if (current.size() == 0) {
                current.release();
            }
        }
    }

    private void writeBytes(byte[] b, int off, int len) {
        int end = off + len;
        int i = off;
        while (i < end && blocked == null) {
            if (fallback != null) {
                fallback.write(b, i, end - i);
                blocked = fallback.blockedBy().orElse(null);
                return;
            }
            if (!started || afterCr) {
                accept(b[i++]);
                continue;
            }
            // A run of bytes inside a line goes in at once; only line ends need a decision.
            int j = Simd.lineEnd(b, i, end);
            if (j > i) {
                int overflowAt = Math.max(1, MAX_EVENT + 1 - current.size());
                if (j - i >= overflowAt) {
                    current.write(b, i, overflowAt);
                    i += overflowAt;
                    toFallback();
                    continue;
                }
                current.write(b, i, j - i);
                i = j;
            }
            if (i < end) {
                accept(b[i++]);
            }
        }
    }

    private void accept(byte c) {
        if (bomSeen < 3 && !started) {
            // A leading UTF-8 BOM is copied as it is and is not part of the first field name (WHATWG).
            if (c == BOM[bomSeen]) {
                current.write(c);
                if (++bomSeen == 3) {
                    out.write(current.array(), 0, current.size());
                    current.reset();
                    started = true;
                }
                return;
            }
            started = true;
        }
        started = true;
        if (afterCr) {
            afterCr = false;
            if (c == '\n') {
                current.write(c);
                endLine(current.size() - 2, current.size());
                return;
            }
            endLine(current.size() - 1, current.size());
        }
        current.write(c);
        if (c == '\r') {
            afterCr = true;
        } else if (c == '\n') {
            endLine(current.size() - 1, current.size());
        } else if (current.size() > MAX_EVENT) {
            toFallback();
        }
    }

    private void endLine(int contentEnd, int end) {
        if (contentEnd == lineStart) {
            dispatch();
            return;
        }
        if (lineCount * 3 + 3 > lines.length) {
            lines = Arrays.copyOf(lines, lines.length * 2);
        }
        lines[lineCount * 3] = lineStart;
        lines[lineCount * 3 + 1] = contentEnd;
        lines[lineCount * 3 + 2] = end;
        lineCount++;
        lineStart = end;
        if (jsonLines) {
            dispatch();
        }
    }

    private void dispatch() {
        // The event is read where it was assembled; nothing writes to those buffers until this returns, and an
        // event that still waits then takes its own copy.
        byte[] raw = current.array();
        int rawLen = current.size();
        int[] ls = lines;
        int lineInts = lineCount * 3;
        current.reset();
        lineCount = 0;
        lineStart = 0;
        Queued q = dispatch(raw, rawLen, ls, lineInts);
        if (!q.written) {
            q.keep(waiting);
        }
    }

    private Queued dispatch(byte[] raw, int rawLen, int[] ls, int lineInts) {
        int dataLines = 0;
        int firstValue = -1;
        int firstEnd = -1;
        for (int k = 0; k < lineInts; k += 3) {
            int valueStart = dataValueStart(raw, ls[k], ls[k + 1]);
            if (valueStart >= 0) {
                if (dataLines++ == 0) {
                    firstValue = valueStart;
                    firstEnd = ls[k + 1];
                }
            }
        }
        if (dataLines == 0) {
            return enqueue(new Queued(raw, rawLen, ls, lineInts, 0, null, 0, 0, List.of()));
        }
        byte[] d;
        int dOff;
        int dLen;
        if (dataLines == 1) {
            d = raw; // the value is read where it lies in the event
            dOff = firstValue;
            dLen = firstEnd - firstValue;
        } else {
            ByteSink joined = new ByteSink(rawLen);
            int seen = 0;
            for (int k = 0; k < lineInts; k += 3) {
                int valueStart = dataValueStart(raw, ls[k], ls[k + 1]);
                if (valueStart >= 0) {
                    if (seen++ > 0) {
                        joined.write('\n');
                    }
                    joined.write(raw, valueStart, ls[k + 1] - valueStart);
                }
            }
            d = joined.drain();
            dOff = 0;
            dLen = d.length;
        }
        if (isDone(d, dOff, dLen)) {
            finishStreams();
            return enqueue(new Queued(raw, rawLen, ls, lineInts, dataLines, null, 0, 0, List.of()));
        }
        // Most events repeat the previous one's JSON with only the token text different: compared with it, such an
        // event needs neither the tokeniser nor a new reading of its shape (JsonTokens.readLike says when).
        int like = reuseShapes ? tokens.readLike(d, dOff, dOff + dLen) : JsonTokens.UNLIKE;
        if (like == JsonTokens.UNLIKE) {
            if (!tokens.read(d, dOff, dOff + dLen)) {
                List<Edit> edits = scanAlone(d, dOff, dLen, "sse:data", null)
                        ? List.of(new Edit(0, dLen, null, Arrays.copyOf(alone.bytes.array(), alone.bytes.size())))
                        : List.of();
                return enqueue(new Queued(raw, rawLen, ls, lineInts, dataLines, d, dOff, dLen, edits));
            }
            deltas.read(d, tokens.scalars());
        } else if (like >= 0
                && TokenDeltas.readsString(tokens.scalars().get(like).path())) {
            // The one string that changed is one the shape depends on (an event's type).
            deltas.read(d, tokens.scalars());
        }
        List<JsonTokens.Scalar> scalars = tokens.scalars();
        if (quiet.length < scalars.size()) {
            quiet = new boolean[Math.max(scalars.size(), quiet.length * 2)];
        }
        List<Edit> edits = new ArrayList<>(4);
        int feedCount = 0;
        if (jwk != null && like == JsonTokens.UNLIKE) {
            jwkShaped = JwkDocuments.mayHavePrivateMembers(scalars); // paths and kinds: kept while readLike answers
        }
        boolean[] jwkPrivate = jwk == null || !jwkShaped ? null : JwkDocuments.privateMembers(d, scalars);
        for (int k = 0; k < scalars.size(); k++) {
            JsonTokens.Scalar s = scalars.get(k);
            if (jwkPrivate != null && jwkPrivate[k]) {
                quiet[k] = false;
                jwkMember(d, dOff, s, edits);
                continue;
            }
            if (s.string() && deltas.keyOf(k) != null) {
                // A piece of a token stream is fed every time, repeated or not (and an event's new type can make a
                // string that was a value of its own last time such a piece).
                quiet[k] = false;
                if (feedCount == feeds.length) {
                    feeds = Arrays.copyOf(feeds, feedCount * 2);
                }
                feeds[feedCount++] = k;
                continue;
            }
            if (like != JsonTokens.UNLIKE && k != like && quiet[k]) {
                // The same bytes at the same path as in the last event, whose scan of them on its own found nothing
                // and changed nothing: such a scan depends on nothing else (see scanAlone), so it would again.
                continue;
            }
            if (!s.string()) {
                quiet[k] = !scanNumber(d, dOff, s, edits);
                continue;
            }
            byte[] value = d;
            int vOff = s.start();
            int vLen = s.end() - s.start();
            if (hasEscape(d, s.start(), s.end())) {
                decoded.reset();
                JsonStrings.decodeInto(d, s.start(), s.end(), decoded);
                value = decoded.array();
                vOff = 0;
                vLen = decoded.size();
            }
            boolean changed = scanAlone(value, vOff, vLen, null, s.path());
            if (changed) {
                ByteSink esc = new ByteSink(alone.bytes.size() + 16);
                JsonEscapes.escape(alone.bytes.array(), 0, alone.bytes.size(), esc);
                edits.add(new Edit(s.start() - dOff, s.end() - dOff, null, esc.drain()));
            }
            quiet[k] = !changed && alone.findings.isEmpty() && alone.block == null;
        }
        Queued q = new Queued(raw, rawLen, ls, lineInts, dataLines, d, dOff, dLen, edits);
        queue.addLast(q);
        for (int f = 0; f < feedCount; f++) {
            JsonTokens.Scalar s = scalars.get(feeds[f]);
            // computeIfAbsent per piece: the map's iteration order (which stream is finished first at [DONE])
            // depends on when entries are linked, and stays what it always was.
            ChoiceStream cs = streams.computeIfAbsent(deltas.keyOf(feeds[f]), ChoiceStream::new);
            int rawStart = s.start() - dOff;
            int rawEnd = s.end() - dOff;
            Slot slot;
            if (hasEscape(d, s.start(), s.end())) {
                decoded.reset();
                JsonStrings.decodeInto(d, s.start(), s.end(), decoded);
                slot = cs.add(decoded.array(), 0, decoded.size(), rawStart, rawEnd, q);
            } else {
                slot = cs.add(d, s.start(), s.end() - s.start(), rawStart, rawEnd, q);
            }
            edits.add(new Edit(rawStart, rawEnd, slot, null));
        }
        edits.sort(BY_START);
        List<String> ended = deltas.endedPrefixes();
        for (int k = 0; k < ended.size() && !streams.isEmpty(); k++) {
            for (ChoiceStream cs : new ArrayList<>(streams.values())) {
                if (cs.key.startsWith(ended.get(k))) {
                    cs.scanner.finish();
                    streams.remove(cs.key);
                }
            }
        }
        drain();
        return q;
    }

    /** A JWK private member: one finding of the private_key detector over the whole value. */
    private void jwkMember(byte[] d, int dOff, JsonTokens.Scalar s, List<Edit> edits) {
        byte[] v = JsonStrings.decodeBytes(d, s.start(), s.end());
        Optional<Finding> f = jwk.finding(v, 0, v.length, 1.0, hasher);
        if (f.isEmpty()) {
            return;
        }
        listener.onFinding(f.get(), "sse:" + pointer(s.path()));
        if (f.get().action() == ActionKind.BLOCK) {
            if (blocked == null) {
                blocked = f.get();
            }
        } else if (f.get().action() != ActionKind.ALERT) {
            ByteSink esc = new ByteSink(64);
            JsonEscapes.escape(jwk.replacement(v, 0, v.length, f.get()), esc);
            edits.add(new Edit(s.start() - dOff, s.end() - dOff, null, esc.drain()));
        }
    }

    /** The key a value at {@code path} is under: its member, or the member its array is the value of; else empty. */
    private static String valueKey(Object[] path) {
        if (path == null || path.length == 0) {
            return "";
        }
        if (path[path.length - 1] instanceof String k) {
            return k;
        }
        return path.length >= 2 && path[path.length - 2] instanceof String k ? k : "";
    }

    /** Whether {@code key} gives any rule context; remembered for the few keys a stream repeats. */
    private boolean keyed(String key) {
        if (key.isEmpty()) {
            return false;
        }
        Boolean known = keyIsContext.get(key);
        if (known == null) {
            if (keyIsContext.size() >= 256) {
                keyIsContext.clear();
            }
            known = rules.keyIsContext(key);
            keyIsContext.put(key, known);
        }
        return known;
    }

    private static boolean hasEscape(byte[] d, int from, int to) {
        for (int k = from; k < to; k++) {
            if (d[k] == '\\') {
                return true;
            }
        }
        return false;
    }

    /** True when the data, without surrounding whitespace and control characters, is {@code [DONE]}. */
    private static boolean isDone(byte[] d, int off, int len) {
        int s = off;
        int e = off + len;
        while (s < e && (d[s] & 0xff) <= ' ') {
            s++;
        }
        while (e > s && (d[e - 1] & 0xff) <= ' ') {
            e--;
        }
        return Arrays.equals(d, s, e, DONE, 0, DONE.length);
    }

    /**
     * A number is scanned as its digits (a card number sent as a JSON number); with a finding it becomes a string, as
     * in {@link JsonTransformer}: a masked card number is not a number.
     *
     * @return true when the scan changed the number or found anything in it
     */
    private boolean scanNumber(byte[] d, int dOff, JsonTokens.Scalar s, List<Edit> edits) {
        int len = s.end() - s.start();
        byte first = d[s.start()];
        if (!(first == '-' || (first >= '0' && first <= '9')) || !rules.mayFindNumber(d, s.start(), len)) {
            return false; // a literal, or digits no recognizer could report
        }
        if (scanAlone(d, s.start(), len, null, s.path())) {
            ByteSink quoted = new ByteSink(alone.bytes.size() + 18);
            JsonEscapes.quote(alone.bytes.array(), 0, alone.bytes.size(), quoted);
            edits.add(new Edit(s.start() - dOff, s.end() - dOff, null, quoted.drain()));
            return true;
        }
        return !alone.findings.isEmpty() || alone.block != null;
    }

    private static String pointer(Object[] p) {
        StringBuilder sb = new StringBuilder();
        for (Object o : p) {
            String k = o.toString();
            sb.append('/').append(o instanceof Integer || Locations.safeName(k) ? k : "*");
        }
        return sb.toString();
    }

    private int dataValueStart(byte[] raw, int s, int e) {
        if (jsonLines) {
            return s;
        }
        if (e - s < 4 || raw[s] != 'd' || raw[s + 1] != 'a' || raw[s + 2] != 't' || raw[s + 3] != 'a') {
            return -1;
        }
        if (e - s == 4) {
            return e;
        }
        if (raw[s + 4] != ':') {
            return -1;
        }
        return s + 5 < e && raw[s + 5] == ' ' ? s + 6 : s + 5;
    }

    /**
     * Scans a text on its own; what it becomes is left in {@code alone.bytes}. The location is {@code location}, or
     * {@code "sse:"} and the JSON pointer of {@code path}, spelled out only when there are findings.
     *
     * @return true when the text changed
     */
    private boolean scanAlone(byte[] b, int off, int len, String location, Object[] path) {
        alone.clear();
        // A value whose key gives context is scanned with it, and is never taken from or put into the clean
        // texts (the same text may be clean under another key).
        String key = valueKey(path);
        boolean keyed = keyed(key);
        if (!keyed && len <= MAX_CLEAN && seenClean(b, off, len)) {
            alone.bytes.write(b, off, len);
            return false;
        }
        if (oneShot == null) {
            oneShot = new StreamScanner(rules, hasher, alone);
        }
        oneShot.reset();
        if (keyed) {
            oneShot.context(key);
        }
        oneShot.feedAll(b, off, len);
        boolean changed = !alone.bytes.contentEquals(b, off, len);
        if (!keyed && !changed && alone.findings.isEmpty() && alone.block == null && len <= MAX_CLEAN) {
            clean[cleanNext] = Arrays.copyOfRange(b, off, off + len);
            cleanNext = (cleanNext + 1) % clean.length;
        }
        if (!alone.findings.isEmpty()) {
            String where = location != null ? location : "sse:" + pointer(path);
            for (int k = 0; k < alone.findings.size(); k++) {
                listener.onFinding(alone.findings.get(k), where);
            }
        }
        if (alone.block != null && blocked == null) {
            blocked = alone.block;
        }
        return changed;
    }

    private boolean seenClean(byte[] b, int off, int len) {
        for (byte[] c : clean) {
            if (c != null && c.length == len && Arrays.equals(c, 0, len, b, off, off + len)) {
                return true;
            }
        }
        return false;
    }

    private Queued enqueue(Queued q) {
        queue.addLast(q);
        drain();
        return q;
    }

    private void drain() {
        while (blocked == null && !queue.isEmpty() && queue.peekFirst().complete()) {
            writeEvent(queue.removeFirst());
        }
    }

    private void writeEvent(Queued q) {
        q.written = true;
        writeEventBytes(q);
        q.release(waiting);
    }

    private void writeEventBytes(Queued q) {
        boolean changed = false;
        for (int k = 0; k < q.edits.size(); k++) {
            Edit e = q.edits.get(k);
            changed |= e.slot() == null || e.slot().changed;
        }
        if (!changed) {
            out.write(q.raw, 0, q.rawLen);
            return;
        }
        ByteSink data = rewrite;
        data.reset();
        int at = 0;
        for (int k = 0; k < q.edits.size(); k++) {
            Edit e = q.edits.get(k);
            if (e.slot() != null && !e.slot().changed) {
                continue;
            }
            data.write(q.data, q.dataOff + at, e.rawStart() - at);
            if (e.slot() != null) {
                ByteSink text = e.slot().text;
                if (text != null) {
                    JsonEscapes.escape(text.array(), 0, text.size(), data);
                }
            } else {
                data.write(e.bytes());
            }
            at = e.rawEnd();
        }
        data.write(q.data, q.dataOff + at, q.dataLen - at);
        byte[] d = data.array();
        int dLen = data.size();
        // The rewritten data, line by line ({start, end} pairs).
        int[] parts = new int[8];
        int partCount = 0;
        int s = 0;
        for (int k = 0; k <= dLen; k++) {
            if (k == dLen || d[k] == '\n') {
                if (partCount * 2 + 2 > parts.length) {
                    parts = Arrays.copyOf(parts, parts.length * 2);
                }
                parts[partCount * 2] = s;
                parts[partCount * 2 + 1] = k;
                partCount++;
                s = k + 1;
            }
        }
        int part = 0;
        boolean sawData = false;
        int[] ls = q.lines;
        for (int l = 0; l < q.lineInts; l += 3) {
            int vs = dataValueStart(q.raw, ls[l], ls[l + 1]);
            if (vs < 0) {
                out.write(q.raw, ls[l], ls[l + 2] - ls[l]);
                continue;
            }
            sawData = true;
            if (part < partCount) {
                int p = part++;
                out.write(q.raw, ls[l], vs - ls[l]);
                out.write(d, parts[p * 2], parts[p * 2 + 1] - parts[p * 2]);
                out.write(q.raw, ls[l + 1], ls[l + 2] - ls[l + 1]);
                if (part == q.dataLines) {
                    while (part < partCount) { // more lines than before: same prefix and line end
                        int x = part++;
                        out.write(q.raw, ls[l], vs - ls[l]);
                        out.write(d, parts[x * 2], parts[x * 2 + 1] - parts[x * 2]);
                        out.write(q.raw, ls[l + 1], ls[l + 2] - ls[l + 1]);
                    }
                }
            }
        }
        if (!sawData) {
            out.write(d, 0, dLen);
        }
        int tail = q.lineInts == 0 ? 0 : ls[q.lineInts - 1];
        out.write(q.raw, tail, q.rawLen - tail); // the blank line that ended the event
        for (int k = 0; k < q.edits.size(); k++) {
            Slot slot = q.edits.get(k).slot();
            if (slot != null && slot.text != null) {
                slot.text = null; // written: the text is not needed again
            }
        }
    }

    private void finishStreams() {
        if (!streams.isEmpty()) {
            for (ChoiceStream cs : new ArrayList<>(streams.values())) {
                cs.scanner.finish();
            }
            streams.clear();
        }
        drain();
    }

    private void toFallback() {
        finishStreams();
        fallback = new TextTransformer(rules, hasher, out, listener, "sse:oversized-event");
        byte[] pending = Arrays.copyOf(current.array(), current.size());
        current.reset();
        lineCount = 0;
        lineStart = 0;
        fallback.write(pending, 0, pending.length);
        blocked = fallback.blockedBy().orElse(null);
    }

    @Override
    public void finish() {
        if (blocked != null) {
            return;
        }
        if (fallback != null) {
            fallback.finish();
            blocked = fallback.blockedBy().orElse(null);
            return;
        }
        if (afterCr) {
            afterCr = false;
            endLine(current.size() - 1, current.size());
        }
        if (jsonLines && current.size() > lineStart) {
            endLine(current.size(), current.size()); // a last line needs no line end
        }
        finishStreams();
        if (current.size() > 0 && blocked == null) {
            // An event cut off by the end of the stream: clients drop it, but its bytes still pass scanned.
            byte[] rest = Arrays.copyOf(current.array(), current.size());
            current.reset();
            scanAlone(rest, 0, rest.length, "sse:incomplete-event", null);
            if (blocked == null) {
                out.write(alone.bytes.array(), 0, alone.bytes.size());
            }
        }
    }

    @Override
    public Optional<Finding> blockedBy() {
        return Optional.ofNullable(blocked);
    }

    @Override
    public long heldBack() {
        long held = current.size();
        for (Queued q : queue) {
            held += q.rawLen;
        }
        return held;
    }
}
