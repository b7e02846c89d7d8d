package io.meshguard.dlp.detect;

/**
 * Reads an RE2 pattern just far enough to know the longest text (in UTF-8 bytes) it can match, and rejects what a
 * streaming scan cannot honour: unbounded repetition and whole-text anchors. The streaming scanner holds back that
 * many bytes, so a bounded pattern finds exactly the same matches whatever the chunking.
 */
public final class PatternBounds {
    /** Patterns may not match more than this many bytes. */
    public static final int MAX_BYTES = 4096;

    private final String p;
    private int i;

    private PatternBounds(String p) {
        this.p = p;
    }

    /**
     * Longest match of {@code pattern} in bytes.
     *
     * @throws IllegalArgumentException with a message for the policy author when the pattern is unbounded, uses
     *     {@code \A}, {@code \z} or {@code \C}, or exceeds {@link #MAX_BYTES}
     */
    public static int maxBytes(String pattern) {
        PatternBounds b = new PatternBounds(pattern);
        long max = b.alternation();
        if (b.i != pattern.length()) {
            throw new IllegalArgumentException("unbalanced ')' at character " + (b.i + 1));
        }
        if (max > MAX_BYTES) {
            throw new IllegalArgumentException("pattern can match up to " + max + " bytes; the limit is "
                    + MAX_BYTES + " (every byte of a possible match is held back while streaming)");
        }
        return (int) max;
    }

    private long alternation() {
        long max = concatenation();
        while (i < p.length() && p.charAt(i) == '|') {
            i++;
            max = Math.max(max, concatenation());
        }
        return max;
    }

    private long concatenation() {
        long total = 0;
        while (i < p.length() && p.charAt(i) != '|' && p.charAt(i) != ')') {
            long atom = atom();
            total = sat(total + repeat(atom));
        }
        return total;
    }

    private long repeat(long atom) {
        long result = atom;
        while (i < p.length()) {
            char c = p.charAt(i);
            if (c == '*' || c == '+') {
                if (atom > 0) {
                    throw new IllegalArgumentException("unbounded repetition '" + c + "' at character " + (i + 1)
                            + "; give a maximum, e.g. {1,64}");
                }
                i++;
            } else if (c == '?') {
                i++;
            } else if (c == '{') {
                int close = p.indexOf('}', i);
                String[] parts = p.substring(i + 1, close).split(",", -1);
                long max;
                if (parts.length == 1) {
                    max = Long.parseLong(parts[0].trim());
                } else if (parts[1].isBlank()) {
                    if (atom > 0) {
                        throw new IllegalArgumentException("unbounded repetition '{n,}' at character " + (i + 1)
                                + "; give a maximum, e.g. {1,64}");
                    }
                    max = 0;
                } else {
                    max = Long.parseLong(parts[1].trim());
                }
                result = sat(atom * max);
                i = close + 1;
            } else {
                break;
            }
            if (i < p.length() && p.charAt(i) == '?') {
                i++; // lazy
            }
        }
        return result;
    }

    private long atom() {
        char c = p.charAt(i);
        switch (c) {
            case '(' -> {
                i++;
                if (i < p.length() && p.charAt(i) == '?') {
                    i++;
                    if (p.charAt(i) == 'P' || p.charAt(i) == '<') {
                        i = p.indexOf('>', i) + 1;
                    } else {
                        while (p.charAt(i) != ')' && p.charAt(i) != ':') {
                            i++;
                        }
                        if (p.charAt(i) == ')') {
                            i++;
                            return 0; // flag group such as (?i)
                        }
                        i++;
                    }
                }
                long inner = alternation();
                i++; // ')'
                return inner;
            }
            case '[' -> {
                return charClass();
            }
            case '.' -> {
                i++;
                return 4;
            }
            case '^', '$' -> {
                i++;
                return 0; // compiled with MULTILINE: line anchors, decided by one byte of context
            }
            case '\\' -> {
                return escape();
            }
            default -> {
                int cp = p.codePointAt(i);
                i += Character.charCount(cp);
                return utf8Length(cp);
            }
        }
    }

    private long escape() {
        char e = p.charAt(i + 1);
        i += 2;
        switch (e) {
            case 'A', 'z' -> throw new IllegalArgumentException("\\" + e
                    + " anchors to the whole text, which a stream does not have; use ^ or $ (line anchors)");
            case 'C' -> throw new IllegalArgumentException("\\C (any byte) is not allowed");
            case 'b', 'B' -> {
                return 0;
            }
            case 'd', 's', 'w', 'D', 'S', 'W' -> {
                return Character.isUpperCase(e) ? 4 : 1;
            }
            case 'p', 'P' -> {
                if (p.charAt(i) == '{') {
                    i = p.indexOf('}', i) + 1;
                } else {
                    i++;
                }
                return 4;
            }
            case 'x' -> {
                if (p.charAt(i) == '{') {
                    int close = p.indexOf('}', i);
                    int cp = Integer.parseInt(p.substring(i + 1, close), 16);
                    i = close + 1;
                    return utf8Length(cp);
                }
                int cp = Integer.parseInt(p.substring(i, i + 2), 16);
                i += 2;
                return utf8Length(cp);
            }
            case 'Q' -> {
                int end = p.indexOf("\\E", i);
                String lit = end < 0 ? p.substring(i) : p.substring(i, end);
                i = end < 0 ? p.length() : end + 2;
                return lit.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
            }
            default -> {
                if (e >= '0' && e <= '7') {
                    while (i < p.length() && p.charAt(i) >= '0' && p.charAt(i) <= '7') {
                        i++;
                    }
                }
                return 1;
            }
        }
    }

    private long charClass() {
        i++; // '['
        boolean negated = i < p.length() && p.charAt(i) == '^';
        if (negated) {
            i++;
        }
        long max = 1;
        boolean first = true;
        while (i < p.length() && (p.charAt(i) != ']' || first)) {
            first = false;
            char c = p.charAt(i);
            if (c == '[' && i + 1 < p.length() && p.charAt(i + 1) == ':') {
                i = p.indexOf(":]", i) + 2;
            } else if (c == '\\') {
                char e = p.charAt(i + 1);
                if (e == 'p' || e == 'P') {
                    max = 4;
                    i += 2;
                    i = p.charAt(i) == '{' ? p.indexOf('}', i) + 1 : i + 1;
                } else if (e == 'x') {
                    max = 4;
                    i += 2;
                    i = p.charAt(i) == '{' ? p.indexOf('}', i) + 1 : i + 2;
                } else {
                    if (e == 'D' || e == 'S' || e == 'W') {
                        max = 4;
                    }
                    i += 2;
                }
            } else {
                int cp = p.codePointAt(i);
                max = Math.max(max, utf8Length(cp));
                i += Character.charCount(cp);
            }
        }
        i++; // ']'
        return negated ? 4 : max;
    }

    private static int utf8Length(int cp) {
        return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    }

    private static long sat(long v) {
        return Math.min(v, 1L << 40);
    }
}
