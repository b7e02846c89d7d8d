package io.meshguard.contract.peer;

/**
 * Text an xDS client chose (a NACK's {@code error_detail}, node id, metadata, user agent) made safe for a log line:
 * control characters (newlines, carriage returns, tabs, ANSI escape sequences' ESC, DEL, C1 controls), Unicode line
 * and paragraph separators and bidi overrides become visible {@code \\uXXXX} escapes, a backslash is doubled, and an
 * overlong value is cut with the count of what was dropped. A client can then neither forge a log line nor repaint
 * an operator's terminal, and the log stays one record per event.
 */
public final class ClientText {
    /** Longest kept prefix; grpc-java NACK details run to a few hundred characters. */
    public static final int MAX_CHARS = 512;

    private ClientText() {}

    /** {@code text} escaped and cut to {@link #MAX_CHARS}. */
    public static String escape(String text) {
        return escape(text, MAX_CHARS);
    }

    /**
     * Whether {@link #escape(String)} would leave {@code text} as it is, answered without building the escaped copy:
     * every ADS request names its resources and every message carries the node, so this runs per name per request.
     */
    public static boolean printable(String text) {
        if (text.length() > MAX_CHARS) {
            return false;
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\\' || needsEscape(c)) {
                return false;
            }
        }
        return true;
    }

    /** {@code text} escaped, keeping at most {@code maxChars} characters of the original. */
    public static String escape(String text, int maxChars) {
        int keep = Math.min(text.length(), maxChars);
        // never split a surrogate pair: half of one would print as garbage
        if (keep > 0 && keep < text.length() && Character.isHighSurrogate(text.charAt(keep - 1))) {
            keep--;
        }
        StringBuilder out = new StringBuilder(keep + 16);
        for (int i = 0; i < keep; i++) {
            char c = text.charAt(i);
            if (c == '\\') {
                out.append("\\\\");
            } else if (needsEscape(c)) {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        if (keep < text.length()) {
            out.append("...(").append(text.length() - keep).append(" more chars)");
        }
        return out.toString();
    }

    private static boolean needsEscape(char c) {
        return c < 0x20
                || c == 0x7f
                || (c >= 0x80 && c <= 0x9f) // C0, DEL, C1 (0x9b is a one-byte CSI)
                || c == 0x2028
                || c == 0x2029 // line and paragraph separators
                || (c >= 0x202a && c <= 0x202e)
                || (c >= 0x2066 && c <= 0x2069) // bidi embeddings and isolates
                || c == 0x200e
                || c == 0x200f
                || c == 0xfeff;
    }
}
