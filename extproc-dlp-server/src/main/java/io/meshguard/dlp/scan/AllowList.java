package io.meshguard.dlp.scan;

import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * A rule's allow-list compiled for the scan: the same decision as {@link DetectorRule#allowed(String)}, made on the
 * found bytes without building strings for the common case (ASCII values, a short list), since dense text checks
 * every card number and e-mail address against it.
 */
final class AllowList {
    private static final int LINEAR_MAX = 32;

    private final DetectorRule rule;
    private final byte[][] values; // normalized, ASCII; null when the String path is used
    private final byte[][] domains; // lower-cased, ASCII; null when the String path is used
    private final boolean empty;
    private byte[] scratch = new byte[64];

    AllowList(DetectorRule rule) {
        this.rule = rule;
        this.empty = rule.allowValues().isEmpty() && rule.allowDomains().isEmpty();
        this.values = asciiBytes(rule.allowValues().stream().toList(), false);
        this.domains = asciiBytes(rule.allowDomains(), true);
    }

    private static byte[][] asciiBytes(java.util.List<String> list, boolean lower) {
        if (list.size() > LINEAR_MAX) {
            return null;
        }
        byte[][] out = new byte[list.size()][];
        for (int k = 0; k < out.length; k++) {
            String s = lower ? list.get(k).toLowerCase(Locale.ROOT) : list.get(k);
            for (int c = 0; c < s.length(); c++) {
                if (s.charAt(c) >= 0x80) {
                    return null;
                }
            }
            out[k] = s.getBytes(StandardCharsets.US_ASCII);
        }
        return out;
    }

    boolean isEmpty() {
        return empty;
    }

    /** Whether the value {@code b[s, e)} is allowed (never reported). */
    boolean allowed(byte[] b, int s, int e) {
        if (empty) {
            return false;
        }
        for (int k = s; k < e; k++) {
            if (b[k] < 0) {
                return rule.allowed(new String(b, s, e - s, StandardCharsets.UTF_8));
            }
        }
        if (values == null || domains == null) {
            return rule.allowed(new String(b, s, e - s, StandardCharsets.US_ASCII));
        }
        if (values.length > 0) {
            if (scratch.length < e - s) {
                scratch = new byte[e - s];
            }
            int n = 0;
            for (int k = s; k < e; k++) {
                if (b[k] != ' ' && b[k] != '-') {
                    scratch[n++] = b[k];
                }
            }
            for (byte[] v : values) {
                if (java.util.Arrays.equals(v, 0, v.length, scratch, 0, n)) {
                    return true;
                }
            }
        }
        for (byte[] d : domains) {
            int at = e - d.length - 1;
            if (at < s || (b[at] != '@' && b[at] != '.')) {
                continue;
            }
            boolean same = true;
            for (int k = 0; k < d.length && same; k++) {
                byte x = b[at + 1 + k];
                same = (x >= 'A' && x <= 'Z' ? (byte) (x + 32) : x) == d[k];
            }
            if (same) {
                return true;
            }
        }
        return false;
    }
}
