package io.meshguard.dlp.content;

import java.nio.charset.StandardCharsets;

/** Decoding of complete JSON string contents (between the quotes). */
final class JsonStrings {
    private JsonStrings() {}

    static String decode(byte[] b, int from, int to) {
        return new String(decodeBytes(b, from, to), StandardCharsets.UTF_8);
    }

    /** UTF-8 bytes of the decoded string; invalid escapes are kept as they are, lone surrogates become U+FFFD. */
    static byte[] decodeBytes(byte[] b, int from, int to) {
        ByteSink out = new ByteSink(to - from);
        decodeInto(b, from, to, out);
        return out.drain();
    }

    /** {@link #decodeBytes} appended to {@code out} (no copy of its own). */
    static void decodeInto(byte[] b, int from, int to, ByteSink out) {
        byte[] tmp = new byte[4];
        int i = from;
        while (i < to) {
            byte c = b[i];
            if (c != '\\' || i + 1 >= to) {
                out.write(c);
                i++;
                continue;
            }
            byte e = b[i + 1];
            switch (e) {
                case 'n' -> out.write('\n');
                case 't' -> out.write('\t');
                case 'r' -> out.write('\r');
                case 'b' -> out.write('\b');
                case 'f' -> out.write('\f');
                case 'u' -> {
                    int cp = unit(b, i + 2, to);
                    if (cp < 0) {
                        out.write('\\');
                        out.write('u');
                        i += 2;
                        continue;
                    }
                    i += 6;
                    if (cp >= 0xD800 && cp <= 0xDBFF && i + 1 < to && b[i] == '\\' && b[i + 1] == 'u') {
                        int lo = unit(b, i + 2, to);
                        if (lo >= 0xDC00 && lo <= 0xDFFF) {
                            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                            i += 6;
                        }
                    }
                    out.write(tmp, 0, JsonEscapes.utf8(cp, tmp));
                    continue;
                }
                default -> out.write(e);
            }
            i += 2;
        }
    }

    private static int unit(byte[] b, int at, int to) {
        if (at + 4 > to) {
            return -1;
        }
        int v = 0;
        for (int k = at; k < at + 4; k++) {
            int c = b[k];
            int h = c >= '0' && c <= '9'
                    ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
            if (h < 0) {
                return -1;
            }
            v = v * 16 + h;
        }
        return v;
    }
}
