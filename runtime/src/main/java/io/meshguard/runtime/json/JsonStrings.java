package io.meshguard.runtime.json;

/**
 * JSON string literals written straight into a builder, byte for byte as Jackson writes them by default, for the hot
 * paths that encode a known shape without building a tree (audit details, replay facts).
 */
public final class JsonStrings {
    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private JsonStrings() {}

    /**
     * Appends {@code s} quoted: {@code "} and {@code \} escaped, control characters as {@code \b \t \n \f \r} or a
     * six-character escape (backslash, u, 00, two hex digits), everything else (non-ASCII, lone surrogates) as it is.
     */
    public static void append(StringBuilder out, String s) {
        out.append('"');
        int from = 0;
        for (int i = 0, n = s.length(); i < n; i++) {
            char c = s.charAt(i);
            if (c >= 0x20 && c != '"' && c != '\\') {
                continue;
            }
            out.append(s, from, i);
            from = i + 1;
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\b' -> out.append("\\b");
                case '\t' -> out.append("\\t");
                case '\n' -> out.append("\\n");
                case '\f' -> out.append("\\f");
                case '\r' -> out.append("\\r");
                default -> out.append("\\u00").append(HEX[c >> 4]).append(HEX[c & 0xF]);
            }
        }
        out.append(s, from, s.length()).append('"');
    }
}
