package io.meshguard.audit;

import java.util.Optional;

/** Reads the trace id out of a W3C {@code traceparent} header ({@code 00-<32 hex>-<16 hex>-<2 hex>}). */
public final class TraceContext {
    private TraceContext() {}

    /** The 32-hex-digit trace id, or empty when the header is absent, malformed or carries the all-zero id. */
    public static Optional<String> traceId(String traceparent) {
        if (traceparent == null) {
            return Optional.empty();
        }
        String value = traceparent.trim();
        // version(2) - trace-id(32) - parent-id(16) - flags(2); future versions may append fields after a '-'.
        if (value.length() < 55 || value.charAt(2) != '-' || value.charAt(35) != '-' || value.charAt(52) != '-') {
            return Optional.empty();
        }
        String version = value.substring(0, 2);
        if (!isLowerHex(version) || version.equals("ff")) {
            return Optional.empty();
        }
        if (version.equals("00") && value.length() != 55) {
            return Optional.empty();
        }
        String traceId = value.substring(3, 35);
        if (!isLowerHex(traceId) || traceId.chars().allMatch(c -> c == '0')) {
            return Optional.empty();
        }
        if (!isLowerHex(value.substring(36, 52)) || !isLowerHex(value.substring(53, 55))) {
            return Optional.empty();
        }
        return Optional.of(traceId);
    }

    private static boolean isLowerHex(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
                return false;
            }
        }
        return true;
    }
}
