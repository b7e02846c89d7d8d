package io.meshguard.runtime.logging;

/**
 * Masks card numbers (PANs) and national identity numbers in audit text before it is written. DLP scans bodies;
 * paths, query strings, headers and claim values reach the audit trail without passing it, and a card number in
 * {@code /cards/4532…} would otherwise sit in the {@code path} column and every export of it.
 *
 * <p>What is masked, in any text column and any string in the details:
 * <ul>
 *   <li>a PAN: a group of 13–19 digits, Luhn-valid (ISO/IEC 7812-1), its digits separated by at most one space,
 *       {@code -}, {@code .}, {@code _}, {@code +} or the percent-escapes {@code %20} / {@code %2D} (a space or a
 *       hyphen in a URL); all digits but the last four become {@code *};</li>
 *   <li>a Korean resident or foreigner registration number (RRN/FRN): 13 digits as {@code YYMMDD} (a valid month and
 *       day) then a gender/century digit 1–8, with or without the hyphen; every digit becomes {@code *} (the checksum
 *       is not required: numbers issued since October 2020 do not carry one).</li>
 * </ul>
 * A group is taken whole (it is not preceded or followed by another digit); a run of more than 19 digits is not a PAN,
 * and neither is a group inside a request or trace id (a UUID, a 32-hex-digit id, a {@code traceparent}), whose hex
 * digits can spell a Luhn-valid run by chance.
 * The mask keeps the length, so column widths and clipping do not change. Cost: text shorter than 13 characters is
 * returned at once; text with fewer than 13 ASCII digits (nearly every path, id and reason) is returned as it is after
 * one pass of counting, with no allocation.
 */
public final class SensitiveText {
    private SensitiveText() {}

    private static final int MIN_DIGITS = 13;
    private static final int MAX_DIGITS = 19;

    /** Identifier shapes: {@code x} is a hex digit, {@code -} itself. */
    private static final char[] UUID = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx".toCharArray();

    private static final char[] TRACE_ID = "x".repeat(32).toCharArray();
    private static final char[] TRACEPARENT = ("xx-" + "x".repeat(32) + "-" + "x".repeat(16) + "-xx").toCharArray();

    /** {@code text} with PANs and national ids masked; the same instance when there is nothing to mask. */
    public static String mask(String text) {
        if (text == null || !enoughDigits(text)) {
            return text;
        }
        char[] out = null;
        int n = text.length();
        int[] pos = new int[MAX_DIGITS + 1];
        int i = 0;
        while (i < n) {
            char c = text.charAt(i);
            if (!isDigit(c) || (i > 0 && isDigit(text.charAt(i - 1)))) {
                i++;
                continue;
            }
            // a group starts at i: digits with single separators between them
            int count = 0;
            int j = i;
            int hyphenAfter = -1; // digit count before the first hyphen (for YYMMDD-GNNNNNN)
            boolean tooLong = false;
            while (j < n) {
                char d = text.charAt(j);
                if (isDigit(d)) {
                    if (count == MAX_DIGITS) {
                        tooLong = true;
                        count++;
                        break;
                    }
                    pos[count++] = j++;
                    continue;
                }
                int sep = separatorLength(text, j);
                if (sep == 0 || j + sep >= n || !isDigit(text.charAt(j + sep))) {
                    break;
                }
                if (hyphenAfter < 0 && (d == '-' || sep == 3)) {
                    hyphenAfter = count;
                }
                j += sep;
            }
            if (tooLong) {
                while (j < n && (isDigit(text.charAt(j)) || separatorLength(text, j) > 0)) {
                    j++;
                }
                i = j;
                continue;
            }
            int keep = -1;
            if (count >= MIN_DIGITS && luhn(text, pos, count)) {
                keep = 4;
            } else if (count == 13 && (hyphenAfter < 0 || hyphenAfter == 6) && registrationNumber(text, pos)) {
                keep = 0;
            }
            if (keep >= 0 && insideRequestOrTraceId(text, pos[0], pos[count - 1])) {
                keep = -1; // an id's hex digits can spell a Luhn-valid run: a request or trace id is not a card
            }
            if (keep >= 0) {
                if (out == null) {
                    out = text.toCharArray();
                }
                for (int k = 0; k < count - keep; k++) {
                    out[pos[k]] = '*';
                }
            }
            i = Math.max(j, i + 1);
        }
        return out == null ? text : new String(out);
    }

    /**
     * Whether the digits from {@code first} to {@code last} lie in one request or trace identifier: a canonical UUID
     * (8-4-4-4-12 hex digits; Envoy's {@code x-request-id}), a 32-hex-digit trace id (W3C, B3, a dashless request id)
     * or a whole W3C {@code traceparent} (2-32-16-2), none glued to another letter or digit. About one UUID in a few
     * thousand has decimal groups such as "48c45391-7036-4478-8318-…" whose 17 digits pass Luhn, and about one trace
     * id in a thousand holds a Luhn-valid run of 13–19 digits between two letters; masked, the request's rows no
     * longer join on its id. The price: a PAN someone hides inside such a shape on purpose is kept.
     */
    private static boolean insideRequestOrTraceId(String s, int first, int last) {
        return inside(s, first, last, UUID) || inside(s, first, last, TRACE_ID) || inside(s, first, last, TRACEPARENT);
    }

    /** Whether {@code shape} is at some place of {@code s} that holds both {@code first} and {@code last}. */
    private static boolean inside(String s, int first, int last, char[] shape) {
        for (int p = Math.max(0, last - shape.length + 1); p <= first; p++) {
            if (shapeAt(s, p, shape)) {
                return true;
            }
        }
        return false;
    }

    private static boolean shapeAt(String s, int p, char[] shape) {
        int end = p + shape.length;
        if (end > s.length() || p > 0 && isAlnum(s.charAt(p - 1)) || end < s.length() && isAlnum(s.charAt(end))) {
            return false;
        }
        for (int k = 0; k < shape.length; k++) {
            char c = s.charAt(p + k);
            if (shape[k] == '-' ? c != '-' : !(isDigit(c) || (c | 0x20) >= 'a' && (c | 0x20) <= 'f')) {
                return false;
            }
        }
        return true;
    }

    private static boolean isAlnum(char c) {
        return isDigit(c) || (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
    }

    /** True when the text holds at least {@link #MIN_DIGITS} ASCII digits (the quick pre-check). */
    private static boolean enoughDigits(String s) {
        int n = s.length();
        if (n < MIN_DIGITS) {
            return false; // most columns and keys: a method, a reason code, a decision, a detail's name
        }
        int digits = 0;
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c >= '0' && c <= '9' && ++digits >= MIN_DIGITS) {
                return true;
            }
        }
        return false;
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    /** Length of a separator at {@code s[i]}: 1 for a separator character, 3 for {@code %20}/{@code %2D}, else 0. */
    private static int separatorLength(String s, int i) {
        char c = s.charAt(i);
        if (c == ' ' || c == '-' || c == '.' || c == '_' || c == '+') {
            return 1;
        }
        if (c == '%' && i + 2 < s.length() && s.charAt(i + 1) == '2') {
            char e = s.charAt(i + 2);
            if (e == '0' || e == 'D' || e == 'd') {
                return 3;
            }
        }
        return 0;
    }

    private static boolean luhn(String s, int[] pos, int count) {
        int sum = 0;
        for (int k = 0; k < count; k++) {
            int d = s.charAt(pos[count - 1 - k]) - '0';
            if ((k & 1) == 1) {
                d *= 2;
                if (d > 9) {
                    d -= 9;
                }
            }
            sum += d;
        }
        return sum % 10 == 0;
    }

    /** YYMMDD with a real month and day, then a gender/century digit 1–8 (RRN 1–4, FRN 5–8). */
    private static boolean registrationNumber(String s, int[] pos) {
        int month = (s.charAt(pos[2]) - '0') * 10 + (s.charAt(pos[3]) - '0');
        int day = (s.charAt(pos[4]) - '0') * 10 + (s.charAt(pos[5]) - '0');
        int g = s.charAt(pos[6]) - '0';
        return month >= 1 && month <= 12 && day >= 1 && day <= 31 && g >= 1 && g <= 8;
    }
}
