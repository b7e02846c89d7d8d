package io.meshguard.runtime.logging;

import java.util.Optional;

/**
 * A W3C Trace Context {@code traceparent} header: {@code version-traceid-parentid-flags}, e.g.
 * {@code 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01}.
 *
 * <p>Parsing follows the specification: lowercase hex only, version {@code ff} is invalid, all-zero trace
 * and parent ids are invalid, version {@code 00} has exactly four fields, and a later version may carry
 * more fields after a dash (which are ignored).
 */
public record TraceParent(String version, String traceId, String parentId, String flags) {
    private static final int VERSION_00_LENGTH = 55;

    /** Parses a header value; empty when it is absent or malformed (a bad header must never fail a request). */
    public static Optional<TraceParent> parse(String header) {
        if (header == null) {
            return Optional.empty();
        }
        String value = header.strip();
        if (value.length() < VERSION_00_LENGTH) {
            return Optional.empty();
        }
        String version = value.substring(0, 2);
        if (!isHex(version) || version.equals("ff")) {
            return Optional.empty();
        }
        if (version.equals("00")
                ? value.length() != VERSION_00_LENGTH
                : value.length() > VERSION_00_LENGTH && value.charAt(VERSION_00_LENGTH) != '-') {
            return Optional.empty();
        }
        if (value.charAt(2) != '-' || value.charAt(35) != '-' || value.charAt(52) != '-') {
            return Optional.empty();
        }
        String traceId = value.substring(3, 35);
        String parentId = value.substring(36, 52);
        String flags = value.substring(53, 55);
        if (!isHex(traceId) || !isHex(parentId) || !isHex(flags) || isZero(traceId) || isZero(parentId)) {
            return Optional.empty();
        }
        return Optional.of(new TraceParent(version, traceId, parentId, flags));
    }

    /** Whether the caller recorded this trace (flag bit 0). */
    public boolean sampled() {
        return (Integer.parseInt(flags, 16) & 1) == 1;
    }

    @Override
    public String toString() {
        return version + "-" + traceId + "-" + parentId + "-" + flags;
    }

    private static boolean isHex(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) {
                return false;
            }
        }
        return true;
    }

    private static boolean isZero(String s) {
        return s.chars().allMatch(c -> c == '0');
    }
}
