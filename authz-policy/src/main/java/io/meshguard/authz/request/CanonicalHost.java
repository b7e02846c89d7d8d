package io.meshguard.authz.request;

import java.io.ByteArrayOutputStream;
import java.net.IDN;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Optional;

/**
 * The one spelling of a request's host that rules match on, made once per Check like {@link CanonicalPath}: the port
 * dropped, percent escapes decoded, internationalised names in their ASCII (punycode) form, lower case, and the one
 * trailing dot of a fully qualified name removed — {@code ADMIN.bank.example.:443}, {@code admin%2ebank.example} and
 * {@code аdmin} spelt in Unicode all reach the same rule an upstream's virtual host would pick. What cannot be
 * brought to one spelling (a malformed escape, a non-numeric port, characters no DNS name holds, an empty label)
 * is a {@link #problem()}, and the request is refused rather than matched by a weaker rule.
 */
public record CanonicalHost(String host, Optional<String> problem) {

    public static CanonicalHost parse(String raw) {
        String h = raw;
        if (h.startsWith("[")) {
            int end = h.indexOf(']');
            if (end < 0 || !port(h.substring(end + 1))) {
                return refused(raw, "the host's IPv6 literal or port is malformed");
            }
            return new CanonicalHost(h.substring(0, end + 1).toLowerCase(Locale.ROOT), Optional.empty());
        }
        int colon = h.lastIndexOf(':');
        if (colon >= 0) {
            if (!port(h.substring(colon))) {
                return refused(raw, "the host's port is not a number");
            }
            h = h.substring(0, colon);
        }
        if (h.indexOf('%') >= 0) {
            Optional<String> decoded = percentDecoded(h);
            if (decoded.isEmpty()) {
                return refused(raw, "the host has a malformed percent escape");
            }
            h = decoded.get();
        }
        try {
            // IDN.toASCII maps Unicode dots (U+3002 …) to '.', and case-folds
            h = IDN.toASCII(h, IDN.ALLOW_UNASSIGNED);
        } catch (IllegalArgumentException e) {
            return refused(raw, "the host is not a valid internationalised name");
        }
        h = h.toLowerCase(Locale.ROOT);
        if (h.endsWith(".")) {
            h = h.substring(0, h.length() - 1);
        }
        if (h.isEmpty() && raw.isEmpty()) {
            return new CanonicalHost("", Optional.empty());
        }
        if (h.isEmpty() || h.startsWith(".") || h.contains("..")) {
            return refused(raw, "the host has an empty label");
        }
        for (int i = 0; i < h.length(); i++) {
            char c = h.charAt(i);
            if (!(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_')) {
                return refused(raw, "the host holds a character no DNS name has");
            }
        }
        return new CanonicalHost(h, Optional.empty());
    }

    private static CanonicalHost refused(String raw, String why) {
        return new CanonicalHost(raw.toLowerCase(Locale.ROOT), Optional.of(why));
    }

    /** Empty, or ':' followed by 1-5 digits. */
    private static boolean port(String s) {
        if (s.isEmpty()) {
            return true;
        }
        if (s.charAt(0) != ':' || s.length() < 2 || s.length() > 6) {
            return false;
        }
        for (int i = 1; i < s.length(); i++) {
            if (!Character.isDigit(s.charAt(i)) || s.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }

    private static Optional<String> percentDecoded(String s) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%') {
                if (i + 2 >= s.length()) {
                    return Optional.empty();
                }
                int hi = Character.digit(s.charAt(i + 1), 16);
                int lo = Character.digit(s.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) {
                    return Optional.empty();
                }
                out.write(hi * 16 + lo);
                i += 2;
            } else if (c < 0x80) {
                out.write(c);
            } else {
                int cp = s.codePointAt(i);
                byte[] b = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8);
                out.write(b, 0, b.length);
                i += Character.charCount(cp) - 1;
            }
        }
        try {
            return Optional.of(StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(out.toByteArray()))
                    .toString());
        } catch (CharacterCodingException e) {
            return Optional.empty();
        }
    }
}
