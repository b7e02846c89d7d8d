package io.meshguard.dlp.detect;

import java.nio.charset.StandardCharsets;

/**
 * Reads an RE2 pattern just far enough to know (1) the longest text in UTF-8 bytes it can match, rejecting what a
 * streaming scan cannot honour (unbounded repetition, whole-text anchors), and (2) which bytes a match can start
 * with, so the scanner only asks RE2/J about positions that can start a match. The streaming scanner holds back
 * the longest-match length, so a bounded pattern finds the same matches whatever the chunking.
 */
public final class PatternBounds {
    /** Patterns may not match more than this many bytes. */
    public static final int MAX_BYTES = 4096;

    /**
     * What the scanner needs to know about a pattern.
     *
     * @param maxBytes longest match in UTF-8 bytes
     * @param firstBytes bytes a match can start with
     * @param prefix bytes every match starts with (empty when the pattern does not begin with a fixed literal)
     * @param prefixIgnoresCase whether {@code prefix} is compared with ASCII letters folded (it then holds only
     *     letters whose case folding stays in ASCII)
     */
    public record Shape(int maxBytes, boolean[] firstBytes, byte[] prefix, boolean prefixIgnoresCase) {}

    private static final class Info {
        long max;
        boolean nullable = true;
        boolean[] first = new boolean[256]; // bytes a non-empty match can start with

        void addFirst(Info other) {
            for (int k = 0; k < 256; k++) {
                first[k] |= other.first[k];
            }
        }
    }

    private final String p;
    private int i;
    private boolean ignoreCase;

    private PatternBounds(String p, boolean ignoreCase) {
        this.p = p;
        this.ignoreCase = ignoreCase;
    }

    /** Longest match in bytes; see {@link #shape}. */
    public static int maxBytes(String pattern) {
        return shape(pattern, false).maxBytes();
    }

    /**
     * Length bound and first-byte set of {@code pattern}.
     *
     * @throws IllegalArgumentException with a message for the policy author when the pattern is unbounded, uses
     *     {@code \A}, {@code \z} or {@code \C}, or exceeds {@link #MAX_BYTES}
     */
    public static Shape shape(String pattern, boolean ignoreCase) {
        PatternBounds b = new PatternBounds(pattern, ignoreCase);
        Info info = b.alternation();
        if (b.i != pattern.length()) {
            throw new IllegalArgumentException("unbalanced ')' at character " + (b.i + 1));
        }
        if (info.max > MAX_BYTES) {
            throw new IllegalArgumentException("pattern can match up to " + info.max + " bytes; the limit is "
                    + MAX_BYTES + " (every byte of a possible match is held back while streaming)");
        }
        boolean[] first = info.first;
        if (b.ignoreCase || ignoreCase) {
            for (int c = 'a'; c <= 'z'; c++) {
                first[c] |= first[c - 32];
                first[c - 32] |= first[c];
            }
        }
        boolean folded = b.ignoreCase || ignoreCase;
        return new Shape((int) info.max, first, literalPrefix(pattern, folded), folded);
    }

    private static final int MAX_PREFIX = 16;

    /**
     * The literal every match starts with: after leading {@code ^}, {@code \b}, {@code \B} and flag groups, the
     * run of plain characters that are not made optional by a following quantifier. Empty when the pattern has a
     * top-level alternative or starts with anything else; under case folding it stops at non-ASCII characters and
     * at {@code k} and {@code s}, which RE2 also folds to non-ASCII characters (KELVIN SIGN, LONG S).
     */
    static byte[] literalPrefix(String p, boolean ignoreCase) {
        if (hasTopLevelAlternative(p)) {
            return new byte[0];
        }
        int i = 0;
        boolean fold = ignoreCase;
        while (i < p.length()) {
            if (p.charAt(i) == '^') {
                i++;
            } else if (p.startsWith("\\b", i) || p.startsWith("\\B", i)) {
                i += 2;
            } else if (p.startsWith("(?", i)
                    && i + 2 < p.length()
                    && p.charAt(i + 2) != ':'
                    && p.charAt(i + 2) != 'P'
                    && p.charAt(i + 2) != '<') {
                int close = p.indexOf(')', i);
                String flags = close < 0 ? "-" : p.substring(i + 2, close);
                if (flags.contains("-") || flags.contains(":")) {
                    return new byte[0];
                }
                fold |= flags.contains("i");
                i = close + 1;
            } else {
                break;
            }
        }
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        while (i < p.length() && out.size() < MAX_PREFIX) {
            char c = p.charAt(i);
            int len = 1;
            if (c == '\\') {
                if (i + 1 >= p.length()) {
                    break;
                }
                c = p.charAt(i + 1);
                if (Character.isLetterOrDigit(c) || c >= 0x80) {
                    break; // a class, an assertion or a code: not a plain literal
                }
                len = 2;
            } else if (".^$|?*+()[]{}".indexOf(c) >= 0 || Character.isSurrogate(c)) {
                break;
            }
            if (c >= 0x80 && fold) {
                break;
            }
            if (fold && "kKsS".indexOf(c) >= 0) {
                break;
            }
            char next = i + len < p.length() ? p.charAt(i + len) : 0;
            if (next == '?' || next == '*' || next == '{') {
                break;
            }
            out.writeBytes(String.valueOf(c).getBytes(StandardCharsets.UTF_8));
            i += len;
            if (next == '+') {
                break;
            }
        }
        byte[] prefix = out.toByteArray();
        if (fold) {
            for (int k = 0; k < prefix.length; k++) {
                if (prefix[k] >= 'A' && prefix[k] <= 'Z') {
                    prefix[k] += 32;
                }
            }
        }
        return prefix;
    }

    private static boolean hasTopLevelAlternative(String p) {
        int depth = 0;
        boolean inClass = false;
        for (int i = 0; i < p.length(); i++) {
            char c = p.charAt(i);
            if (c == '\\') {
                if (i + 1 < p.length() && p.charAt(i + 1) == 'Q') {
                    return true; // quoted text: not worth reading here, treat as unknown
                }
                i++;
            } else if (inClass) {
                inClass = c != ']';
            } else if (c == '[') {
                inClass = true;
                if (i + 1 < p.length() && p.charAt(i + 1) == ']') {
                    i++;
                } else if (i + 2 < p.length() && p.charAt(i + 1) == '^' && p.charAt(i + 2) == ']') {
                    i += 2;
                }
            } else if (c == '(') {
                depth++;
            } else if (c == ')') {
                depth--;
            } else if (c == '|' && depth == 0) {
                return true;
            }
        }
        return false;
    }

    private Info alternation() {
        Info result = concatenation();
        while (i < p.length() && p.charAt(i) == '|') {
            i++;
            Info next = concatenation();
            result.max = Math.max(result.max, next.max);
            result.nullable |= next.nullable;
            result.addFirst(next);
        }
        return result;
    }

    private Info concatenation() {
        Info result = new Info();
        boolean prefixNullable = true;
        while (i < p.length() && p.charAt(i) != '|' && p.charAt(i) != ')') {
            Info atom = repeat(atom());
            if (prefixNullable) {
                result.addFirst(atom);
            }
            prefixNullable &= atom.nullable;
            result.max = sat(result.max + atom.max);
        }
        result.nullable = prefixNullable;
        return result;
    }

    private Info repeat(Info atom) {
        while (i < p.length()) {
            char c = p.charAt(i);
            if (c == '*' || c == '+') {
                if (atom.max > 0) {
                    throw new IllegalArgumentException("unbounded repetition '" + c + "' at character " + (i + 1)
                            + "; give a maximum, e.g. {1,64}");
                }
                if (c == '*') {
                    atom.nullable = true;
                }
                i++;
            } else if (c == '?') {
                atom.nullable = true;
                i++;
            } else if (c == '{') {
                int close = p.indexOf('}', i);
                String[] parts = p.substring(i + 1, close).split(",", -1);
                long min = Long.parseLong(parts[0].trim());
                long max;
                if (parts.length == 1) {
                    max = min;
                } else if (parts[1].isBlank()) {
                    if (atom.max > 0) {
                        throw new IllegalArgumentException("unbounded repetition '{n,}' at character " + (i + 1)
                                + "; give a maximum, e.g. {1,64}");
                    }
                    max = 0;
                } else {
                    max = Long.parseLong(parts[1].trim());
                }
                if (min == 0) {
                    atom.nullable = true;
                }
                atom.max = sat(atom.max * max);
                i = close + 1;
            } else {
                break;
            }
            if (i < p.length() && p.charAt(i) == '?') {
                i++; // lazy
            }
        }
        return atom;
    }

    private Info atom() {
        char c = p.charAt(i);
        switch (c) {
            case '(' -> {
                i++;
                if (i < p.length() && p.charAt(i) == '?') {
                    i++;
                    if (p.charAt(i) == 'P' || p.charAt(i) == '<') {
                        i = p.indexOf('>', i) + 1;
                    } else {
                        int flagsStart = i;
                        while (p.charAt(i) != ')' && p.charAt(i) != ':') {
                            i++;
                        }
                        String flags = p.substring(flagsStart, i);
                        if (flags.contains("i") && !flags.startsWith("-")) {
                            ignoreCase = true; // conservative: folds the whole first set
                        }
                        if (p.charAt(i) == ')') {
                            i++;
                            return new Info();
                        }
                        i++;
                    }
                }
                Info inner = alternation();
                i++; // ')'
                return inner;
            }
            case '[' -> {
                return charClass();
            }
            case '.' -> {
                i++;
                return any(4);
            }
            case '^', '$' -> {
                i++;
                return new Info(); // compiled with MULTILINE: line anchors, decided by one byte of context
            }
            case '\\' -> {
                return escape();
            }
            default -> {
                int cp = p.codePointAt(i);
                i += Character.charCount(cp);
                return literal(cp);
            }
        }
    }

    private Info escape() {
        char e = p.charAt(i + 1);
        i += 2;
        switch (e) {
            case 'A', 'z' ->
                throw new IllegalArgumentException("\\" + e
                        + " anchors to the whole text, which a stream does not have; use ^ or $ (line anchors)");
            case 'C' -> throw new IllegalArgumentException("\\C (any byte) is not allowed");
            case 'b', 'B' -> {
                return new Info();
            }
            case 'd' -> {
                return range('0', '9');
            }
            case 'w' -> {
                Info w = range('0', '9');
                w.addFirst(range('a', 'z'));
                w.addFirst(range('A', 'Z'));
                w.first['_'] = true;
                return w;
            }
            case 's' -> {
                Info s = new Info();
                s.max = 1;
                s.nullable = false;
                for (char ws : " \t\n\r\f\u000b".toCharArray()) {
                    s.first[ws] = true;
                }
                return s;
            }
            case 'D', 'S', 'W' -> {
                return any(4);
            }
            case 'p', 'P' -> {
                if (p.charAt(i) == '{') {
                    i = p.indexOf('}', i) + 1;
                } else {
                    i++;
                }
                return any(4);
            }
            case 'x' -> {
                int cp;
                if (p.charAt(i) == '{') {
                    int close = p.indexOf('}', i);
                    cp = Integer.parseInt(p.substring(i + 1, close), 16);
                    i = close + 1;
                } else {
                    cp = Integer.parseInt(p.substring(i, i + 2), 16);
                    i += 2;
                }
                return literal(cp);
            }
            case 'Q' -> {
                int end = p.indexOf("\\E", i);
                String lit = end < 0 ? p.substring(i) : p.substring(i, end);
                i = end < 0 ? p.length() : end + 2;
                if (lit.isEmpty()) {
                    return new Info();
                }
                Info info = literal(lit.codePointAt(0));
                info.max = lit.getBytes(StandardCharsets.UTF_8).length;
                return info;
            }
            case 'n' -> {
                return literal('\n');
            }
            case 't' -> {
                return literal('\t');
            }
            case 'r' -> {
                return literal('\r');
            }
            case 'f' -> {
                return literal('\f');
            }
            case 'v' -> {
                return literal(0x0b);
            }
            default -> {
                if (e >= '0' && e <= '7') {
                    while (i < p.length() && p.charAt(i) >= '0' && p.charAt(i) <= '7') {
                        i++;
                    }
                    return any(1);
                }
                return literal(e);
            }
        }
    }

    private Info charClass() {
        i++; // '['
        boolean negated = i < p.length() && p.charAt(i) == '^';
        if (negated) {
            i++;
        }
        Info info = new Info();
        info.nullable = false;
        info.max = 1;
        boolean anyByte = negated;
        boolean firstItem = true;
        while (i < p.length() && (p.charAt(i) != ']' || firstItem)) {
            firstItem = false;
            char c = p.charAt(i);
            if (c == '[' && i + 1 < p.length() && p.charAt(i + 1) == ':') {
                i = p.indexOf(":]", i) + 2;
                anyByte = true;
            } else if (c == '\\') {
                Info e = escape();
                info.max = Math.max(info.max, e.max);
                info.addFirst(e);
                anyByte |= e.max > 1;
            } else {
                int cp = p.codePointAt(i);
                i += Character.charCount(cp);
                if (i + 1 < p.length() && p.charAt(i) == '-' && p.charAt(i + 1) != ']') {
                    int to = p.codePointAt(i + 1);
                    i += 1 + Character.charCount(to);
                    if (to < 0x80) {
                        info.addFirst(range(cp, to));
                    } else {
                        anyByte = true;
                        info.max = 4;
                    }
                } else {
                    Info l = literal(cp);
                    info.max = Math.max(info.max, l.max);
                    info.addFirst(l);
                }
            }
        }
        i++; // ']'
        if (anyByte) {
            return any(4);
        }
        return info;
    }

    private static Info literal(int cp) {
        Info info = new Info();
        info.nullable = false;
        byte[] b = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8);
        info.max = b.length;
        info.first[b[0] & 0xff] = true;
        return info;
    }

    private static Info range(int from, int to) {
        Info info = new Info();
        info.nullable = false;
        info.max = 1;
        for (int c = from; c <= to && c < 256; c++) {
            info.first[c] = true;
        }
        return info;
    }

    private static Info any(int max) {
        Info info = new Info();
        info.nullable = false;
        info.max = max;
        java.util.Arrays.fill(info.first, true);
        return info;
    }

    private static long sat(long v) {
        return Math.min(v, 1L << 40);
    }
}
