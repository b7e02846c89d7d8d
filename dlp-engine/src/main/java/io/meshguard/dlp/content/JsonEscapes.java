package io.meshguard.dlp.content;

/** JSON string escaping for replacement text (RFC 8259 §7). */
final class JsonEscapes {
    private static final byte[] HEX = "0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private JsonEscapes() {}

    static void escape(byte[] s, ByteSink out) {
        escape(s, 0, s.length, out);
    }

    static void escape(byte[] s, int off, int len, ByteSink out) {
        for (int k = off; k < off + len; k++) {
            int c = s[k] & 0xff;
            if (c == '"' || c == '\\') {
                out.write('\\');
                out.write(c);
            } else if (c < 0x20) {
                out.write('\\');
                out.write('u');
                out.write('0');
                out.write('0');
                out.write(HEX[c >> 4]);
                out.write(HEX[c & 15]);
            } else {
                out.write(c);
            }
        }
    }

    /** The bytes as one JSON string, quotes included (a number with a finding becomes a string). */
    static void quote(byte[] s, int off, int len, ByteSink out) {
        out.write('"');
        escape(s, off, len, out);
        out.write('"');
    }

    /** UTF-8 bytes of a code point (lone surrogates become U+FFFD). */
    static int utf8(int cp, byte[] dst) {
        if (cp >= 0xD800 && cp <= 0xDFFF) {
            cp = 0xFFFD;
        }
        if (cp < 0x80) {
            dst[0] = (byte) cp;
            return 1;
        }
        if (cp < 0x800) {
            dst[0] = (byte) (0xC0 | cp >> 6);
            dst[1] = (byte) (0x80 | cp & 0x3F);
            return 2;
        }
        if (cp < 0x10000) {
            dst[0] = (byte) (0xE0 | cp >> 12);
            dst[1] = (byte) (0x80 | cp >> 6 & 0x3F);
            dst[2] = (byte) (0x80 | cp & 0x3F);
            return 3;
        }
        dst[0] = (byte) (0xF0 | cp >> 18);
        dst[1] = (byte) (0x80 | cp >> 12 & 0x3F);
        dst[2] = (byte) (0x80 | cp >> 6 & 0x3F);
        dst[3] = (byte) (0x80 | cp & 0x3F);
        return 4;
    }
}
