package io.meshguard.dlp.content;

import java.util.ArrayList;
import java.util.List;

/**
 * The JSON reader {@link LegacySseTransformer} used (reference for the equivalence tests).
 * A small whole-document JSON reader for SSE event payloads: it validates the syntax and lists every string and
 * number with its path and its byte range, which is all the event rewriter needs.
 */
final class LegacyJsonTokens {
    /** A scalar: its path (keys and array indexes), its bytes {@code [start, end)}, and whether it is a string. */
    record Scalar(List<Object> path, int start, int end, boolean string) {}

    private final byte[] b;
    private final int n;
    private int i;
    private final List<Scalar> out = new ArrayList<>();
    private final List<Object> path = new ArrayList<>();

    private LegacyJsonTokens(byte[] b, int n) {
        this.b = b;
        this.n = n;
    }

    /** The scalars of a valid document (string ranges exclude the quotes), or null when it is not JSON. */
    static List<Scalar> read(byte[] b, int n) {
        LegacyJsonTokens t = new LegacyJsonTokens(b, n);
        try {
            t.ws();
            t.value();
            t.ws();
            return t.i == n ? t.out : null;
        } catch (IndexOutOfBoundsException | IllegalStateException e) {
            return null;
        }
    }

    private void value() {
        int c = b[i] & 0xff;
        switch (c) {
            case '{' -> {
                i++;
                ws();
                if (b[i] == '}') {
                    i++;
                    return;
                }
                while (true) {
                    ws();
                    if (b[i] != '"') {
                        throw new IllegalStateException();
                    }
                    int s = i + 1;
                    skipString();
                    String key = JsonStrings.decode(b, s, i - 1);
                    ws();
                    expect(':');
                    ws();
                    path.add(key);
                    value();
                    path.remove(path.size() - 1);
                    ws();
                    if (b[i] == ',') {
                        i++;
                        continue;
                    }
                    expect('}');
                    return;
                }
            }
            case '[' -> {
                i++;
                ws();
                if (b[i] == ']') {
                    i++;
                    return;
                }
                int index = 0;
                while (true) {
                    ws();
                    path.add(index++);
                    value();
                    path.remove(path.size() - 1);
                    ws();
                    if (b[i] == ',') {
                        i++;
                        continue;
                    }
                    expect(']');
                    return;
                }
            }
            case '"' -> {
                int s = i + 1;
                skipString();
                out.add(new Scalar(List.copyOf(path), s, i - 1, true));
            }
            case 't' -> literal("true");
            case 'f' -> literal("false");
            case 'n' -> literal("null");
            default -> {
                int s = i;
                if (b[i] == '-') {
                    i++;
                }
                if (!(b[i] >= '0' && b[i] <= '9')) {
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
                out.add(new Scalar(List.copyOf(path), s, i, false));
            }
        }
    }

    private void skipString() {
        i++;
        while (true) {
            if (i >= n) {
                throw new IllegalStateException();
            }
            byte c = b[i];
            if (c == '"') {
                i++;
                return;
            }
            if (c == '\\') {
                i += 2;
            } else if ((c & 0xff) < 0x20) {
                throw new IllegalStateException();
            } else {
                i++;
            }
        }
    }

    private void literal(String word) {
        for (int k = 0; k < word.length(); k++) {
            expect(word.charAt(k));
        }
    }

    private void expect(char c) {
        if (i >= n || b[i] != c) {
            throw new IllegalStateException();
        }
        i++;
    }

    private void ws() {
        while (i < n && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r')) {
            i++;
        }
    }
}
