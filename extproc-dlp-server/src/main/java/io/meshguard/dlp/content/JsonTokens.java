package io.meshguard.dlp.content;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A small whole-document JSON reader for SSE event payloads: it validates the syntax and lists every string, number
 * and literal ({@code true}, {@code false}, {@code null}) with its path and its byte range, which is all the event
 * rewriter needs.
 * One reader serves every event of a stream (its lists are reused), and the object keys an LLM stream repeats in
 * every event are shared constants rather than a new string per event.
 */
final class JsonTokens {
    /**
     * A scalar: its path (keys as String, array indexes as Integer; shared, never to be changed), its bytes
     * {@code [start, end)} in the array read, and whether it is a string. Valid until the next read.
     */
    static final class Scalar {
        private Object[] path;
        private int start;
        private int end;
        private boolean string;

        Object[] path() {
            return path;
        }

        int start() {
            return start;
        }

        int end() {
            return end;
        }

        boolean string() {
            return string;
        }
    }

    /** Paths seen before: events of one stream have the same few, so a path is copied once, not per event. */
    private final List<Object[]> knownPaths = new ArrayList<>();
    private static final int MAX_KNOWN_PATHS = 64;
    private static final int MAX_SHARED = 64;
    private final List<Scalar> pool = new ArrayList<>();

    /** Keys OpenAI-style chunks carry in every event, by length then bytes. */
    private static final String[] KNOWN_KEYS = {"id", "index", "delta", "content", "choices", "object", "created",
        "model", "role", "text", "finish_reason", "logprobs", "usage", "tool_calls", "function", "arguments", "name",
        "type", "refusal", "reasoning", "reasoning_content", "system_fingerprint", "service_tier", "obfuscation",
        "message", "error", "done", "output_index", "content_index", "candidates", "parts", "token"};
    private static final byte[][] KNOWN_BYTES;
    /** Indexes into {@link #KNOWN_KEYS} by key length. */
    private static final int[][] BY_LENGTH;

    static {
        KNOWN_BYTES = new byte[KNOWN_KEYS.length][];
        int longest = 0;
        for (int k = 0; k < KNOWN_KEYS.length; k++) {
            KNOWN_BYTES[k] = KNOWN_KEYS[k].getBytes(StandardCharsets.US_ASCII);
            longest = Math.max(longest, KNOWN_BYTES[k].length);
        }
        BY_LENGTH = new int[longest + 1][];
        for (int len = 0; len <= longest; len++) {
            int l = len;
            BY_LENGTH[len] = java.util.stream.IntStream.range(0, KNOWN_KEYS.length)
                    .filter(k -> KNOWN_BYTES[k].length == l).toArray();
        }
    }

    private byte[] b;
    private int n;
    private int i;
    private final List<Scalar> out = new ArrayList<>();
    private Object[] path = new Object[16];
    private int depth;
    /** Open objects and arrays: past {@link JsonTransformer#MAX_DEPTH} the document is refused (no deep recursion). */
    private int nesting;

    /**
     * Reads {@code b[from, to)}; true when it is one valid document, whose scalars {@link #scalars()} then lists
     * (string ranges exclude the quotes; offsets are into {@code b}).
     */
    boolean read(byte[] b, int from, int to) {
        this.b = b;
        this.n = to;
        this.i = from;
        this.depth = 0;
        this.nesting = 0;
        out.clear();
        try {
            ws();
            value();
            ws();
            return i == n;
        } catch (IndexOutOfBoundsException | IllegalStateException e) {
            return false;
        } finally {
            Arrays.fill(path, 0, path.length, null);
            this.b = null;
        }
    }

    /** The scalars of the last document read (valid until the next read). */
    List<Scalar> scalars() {
        return out;
    }

    private void push(Object key) {
        if (depth == path.length) {
            path = Arrays.copyOf(path, depth * 2);
        }
        path[depth++] = key;
    }

    private void value() {
        int c = peek() & 0xff;
        switch (c) {
            case '{' -> {
                if (++nesting > JsonTransformer.MAX_DEPTH) {
                    throw new IllegalStateException("nested too deep");
                }
                i++;
                ws();
                if (peek() == '}') {
                    i++;
                    nesting--;
                    return;
                }
                while (true) {
                    ws();
                    if (peek() != '"') {
                        throw new IllegalStateException();
                    }
                    int s = i + 1;
                    boolean escaped = skipString();
                    String key = key(s, i - 1, escaped);
                    ws();
                    expect(':');
                    ws();
                    push(key);
                    value();
                    depth--;
                    ws();
                    if (peek() == ',') {
                        i++;
                        continue;
                    }
                    expect('}');
                    nesting--;
                    return;
                }
            }
            case '[' -> {
                if (++nesting > JsonTransformer.MAX_DEPTH) {
                    throw new IllegalStateException("nested too deep");
                }
                i++;
                ws();
                if (peek() == ']') {
                    i++;
                    nesting--;
                    return;
                }
                int index = 0;
                while (true) {
                    ws();
                    push(index++);
                    value();
                    depth--;
                    ws();
                    if (peek() == ',') {
                        i++;
                        continue;
                    }
                    expect(']');
                    nesting--;
                    return;
                }
            }
            case '"' -> {
                int s = i + 1;
                skipString();
                add(s, i - 1, true);
            }
            case 't' -> literal("true");
            case 'f' -> literal("false");
            case 'n' -> literal("null");
            default -> {
                int s = i;
                if (peek() == '-') {
                    i++;
                }
                if (!(peek() >= '0' && peek() <= '9')) {
                    throw new IllegalStateException();
                }
                while (i < n && ((b[i] >= '0' && b[i] <= '9') || b[i] == '.' || b[i] == 'e' || b[i] == 'E'
                        || b[i] == '+' || b[i] == '-')) {
                    i++;
                }
                add(s, i, false);
            }
        }
    }

    private void add(int start, int end, boolean string) {
        // Token-sized events reuse their scalars and paths; a large document (rare in a stream) gets fresh ones,
        // so neither the pool nor the path search grows with it.
        boolean small = out.size() < MAX_SHARED;
        Scalar sc;
        if (out.size() < pool.size()) {
            sc = pool.get(out.size());
        } else {
            sc = new Scalar();
            if (small) {
                pool.add(sc);
            }
        }
        sc.path = small ? currentPath() : Arrays.copyOf(path, depth);
        sc.start = start;
        sc.end = end;
        sc.string = string;
        out.add(sc);
    }

    /** The current path as a shared array: one seen before when there is one. */
    private Object[] currentPath() {
        for (int k = 0; k < knownPaths.size(); k++) {
            Object[] p = knownPaths.get(k);
            if (p.length == depth && samePath(p)) {
                return p;
            }
        }
        Object[] p = Arrays.copyOf(path, depth);
        if (knownPaths.size() < MAX_KNOWN_PATHS) {
            knownPaths.add(p);
        }
        return p;
    }

    private boolean samePath(Object[] p) {
        for (int k = depth - 1; k >= 0; k--) {
            Object a = p[k];
            Object b = path[k];
            if (a != b && !a.equals(b)) {
                return false;
            }
        }
        return true;
    }

    /** The decoded key; an unescaped key the streams repeat is a shared constant. */
    private String key(int from, int to, boolean escaped) {
        if (escaped) {
            return JsonStrings.decode(b, from, to);
        }
        int len = to - from;
        if (len < BY_LENGTH.length) {
            for (int k : BY_LENGTH[len]) {
                if (sameBytes(KNOWN_BYTES[k], from)) {
                    return KNOWN_KEYS[k];
                }
            }
        }
        return new String(b, from, len, StandardCharsets.UTF_8);
    }

    private boolean sameBytes(byte[] known, int from) {
        for (int k = 0; k < known.length; k++) {
            if (known[k] != b[from + k]) {
                return false;
            }
        }
        return true;
    }

    /** Skips a string starting at its opening quote; true when it contains a backslash escape. */
    private boolean skipString() {
        i++;
        boolean escaped = false;
        while (true) {
            if (i >= n) {
                throw new IllegalStateException();
            }
            byte c = b[i];
            if (c == '"') {
                i++;
                return escaped;
            }
            if (c == '\\') {
                escaped = true;
                i += 2;
            } else if ((c & 0xff) < 0x20) {
                throw new IllegalStateException();
            } else {
                i++;
            }
        }
    }

    private void literal(String word) {
        int s = i;
        for (int k = 0; k < word.length(); k++) {
            expect(word.charAt(k));
        }
        add(s, i, false);
    }

    private void expect(char c) {
        if (i >= n || b[i] != c) {
            throw new IllegalStateException();
        }
        i++;
    }

    /** The byte at the cursor; the document ends at {@code n} even when the array goes on. */
    private byte peek() {
        if (i >= n) {
            throw new IllegalStateException();
        }
        return b[i];
    }

    private void ws() {
        while (i < n && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r')) {
            i++;
        }
    }
}
