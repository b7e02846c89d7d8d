package io.meshguard.dlp.detect;

import static io.meshguard.dlp.detect.BuiltinRecognizer.MAX_PEM;
import static io.meshguard.dlp.detect.BuiltinRecognizer.alnum;
import static io.meshguard.dlp.detect.BuiltinRecognizer.digit;
import static io.meshguard.dlp.detect.BuiltinRecognizer.hex;
import static io.meshguard.dlp.detect.BuiltinRecognizer.literal;

import java.util.function.Consumer;

/**
 * The built-in detectors tried where a token starts: IBAN (mod-97 check), private keys (PEM blocks and PuTTY key
 * files) and IPv6 addresses. Stateless: each reads through the stream's {@link TextWindow} and reports through its
 * {@link BuiltinRecognizer}, which keeps the per-detector state.
 */
final class TokenStartDetectors {
    private TokenStartDetectors() {}

    private static final byte[] PPK_BEGIN = "PuTTY-User-Key-File-".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final byte[] PPK_PRIVATE = "Private-Lines:".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final byte[] PPK_MAC = "Private-MAC:".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    /**
     * A PuTTY private key file ({@code .ppk}, versions 2 and 3): from {@code PuTTY-User-Key-File-} through the line
     * of {@code Private-MAC:}, or through the base64 lines after {@code Private-Lines:} when no MAC line follows.
     * Without {@code Private-Lines:} within {@link BuiltinRecognizer#MAX_PEM} bytes it is no private key file.
     */
    static void ppk(BuiltinRecognizer r, TextWindow t, int i, Consumer<Candidate> out) {
        if (!literal(t, i, PPK_BEGIN)) {
            return;
        }
        int limit = i + MAX_PEM;
        int lines = -1;
        for (int k = i + PPK_BEGIN.length; k < limit; k++) {
            int c = t.at(k);
            if (c < 0) {
                return;
            }
            if (c == 'P' && literal(t, k, PPK_PRIVATE)) {
                lines = k + PPK_PRIVATE.length;
                break;
            }
        }
        if (lines < 0) {
            return;
        }
        for (int k = lines; k < limit; k++) {
            int c = t.at(k);
            if (c < 0) {
                break;
            }
            if (c == 'P' && literal(t, k, PPK_MAC)) {
                int e = k + PPK_MAC.length;
                while (e < limit && t.at(e) >= 0 && t.at(e) != '\n' && t.at(e) != '\r') {
                    e++;
                }
                r.report(BuiltinDetector.PRIVATE_KEY, t, i, e, 1.0, out);
                return;
            }
        }
        r.report(BuiltinDetector.PRIVATE_KEY, t, i, base64BodyEnd(t, lines, limit), 1.0, out);
    }

    /** Where a base64 key body starting at {@code from} ends (line breaks and spaces are part of it). */
    private static int base64BodyEnd(TextWindow t, int from, int limit) {
        int e = from;
        while (e < limit) {
            int c = t.at(e);
            if (alnum(c) || c == '+' || c == '/' || c == '=' || c == '\r' || c == '\n' || c == ' ') {
                e++;
            } else {
                break;
            }
        }
        return e;
    }

    static void iban(BuiltinRecognizer r, TextWindow t, int i, Consumer<Candidate> out) {
        int c1 = t.at(i + 1);
        if (!(c1 >= 'A' && c1 <= 'Z') || !digit(t.at(i + 2)) || !digit(t.at(i + 3))) {
            return;
        }
        int len = Checksums.ibanLength(t.at(i), c1);
        if (len == 0) {
            return;
        }
        // The check (Checksums.ibanMod97) worked out as the walk reads the characters after the first four, spaces
        // skipped: the number they make, a letter as two digits, reduced mod 97 before it could overflow. The first
        // four (country code and check digits, tested above), which the standard moves to the end, come last as six
        // digits. No second loop over gathered characters.
        long rem = 0;
        int nc = 4;
        int j = i + 4;
        while (nc < len) {
            int c = t.at(j);
            if (digit(c)) {
                rem = rem * 10 + (c - '0');
            } else if (c >= 'A' && c <= 'Z') {
                rem = rem * 100 + (c - 'A' + 10);
            } else if (c == ' ' && nc % 4 == 0 && alnum(t.at(j + 1))) {
                j++;
                continue;
            } else {
                return;
            }
            if (rem >= 10_000_000_000_000_000L) { // below 10^16, times 100 plus 35 stays far below 2^63
                rem %= 97;
            }
            nc++;
            j++;
        }
        long head = ((t.at(i) - 'A' + 10) * 100 + (c1 - 'A' + 10)) * 100 + (t.at(i + 2) - '0') * 10 + t.at(i + 3) - '0';
        if (alnum(t.at(j)) || ((rem % 97) * 1_000_000 + head) % 97 != 1) {
            return;
        }
        r.report(BuiltinDetector.IBAN, t, i, j, 0.9, out);
    }

    private static final byte[] PEM_BEGIN = "-----BEGIN ".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final byte[] PEM_END = "-----END ".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    static void pem(BuiltinRecognizer r, TextWindow t, int i, Consumer<Candidate> out) {
        if (!literal(t, i, PEM_BEGIN)) {
            return;
        }
        int j = i + PEM_BEGIN.length;
        StringBuilder label = new StringBuilder();
        while (true) {
            int c = t.at(j);
            if ((c >= 'A' && c <= 'Z') || digit(c) || c == ' ') {
                label.append((char) c);
                j++;
                if (label.length() > 40) {
                    return;
                }
            } else {
                break;
            }
        }
        // "PRIVATE KEY" covers PKCS#1/#8 ("ENCRYPTED PRIVATE KEY" too) and OpenSSH; OpenPGP armour ends its label
        // with "PRIVATE KEY BLOCK" (RFC 4880 section 6.2).
        String kind = label.toString();
        if (!(kind.endsWith("PRIVATE KEY") || kind.endsWith("PRIVATE KEY BLOCK"))
                || !literal(t, j, "-----".getBytes())) {
            return;
        }
        j += 5;
        int bodyStart = j;
        int limit = i + MAX_PEM;
        for (int k = bodyStart; k < limit; k++) {
            int c = t.at(k);
            if (c < 0) {
                break;
            }
            if (c == '-' && literal(t, k, PEM_END)) {
                int e = k + PEM_END.length;
                while (e < limit) {
                    int d = t.at(e);
                    if (d == '-' && literal(t, e, "-----".getBytes())) {
                        r.report(BuiltinDetector.PRIVATE_KEY, t, i, e + 5, 1.0, out);
                        return;
                    }
                    if (d < 0 || d == '\n') {
                        break;
                    }
                    e++;
                }
                break;
            }
        }
        // No END marker within reach: the key is still a key; take the base64 body after the header.
        r.report(BuiltinDetector.PRIVATE_KEY, t, i, base64BodyEnd(t, bodyStart, limit), 1.0, out);
    }

    static void ipv6(BuiltinRecognizer r, TextWindow t, int i, Consumer<Candidate> out) {
        int j = i;
        int groups = 0;
        boolean compressed = false;
        if (t.at(j) == ':') {
            compressed = true;
            j += 2;
        }
        int end = j;
        while (true) {
            int h = 0;
            while (hex(t.at(j + h))) {
                if (++h > 4) {
                    return;
                }
            }
            if (h == 0) {
                break;
            }
            j += h;
            groups++;
            end = j;
            int c = t.at(j);
            if (c != ':' || groups == 8) {
                break;
            }
            int c2 = t.at(j + 1);
            if (c2 == ':') {
                if (compressed) {
                    break;
                }
                compressed = true;
                j += 2;
                end = j;
            } else if (hex(c2)) {
                j++;
            } else {
                break;
            }
        }
        int next = t.at(end);
        if (alnum(next) || next == ':' || next == '_' || (next == '.' && alnum(t.at(end + 1)))) {
            return;
        }
        if (!(groups == 8 && !compressed) && !(compressed && groups <= 7)) {
            return;
        }
        r.report(BuiltinDetector.IPV6, t, i, end, groups >= 3 ? 0.6 : 0.4, out);
    }
}
