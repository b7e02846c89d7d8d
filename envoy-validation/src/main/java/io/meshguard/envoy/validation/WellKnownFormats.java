package io.meshguard.envoy.validation;

import io.envoyproxy.pgv.validate.Validate.KnownRegex;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The well-known string formats of protoc-gen-validate, as its templates define them (hostname: labels of 1-63
 * letters, digits and inner hyphens, 253 at most; IP literals without brackets or zones; URI absolute, URI reference
 * any; UUID in 8-4-4-4-12 hex) and its two HTTP header regexes, strict and not.
 */
final class WellKnownFormats {
    private static final Pattern IPV4 =
            Pattern.compile("((25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)\\.){3}(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)");
    private static final Pattern UUID =
            Pattern.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
    /** validate.proto, KnownRegex HTTP_HEADER_NAME (strict): RFC 7230 token, optionally a pseudo-header. */
    static final String HEADER_NAME_STRICT = "^:?[0-9a-zA-Z!#$%&'*+-.^_|~`]+$";
    /** validate.proto, KnownRegex HTTP_HEADER_VALUE (strict): no control characters but horizontal tab. */
    static final String HEADER_VALUE_STRICT = "^[^\\x00-\\x08\\x0A-\\x1F\\x7F]*$";
    /** validate.proto, {@code strict: false}: only NUL, LF and CR are refused, for names and values alike. */
    static final String HEADER_LOOSE = "^[^\\x00\\n\\r]*$";

    private WellKnownFormats() {}

    static boolean hostname(String s) {
        if (s.length() > 253) {
            return false;
        }
        String host = s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
        for (String label : host.toLowerCase(Locale.ROOT).split("\\.", -1)) {
            if (label.isEmpty() || label.length() > 63 || label.startsWith("-") || label.endsWith("-")) {
                return false;
            }
            for (char c : label.toCharArray()) {
                if (!(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-')) {
                    return false;
                }
            }
        }
        return true;
    }

    static boolean ip(String s) {
        return ipv4(s) || ipv6(s);
    }

    static boolean ipv4(String s) {
        return IPV4.matcher(s).matches();
    }

    static boolean ipv6(String s) {
        if (!s.contains(":") || s.contains("[") || s.contains("%")) {
            return false;
        }
        try {
            // a literal with ':' is parsed, never looked up
            return java.net.InetAddress.getByName(s) instanceof java.net.Inet6Address
                    || s.toLowerCase(Locale.ROOT).startsWith("::ffff:");
        } catch (java.net.UnknownHostException | SecurityException e) {
            return false;
        }
    }

    static boolean email(String s) {
        int at = s.lastIndexOf('@');
        if (at <= 0 || at > 64 || s.length() > 254 || s.chars().anyMatch(c -> c <= ' ' || c == '<' || c == '>')) {
            return false;
        }
        return hostname(s.substring(at + 1));
    }

    static boolean uri(String s) {
        try {
            return new URI(s).isAbsolute();
        } catch (URISyntaxException e) {
            return false;
        }
    }

    static boolean uriRef(String s) {
        try {
            new URI(s);
            return true;
        } catch (URISyntaxException e) {
            return false;
        }
    }

    static boolean uuid(String s) {
        return UUID.matcher(s).matches();
    }

    /** The regex of a well-known kind; empty for UNKNOWN (no check). */
    static String knownRegex(KnownRegex kind, boolean strict) {
        return switch (kind) {
            case HTTP_HEADER_NAME -> strict ? HEADER_NAME_STRICT : HEADER_LOOSE;
            case HTTP_HEADER_VALUE -> strict ? HEADER_VALUE_STRICT : HEADER_LOOSE;
            case UNKNOWN -> "";
        };
    }
}
