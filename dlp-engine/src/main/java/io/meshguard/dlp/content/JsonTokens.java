package io.meshguard.dlp.content;

import io.meshguard.dlp.detect.Simd;
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
    private static final String[] KNOWN_KEYS = {
        "id",
        "index",
        "delta",
        "content",
        "choices",
        "object",
        "created",
        "model",
        "role",
        "text",
        "finish_reason",
        "logprobs",
        "usage",
        "tool_calls",
        "function",
        "arguments",
        "name",
        "type",
        "refusal",
        "reasoning",
        "reasoning_content",
        "system_fingerprint",
        "service_tier",
        "obfuscation",
        "message",
        "error",
        "done",
        "output_index",
        "content_index",
        "candidates",
        "parts",
        "token"
    };

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
                    .filter(k -> KNOWN_BYTES[k].length == l)
                    .toArray();
        }
    }

    /** {@link #readLike}: the document is the last one read, byte for byte. */
    static final int SAME = -1;
    /** {@link #readLike}: the document has to be read ({@link #read}). */
    static final int UNLIKE = -2;
    /** Documents up to this size are remembered for {@link #readLike} (a held stream keeps one such copy). */
    static final int MAX_TEMPLATE = 1024;

    // The last document read, when small and valid: its bytes and its scalars' ranges relative to its start.
    private byte[] template = new byte[0];
    private int templateLen = -1;
    private int[] relStart = new int[8];
    private int[] relEnd = new int[8];
    /** Per scalar of the template: a string with no backslash in it (its contents may change in place). */
    private boolean[] plain = new boolean[8];

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
        templateLen = -1;
        try {
            ws();
            value();
            ws();
            if (i != n) {
                return false;
            }
            remember(b, from, to);
            return true;
        } catch (IndexOutOfBoundsException | IllegalStateException e) {
            return false;
        } finally {
            Arrays.fill(path, 0, path.length, null);
            this.b = null;
        }
    }

    /**
     * Reads {@code b[from, to)} by comparing it with the last document read, when that is possible: an LLM stream
     * sends the same JSON event over and over with only the token text different. When the two documents differ
     * only inside one string's contents, and the new contents hold no quote, no backslash and no control
     * character (and the old ones no backslash), the new document is valid JSON with the same structure: the same
     * scalars with the same paths, the changed string's end and everything after it moved by the difference in
     * length. Then {@link #scalars()} lists exactly what {@link #read} would, and the answer is that string's index
     * (or {@link #SAME} when nothing differs). Otherwise it returns {@link #UNLIKE}, having changed nothing, and the
     * caller reads the document.
     */
    int readLike(byte[] b, int from, int to) {
        int len = to - from;
        int oldLen = templateLen;
        if (oldLen < 0 || len > MAX_TEMPLATE) {
            return UNLIKE;
        }
        int prefix = Arrays.mismatch(template, 0, oldLen, b, from, to);
        if (prefix < 0) {
            for (int k = 0; k < out.size(); k++) {
                Scalar sc = out.get(k);
                sc.start = from + relStart[k];
                sc.end = from + relEnd[k];
            }
            return SAME;
        }
        int most = Math.min(oldLen, len) - prefix;
        int suffix = 0;
        while (suffix < most && template[oldLen - 1 - suffix] == b[to - 1 - suffix]) {
            suffix++;
        }
        int oldEnd = oldLen - suffix; // the old bytes [prefix, oldEnd) became the new [prefix, len - suffix)
        int changed = -1;
        for (int k = 0; k < out.size(); k++) {
            if (relStart[k] > prefix) {
                break;
            }
            if (oldEnd <= relEnd[k]) {
                changed = k;
                break;
            }
        }
        if (changed < 0 || !out.get(changed).string || !plain[changed]) {
            return UNLIKE;
        }
        for (int k = from + prefix, end = to - suffix; k < end; k++) {
            int c = b[k] & 0xff;
            if (c == '"' || c == '\\' || c < 0x20) {
                return UNLIKE;
            }
        }
        int shift = len - oldLen;
        for (int k = 0; k < out.size(); k++) {
            Scalar sc = out.get(k);
            if (k > changed) {
                relStart[k] += shift;
            }
            if (k >= changed) {
                relEnd[k] += shift;
            }
            sc.start = from + relStart[k];
            sc.end = from + relEnd[k];
        }
        // The new document is the template from the first difference on; every string keeps its plain flag (the
        // changed one had no backslash and got none).
        if (template.length < len) {
            template = Arrays.copyOf(template, Math.min(MAX_TEMPLATE, Math.max(len, template.length * 2)));
        }
        System.arraycopy(b, from + prefix, template, prefix, len - prefix);
        templateLen = len;
        return changed;
    }

    /** Keeps a small valid document and its scalars' ranges for {@link #readLike}. */
    private void remember(byte[] b, int from, int to) {
        int len = to - from;
        int count = out.size();
        if (len > MAX_TEMPLATE || count > MAX_SHARED) {
            templateLen = -1;
            return;
        }
        if (template.length < len) {
            template = new byte[Math.min(MAX_TEMPLATE, Math.max(len, template.length * 2))];
        }
        System.arraycopy(b, from, template, 0, len);
        if (relStart.length < count) {
            int size = Math.max(count, relStart.length * 2);
            relStart = new int[size];
            relEnd = new int[size];
            plain = new boolean[size];
        }
        for (int k = 0; k < count; k++) {
            Scalar sc = out.get(k);
            relStart[k] = sc.start - from;
            relEnd[k] = sc.end - from;
            plain[k] = sc.string && Simd.indexOf(b, sc.start, sc.end, (byte) '\\') == sc.end;
        }
        templateLen = len;
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
                while (i < n
                        && ((b[i] >= '0' && b[i] <= '9')
                                || b[i] == '.'
                                || b[i] == 'e'
                                || b[i] == 'E'
                                || b[i] == '+'
                                || b[i] == '-')) {
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
