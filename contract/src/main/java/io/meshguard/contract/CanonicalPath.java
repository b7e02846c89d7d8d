package io.meshguard.contract;

import java.text.Normalizer;
import java.util.Optional;

/**
 * meshguard's one view of a request path, and the refusal of every path an upstream could read differently.
 *
 * <p>The model (RFC 3986 §3.3): the request target is split at the first {@code ?} (the query is not part of the
 * path); the path is a sequence of {@code /}-separated segments; every percent-escape is decoded, because that is
 * what the origin servers behind Envoy do before they route (servlet containers, Spring, Go's {@code net/http},
 * Node). Decoding is safe only where the decoded character cannot change the structure, so the following are
 * <em>refused</em> (400 {@code invalid_path}, the sub-reason in {@link Problem#code()}) instead of interpreted:
 * <ul>
 *   <li>dot segments ({@code .}, {@code ..}) in any spelling: raw, {@code %2e}/{@code %2E} in any mix, and with
 *       {@code ;parameters} attached ({@code ..;x}, which Tomcat resolves as {@code ..});</li>
 *   <li>{@code ;} path parameters, unless the route that matched opts in ({@code allow_path_parameters}); the
 *       canonical path never contains them, so matching always sees what a servlet container resolves;</li>
 *   <li>encoded separators and delimiters {@code %2F}, {@code %5C}, {@code %3B}, {@code %3F}, {@code %23} (any
 *       case) — decoded they would make new segments, parameters or a query in some upstreams and not in others
 *       (Istio's default BASE normalisation and Envoy's {@code normalize_path} leave them alone);</li>
 *   <li>an encoded {@code %} ({@code %25}): an upstream that decodes twice ({@code %252e} → {@code %2e} →
 *       {@code .}, also split as {@code %25%32%65}) sees another path;</li>
 *   <li>backslashes (Windows servers and some Java frameworks treat them as {@code /}), NUL, control bytes and DEL,
 *       raw or encoded;</li>
 *   <li>invalid escapes ({@code %}, {@code %g1}, truncated) and percent-encoded bytes that are not well-formed
 *       UTF-8 (overlong forms such as {@code %C0%AE} decode to {@code .} in lax decoders, surrogates, C1
 *       controls), and decoded text that is not in Unicode normal form NFKC (fullwidth {@code ．／ａｄｍｉｎ},
 *       ligatures, decomposed accents) — an upstream that normalises would see another path, or a separator;</li>
 *   <li>raw bytes outside printable ASCII: RFC 3986 allows none, and upstreams disagree on whether they are UTF-8
 *       or ISO-8859-1;</li>
 *   <li>empty segments ({@code //}): nginx and Envoy's {@code merge_slashes} merge them, servlet containers and Go
 *       do not, and Istio sidecars merge only under {@code pathNormalization: MERGE_SLASHES} — so meshguard does
 *       not rely on either;</li>
 *   <li>a {@code #} anywhere (browsers never send fragments), and targets that are not origin-form ({@code *},
 *       {@code http://…}).</li>
 * </ul>
 * Case is kept: paths are case-sensitive (RFC 3986 §6.2.2.1 lowercases only scheme and host).
 *
 * <p>Cost: one pass over the characters, no regex; when the path needs no decoding (the common case) the canonical
 * path is the caller's own string, with no copy.
 *
 * @param path the canonical path (decoded, parameters removed); empty when refused
 * @param rawPath the path as sent, without the query string (for audit)
 * @param hasParameters true when some segment carried {@code ;parameters}
 * @param problem why the path is refused; empty when it is canonical
 */
public record CanonicalPath(String path, String rawPath, boolean hasParameters, Optional<Problem> problem) {

    /** Why a path is refused; {@link #code()} is the sub-reason in the deny body and the audit row. */
    public enum Problem {
        NOT_ORIGIN_FORM("not_origin_form", "the request target must start with '/'"),
        FRAGMENT("fragment", "the request target holds a '#' fragment"),
        CONTROL_CHARACTER("control_character", "the path holds a control character (raw or percent-encoded)"),
        RAW_NON_ASCII("raw_non_ascii", "the path holds raw non-ASCII bytes; percent-encode them"),
        BACKSLASH("backslash", "the path holds a backslash"),
        INVALID_ESCAPE("invalid_escape", "the path holds an invalid percent-escape"),
        ENCODED_SEPARATOR("encoded_separator", "the path holds an encoded '/', '\\', ';', '?' or '#'"),
        DOUBLE_ENCODING("double_encoding", "the path holds an encoded '%' (a second decoding would make another path)"),
        INVALID_UTF8("invalid_utf8", "the path's percent-escapes are not well-formed UTF-8"),
        CONFUSABLE_CHARACTER(
                "confusable_character",
                "the path holds Unicode that is not in normal form (NFKC): fullwidth letters or delimiters, ligatures, decomposed accents"),
        DOT_SEGMENT("dot_segment", "the path holds a '.' or '..' segment (in some spelling)"),
        EMPTY_SEGMENT("empty_segment", "the path holds an empty segment ('//')"),
        PATH_PARAMETERS("path_parameters", "the path holds ';' parameters, which this route does not accept"),
        /** The request's host has no one spelling ({@link CanonicalHost}); refused with the path's problems. */
        INVALID_HOST("invalid_host", "the host cannot be brought to one spelling (malformed escape, port or name)");

        private final String code;
        private final String description;

        Problem(String code, String description) {
            this.code = code;
            this.description = description;
        }

        public String code() {
            return code;
        }

        public String description() {
            return description;
        }
    }

    /** True when the path may be matched on (parameters are judged per route: {@link Problem#PATH_PARAMETERS}). */
    public boolean canonical() {
        return problem.isEmpty();
    }

    /**
     * Parses a request target as Envoy hands it over ({@code :path}, query included).
     */
    public static CanonicalPath parse(String target) {
        int n = target.length();
        if (n == 0 || target.charAt(0) != '/') {
            int q = target.indexOf('?');
            return refused(q < 0 ? target : target.substring(0, q), Problem.NOT_ORIGIN_FORM);
        }
        StringBuilder out = null; // created at the first difference between the raw and the canonical path
        boolean params = false;
        boolean inParams = false;
        int nameLen = 0; // decoded characters of the current segment's name (before ';')
        boolean allDots = true; // the name so far is only '.'
        boolean unicode = false; // some escape decoded to a non-ASCII character
        int end = n;
        for (int i = 1; i <= n; i++) {
            char c = i < n ? target.charAt(i) : '/';
            if (c < 128 && PLAIN[c]) {
                // the common case: a character that stands for itself
                if (!inParams) {
                    if (out != null) {
                        out.append(c);
                    }
                    nameLen++;
                    allDots &= c == '.';
                }
                continue;
            }
            if (i < n && c == '?') {
                end = i;
                c = '/';
            }
            if (c == '/') {
                // a segment ends: check its name (parameters are not part of it)
                if (allDots && (nameLen == 1 || nameLen == 2)) {
                    return refused(target, end, Problem.DOT_SEGMENT);
                }
                if (nameLen == 0 && i < end) {
                    return refused(target, end, Problem.EMPTY_SEGMENT);
                }
                if (i >= end) {
                    break;
                }
                if (out != null) {
                    out.append('/');
                }
                inParams = false;
                nameLen = 0;
                allDots = true;
                continue;
            }
            if (c == '#') {
                return refused(target, n, Problem.FRAGMENT);
            }
            if (c < 0x20 || c == 0x7f) {
                return refused(target, n, Problem.CONTROL_CHARACTER);
            }
            if (c >= 0x80) {
                return refused(target, n, Problem.RAW_NON_ASCII);
            }
            if (c == '\\') {
                return refused(target, n, Problem.BACKSLASH);
            }
            if (c == ';') {
                params = true;
                if (!inParams) {
                    inParams = true;
                    if (out == null) {
                        out = new StringBuilder(n).append(target, 0, i);
                    }
                }
                continue;
            }
            if (c == '%') {
                int b = hexByte(target, i + 1);
                if (b < 0) {
                    return refused(target, n, Problem.INVALID_ESCAPE);
                }
                if (b == '/' || b == '\\' || b == ';' || b == '?' || b == '#') {
                    return refused(target, n, Problem.ENCODED_SEPARATOR);
                }
                if (b == '%') {
                    return refused(target, n, Problem.DOUBLE_ENCODING);
                }
                if (b < 0x20 || b == 0x7f) {
                    return refused(target, n, Problem.CONTROL_CHARACTER);
                }
                if (out == null) {
                    out = new StringBuilder(n).append(target, 0, i);
                }
                if (b < 0x80) {
                    if (!inParams) {
                        out.append((char) b);
                        nameLen++;
                        allDots &= b == '.';
                    }
                    i += 2;
                    continue;
                }
                int consumed = utf8(target, i, b, inParams ? null : out);
                if (consumed < 0) {
                    return refused(
                            target, n, consumed == C1_CONTROL ? Problem.CONTROL_CHARACTER : Problem.INVALID_UTF8);
                }
                if (!inParams) {
                    nameLen++;
                    allDots = false;
                    unicode = true;
                }
                i += consumed - 1;
                continue;
            }
            if (!inParams) {
                if (out != null) {
                    out.append(c);
                }
                nameLen++;
                allDots &= c == '.';
            }
        }
        if (end < n && target.indexOf('#', end) >= 0) {
            return refused(target, end, Problem.FRAGMENT);
        }
        String raw = end == n ? target : target.substring(0, end);
        String path = out == null ? raw : out.toString();
        if (unicode && !Normalizer.isNormalized(path, Normalizer.Form.NFKC)) {
            return refused(raw, Problem.CONFUSABLE_CHARACTER);
        }
        return new CanonicalPath(path, raw, params, Optional.empty());
    }

    /** Printable ASCII that stands for itself in a path: not a delimiter, escape, backslash or fragment mark. */
    private static final boolean[] PLAIN = new boolean[128];

    static {
        for (char c = 0x21; c < 0x7f; c++) {
            PLAIN[c] = c != '/' && c != '?' && c != '#' && c != '%' && c != ';' && c != '\\';
        }
    }

    private static final int INVALID = -1;
    private static final int C1_CONTROL = -2;

    /**
     * Decodes one percent-encoded UTF-8 sequence starting at {@code target[at]} whose first byte is {@code lead};
     * appends the character to {@code out} (when given). Returns the number of characters of {@code target}
     * consumed, or a negative problem code. Overlong forms, surrogates and code points past U+10FFFF are invalid
     * (RFC 3629 §3).
     */
    private static int utf8(String target, int at, int lead, StringBuilder out) {
        int len;
        int cp;
        int min;
        if (lead >= 0xC2 && lead <= 0xDF) {
            len = 2;
            cp = lead & 0x1F;
            min = 0x80;
        } else if (lead >= 0xE0 && lead <= 0xEF) {
            len = 3;
            cp = lead & 0x0F;
            min = 0x800;
        } else if (lead >= 0xF0 && lead <= 0xF4) {
            len = 4;
            cp = lead & 0x07;
            min = 0x10000;
        } else {
            return INVALID; // continuation byte first, C0/C1 (overlong two-byte) or F5..FF
        }
        for (int k = 1; k < len; k++) {
            int p = at + 3 * k;
            if (p >= target.length() || target.charAt(p) != '%') {
                return INVALID;
            }
            int b = hexByte(target, p + 1);
            if (b < 0x80 || b > 0xBF) {
                return INVALID;
            }
            cp = (cp << 6) | (b & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return INVALID;
        }
        if (cp <= 0x9F) {
            return C1_CONTROL;
        }
        if (out != null) {
            out.appendCodePoint(cp);
        }
        return 3 * len;
    }

    /** The byte of the two hex digits at {@code target[at..at+1]}, or -1. */
    private static int hexByte(String target, int at) {
        if (at + 1 >= target.length()) {
            return -1;
        }
        int hi = Character.digit(target.charAt(at), 16);
        int lo = Character.digit(target.charAt(at + 1), 16);
        // Character.digit accepts non-ASCII digits (fullwidth '１'): those are not hex digits in a URI
        if (hi < 0 || lo < 0 || target.charAt(at) >= 0x80 || target.charAt(at + 1) >= 0x80) {
            return -1;
        }
        return (hi << 4) | lo;
    }

    private static CanonicalPath refused(String target, int end, Problem problem) {
        int q = target.indexOf('?');
        int stop = q < 0 ? Math.min(end, target.length()) : Math.min(q, end);
        return refused(target.substring(0, stop), problem);
    }

    private static CanonicalPath refused(String raw, Problem problem) {
        return new CanonicalPath("", raw, false, Optional.of(problem));
    }

    /** The request target refused because its host has no single spelling (extauthz CanonicalHost says why). */
    public static CanonicalPath refusedHost(String rawPath, String why) {
        return refused(rawPath, Problem.INVALID_HOST);
    }
}
