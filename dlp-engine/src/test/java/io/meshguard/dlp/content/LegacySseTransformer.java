package io.meshguard.dlp.content;

import io.meshguard.dlp.scan.CollectingOutput;
import io.meshguard.dlp.scan.Finding;
import io.meshguard.dlp.scan.ScanOutput;
import io.meshguard.dlp.scan.ScanRules;
import io.meshguard.dlp.scan.StreamScanner;
import io.meshguard.dlp.scan.ValueHasher;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The SSE transformer as it was before the allocation-light rewrite (kept verbatim as the reference the
 * equivalence tests compare {@link SseTransformer} with: same output bytes, same findings and locations, same
 * block, at every chunking).
 */
final class LegacySseTransformer implements BodyTransformer {
    /** Events larger than this are not held: the rest of the stream is scanned as plain text. */
    static final int MAX_EVENT = 1 << 20;

    private final ScanRules rules;
    private final ValueHasher hasher;
    private final ByteSink out;
    private final FindingListener listener;

    private final ByteSink event = new ByteSink();
    private byte[] eventBytes = new byte[0];
    private final List<int[]> lines = new ArrayList<>(); // {start, contentEnd, end}
    private final ByteSink current = new ByteSink(); // raw bytes of the event being assembled
    private int lineStart;
    private boolean afterCr;
    private boolean started;
    private int bomSeen;
    private static final byte[] BOM = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};

    private final Deque<Queued> queue = new ArrayDeque<>();
    private final Map<String, ChoiceStream> streams = new HashMap<>();
    private final StreamScanner oneShot;
    private final CollectingOutput oneShotOut = new CollectingOutput();
    private TextTransformer fallback;
    private Finding blocked;

    private static final class Slot {
        final long a;
        final long b;
        final int rawStart;
        final int rawEnd;
        final ByteSink text = new ByteSink();
        boolean changed;
        boolean complete;

        Slot(long a, long b, int rawStart, int rawEnd) {
            this.a = a;
            this.b = b;
            this.rawStart = rawStart;
            this.rawEnd = rawEnd;
        }
    }

    /** A substitution of a string's contents inside an event's data. */
    private record Edit(int rawStart, int rawEnd, Slot slot, byte[] bytes) {}

    private static final class Queued {
        final byte[] raw;
        final List<int[]> lines;
        final byte[] data;
        final List<Edit> edits;

        Queued(byte[] raw, List<int[]> lines, byte[] data, List<Edit> edits) {
            this.raw = raw;
            this.lines = lines;
            this.data = data;
            this.edits = edits;
        }

        boolean complete() {
            for (Edit e : edits) {
                if (e.slot() != null && !e.slot().complete) {
                    return false;
                }
            }
            return true;
        }
    }

    private final class ChoiceStream implements ScanOutput {
        final String key;
        final StreamScanner scanner;
        final Deque<Slot> open = new ArrayDeque<>();
        long fed;
        long emitted;

        ChoiceStream(String key) {
            this.key = key;
            this.scanner = new StreamScanner(rules, hasher, this);
        }

        Slot add(byte[] text, int rawStart, int rawEnd) {
            Slot s = new Slot(fed, fed + text.length, rawStart, rawEnd);
            fed += text.length;
            if (text.length == 0) {
                s.complete = true;
            } else {
                open.addLast(s);
                scanner.feed(text, 0, text.length);
            }
            return s;
        }

        @Override
        public void pass(byte[] bytes, int off, int len) {
            while (len > 0) {
                Slot s = open.peekFirst();
                int take = (int) Math.min(len, s.b - emitted);
                s.text.write(bytes, off, take);
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
            listener.onFinding(f, "sse:" + key);
            Slot first = open.peekFirst();
            first.text.write(replacement);
            first.changed = true;
            emitted = f.end();
            while (!open.isEmpty() && open.peekFirst().b <= emitted) {
                Slot s = open.removeFirst();
                s.changed = true;
                s.complete = true;
            }
            if (!open.isEmpty() && open.peekFirst().a < emitted) {
                open.peekFirst().changed = true;
            }
        }

        @Override
        public void block(Finding f) {
            listener.onFinding(f, "sse:" + key);
            if (blocked == null) {
                blocked = f;
            }
        }

        @Override
        public void alert(Finding f) {
            listener.onFinding(f, "sse:" + key);
        }
    }

    LegacySseTransformer(ScanRules rules, ValueHasher hasher, ByteSink out, FindingListener listener) {
        this.rules = rules;
        this.hasher = hasher;
        this.out = out;
        this.listener = listener;
        this.oneShot = new StreamScanner(rules, hasher, oneShotOut);
    }

    /** The event that ends a stream meshguard blocked after it started. */
    public static byte[] errorEvent(String message) {
        String json = "{\"error\":{\"type\":\"dlp_blocked\",\"code\":\"dlp_blocked\",\"message\":"
                + JsonText.quote(message) + "}}";
        return ("event: error\ndata: " + json + "\n\n").getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void write(byte[] b, int off, int len) {
        for (int i = off; i < off + len && blocked == null; i++) {
            if (fallback != null) {
                fallback.write(b, i, off + len - i);
                blocked = fallback.blockedBy().orElse(null);
                return;
            }
            accept(b[i]);
        }
    }

    private void accept(byte c) {
        if (bomSeen < 3 && !started) {
            // A leading UTF-8 BOM is copied as it is and is not part of the first field name (WHATWG).
            if (c == BOM[bomSeen]) {
                current.write(c);
                if (++bomSeen == 3) {
                    out.write(current.drain());
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
        lines.add(new int[] {lineStart, contentEnd, end});
        lineStart = end;
    }

    private void dispatch() {
        byte[] raw = current.drain();
        List<int[]> ls = new ArrayList<>(lines);
        lines.clear();
        lineStart = 0;
        ByteSink data = new ByteSink();
        int dataLines = 0;
        for (int[] l : ls) {
            int valueStart = dataValueStart(raw, l);
            if (valueStart >= 0) {
                if (dataLines++ > 0) {
                    data.write('\n');
                }
                data.write(raw, valueStart, l[1] - valueStart);
            }
        }
        if (dataLines == 0) {
            enqueue(new Queued(raw, ls, null, List.of()));
            return;
        }
        byte[] d = data.drain();
        if (new String(d, StandardCharsets.UTF_8).trim().equals("[DONE]")) {
            finishStreams();
            enqueue(new Queued(raw, ls, null, List.of()));
            return;
        }
        List<LegacyJsonTokens.Scalar> scalars = LegacyJsonTokens.read(d, d.length);
        if (scalars == null) {
            byte[] rewritten = scanAlone(d, 0, d.length, "sse:data");
            List<Edit> edits =
                    java.util.Arrays.equals(rewritten, d) ? List.of() : List.of(new Edit(0, d.length, null, rewritten));
            enqueue(new Queued(raw, ls, d, edits));
            return;
        }
        Map<Integer, Integer> choiceIndex = new HashMap<>();
        Map<String, Integer> toolIndex = new HashMap<>();
        for (LegacyJsonTokens.Scalar s : scalars) {
            List<Object> p = s.path();
            if (!s.string() && p.size() == 3 && "choices".equals(p.get(0)) && "index".equals(p.get(2))) {
                choiceIndex.put((Integer) p.get(1), parseInt(d, s));
            }
            if (!s.string()
                    && p.size() == 6
                    && "choices".equals(p.get(0))
                    && "tool_calls".equals(p.get(3))
                    && "index".equals(p.get(5))) {
                toolIndex.put(p.get(1) + "/" + p.get(4), parseInt(d, s));
            }
        }
        List<Edit> edits = new ArrayList<>();
        List<String> finished = new ArrayList<>();
        List<Object[]> feeds = new ArrayList<>();
        for (LegacyJsonTokens.Scalar s : scalars) {
            if (!s.string()) {
                continue;
            }
            List<Object> p = s.path();
            String key = streamKey(p, choiceIndex, toolIndex);
            if (key != null) {
                feeds.add(new Object[] {key, s});
                continue;
            }
            if (p.size() == 3 && "choices".equals(p.get(0)) && "finish_reason".equals(p.get(2))) {
                finished.add("choice[" + choiceIndex.getOrDefault((Integer) p.get(1), (Integer) p.get(1)) + "].");
            }
            byte[] value = JsonStrings.decodeBytes(d, s.start(), s.end());
            byte[] rewritten = scanAlone(value, 0, value.length, "sse:" + pointer(p));
            if (!java.util.Arrays.equals(rewritten, value)) {
                ByteSink esc = new ByteSink();
                JsonEscapes.escape(rewritten, esc);
                edits.add(new Edit(s.start(), s.end(), null, esc.drain()));
            }
        }
        Queued q = new Queued(raw, ls, d, edits);
        queue.addLast(q);
        for (Object[] f : feeds) {
            String key = (String) f[0];
            LegacyJsonTokens.Scalar s = (LegacyJsonTokens.Scalar) f[1];
            ChoiceStream cs = streams.computeIfAbsent(key, ChoiceStream::new);
            Slot slot = cs.add(JsonStrings.decodeBytes(d, s.start(), s.end()), s.start(), s.end());
            edits.add(new Edit(s.start(), s.end(), slot, null));
        }
        edits.sort(Comparator.comparingInt(Edit::rawStart));
        for (String prefix : finished) {
            for (ChoiceStream cs : new ArrayList<>(streams.values())) {
                if (cs.key.startsWith(prefix)) {
                    cs.scanner.finish();
                    streams.remove(cs.key);
                }
            }
        }
        drain();
    }

    private static int parseInt(byte[] d, LegacyJsonTokens.Scalar s) {
        try {
            return Integer.parseInt(new String(d, s.start(), s.end() - s.start(), StandardCharsets.US_ASCII));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** The stream a string belongs to, or null when it is scanned on its own. */
    private static String streamKey(List<Object> p, Map<Integer, Integer> choiceIndex, Map<String, Integer> toolIndex) {
        if (p.size() < 3 || !"choices".equals(p.get(0)) || !(p.get(1) instanceof Integer pos)) {
            return null;
        }
        String choice = "choice[" + choiceIndex.getOrDefault(pos, pos) + "]";
        if (p.size() == 3 && "text".equals(p.get(2))) {
            return choice + ".text";
        }
        if (p.size() == 4 && "delta".equals(p.get(2))) {
            Object f = p.get(3);
            if ("content".equals(f) || "reasoning_content".equals(f) || "reasoning".equals(f) || "refusal".equals(f)) {
                return choice + "." + f;
            }
        }
        if (p.size() == 7
                && "delta".equals(p.get(2))
                && "tool_calls".equals(p.get(3))
                && p.get(4) instanceof Integer tpos
                && "function".equals(p.get(5))
                && "arguments".equals(p.get(6))) {
            return choice + ".tool[" + toolIndex.getOrDefault(pos + "/" + tpos, tpos) + "].arguments";
        }
        return null;
    }

    private static String pointer(List<Object> p) {
        StringBuilder sb = new StringBuilder();
        for (Object o : p) {
            String k = o.toString();
            sb.append('/').append(o instanceof Integer || Locations.safeName(k) ? k : "*");
        }
        return sb.toString();
    }

    private static int dataValueStart(byte[] raw, int[] l) {
        int s = l[0];
        int e = l[1];
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

    private byte[] scanAlone(byte[] b, int off, int len, String location) {
        oneShot.reset();
        oneShotOut.drain();
        int before = oneShotOut.findings().size();
        oneShot.feedAll(b, off, len);
        List<Finding> found = oneShotOut.findings();
        for (int k = before; k < found.size(); k++) {
            listener.onFinding(found.get(k), location);
        }
        if (oneShotOut.blockedBy().isPresent() && blocked == null) {
            blocked = oneShotOut.blockedBy().get();
        }
        return oneShotOut.drain();
    }

    private void enqueue(Queued q) {
        queue.addLast(q);
        drain();
    }

    private void drain() {
        while (blocked == null && !queue.isEmpty() && queue.peekFirst().complete()) {
            writeEvent(queue.removeFirst());
        }
    }

    private void writeEvent(Queued q) {
        boolean changed = false;
        for (Edit e : q.edits) {
            changed |= e.slot() == null || e.slot().changed;
        }
        if (!changed) {
            out.write(q.raw);
            return;
        }
        ByteSink data = new ByteSink();
        int at = 0;
        for (Edit e : q.edits) {
            if (e.slot() != null && !e.slot().changed) {
                continue;
            }
            data.write(q.data, at, e.rawStart() - at);
            if (e.slot() != null) {
                JsonEscapes.escape(e.slot().text.drain(), data);
            } else {
                data.write(e.bytes());
            }
            at = e.rawEnd();
        }
        data.write(q.data, at, q.data.length - at);
        byte[] d = data.drain();
        List<int[]> parts = new ArrayList<>();
        int s = 0;
        for (int k = 0; k <= d.length; k++) {
            if (k == d.length || d[k] == '\n') {
                parts.add(new int[] {s, k});
                s = k + 1;
            }
        }
        int part = 0;
        int[] lastData = null;
        for (int[] l : q.lines) {
            int vs = dataValueStart(q.raw, l);
            if (vs < 0) {
                out.write(q.raw, l[0], l[2] - l[0]);
                continue;
            }
            lastData = l;
            if (part < parts.size()) {
                int[] p = parts.get(part++);
                out.write(q.raw, l[0], vs - l[0]);
                out.write(d, p[0], p[1] - p[0]);
                out.write(q.raw, l[1], l[2] - l[1]);
                if (part
                        == q.lines.stream()
                                .filter(x -> dataValueStart(q.raw, x) >= 0)
                                .count()) {
                    while (part < parts.size()) { // more lines than before: same prefix and line end
                        int[] extra = parts.get(part++);
                        out.write(q.raw, l[0], vs - l[0]);
                        out.write(d, extra[0], extra[1] - extra[0]);
                        out.write(q.raw, l[1], l[2] - l[1]);
                    }
                }
            }
        }
        if (lastData == null) {
            out.write(d);
        }
        int[] last = q.lines.isEmpty() ? null : q.lines.get(q.lines.size() - 1);
        int tail = last == null ? 0 : last[2];
        out.write(q.raw, tail, q.raw.length - tail); // the blank line that ended the event
    }

    private void finishStreams() {
        for (ChoiceStream cs : new ArrayList<>(streams.values())) {
            cs.scanner.finish();
        }
        streams.clear();
        drain();
    }

    private void toFallback() {
        finishStreams();
        fallback = new TextTransformer(rules, hasher, out, listener, "sse:oversized-event");
        byte[] pending = current.drain();
        lines.clear();
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
        finishStreams();
        if (current.size() > 0 && blocked == null) {
            // An event cut off by the end of the stream: clients drop it, but its bytes still pass scanned.
            byte[] rest = current.drain();
            byte[] rewritten = scanAlone(rest, 0, rest.length, "sse:incomplete-event");
            if (blocked == null) {
                out.write(rewritten);
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
            held += q.raw.length;
        }
        return held;
    }
}
