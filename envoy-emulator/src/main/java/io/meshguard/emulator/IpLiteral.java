package io.meshguard.emulator;

import java.util.regex.Pattern;

/** Whether a string is an IPv4 or IPv6 literal, without any name lookup (what Envoy's address parsing accepts). */
final class IpLiteral {
    private static final Pattern V4 =
            Pattern.compile("(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");
    private static final Pattern V6 = Pattern.compile("[0-9A-Fa-f:.]+");

    private IpLiteral() {}

    static boolean is(String s) {
        if (V4.matcher(s).matches()) {
            return true;
        }
        // an IPv6 literal has at least two colons and only hex digits, colons and (for a mapped v4) dots
        return s.chars().filter(c -> c == ':').count() >= 2 && V6.matcher(s).matches();
    }
}
