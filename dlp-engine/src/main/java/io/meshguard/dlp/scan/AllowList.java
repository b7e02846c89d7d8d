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
    /** The last bytes of the allowed values, a bit per byte value (the empty value has none). */
    private final long[] lastBytes;
    /** Normalized copy of the value being checked: the only state, so one per stream ({@link #newStream}). */
    private byte[] scratch = EMPTY;

    private static final byte[] EMPTY = new byte[0];

    AllowList(DetectorRule rule) {
        this.rule = rule;
        this.lastBytes = new long[4];
        this.empty = rule.allowValues().isEmpty() && rule.allowDomains().isEmpty();
        this.values = asciiBytes(rule.allowValues().stream().toList(), false);
        this.domains = asciiBytes(rule.allowDomains(), true);
        if (values != null) {
            for (byte[] v : values) {
                if (v.length > 0) {
                    int last = v[v.length - 1];
                    lastBytes[last >>> 6] |= 1L << last;
                }
            }
        }
    }

    private AllowList(AllowList compiled) {
        rule = compiled.rule;
        values = compiled.values;
        domains = compiled.domains;
        empty = compiled.empty;
        lastBytes = compiled.lastBytes;
    }

    /**
     * The same compiled list with its own scratch buffer, for another stream; an empty list never touches its scratch,
     * so every stream shares the compiled one (most rules have no allow-list: a held stream keeps no copy of them).
     */
    AllowList newStream() {
        return empty ? this : new AllowList(this);
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
        if (values == null || domains == null) {
            return rule.allowed(new String(b, s, e - s, StandardCharsets.UTF_8));
        }
        // Only the domains need the String path for a value that is not ASCII (lower-casing may turn a character
        // into ASCII letters). The values are ASCII, so a value that is not never equals one, as the String path
        // finds too.
        if (domains.length > 0 && !ascii(b, s, e)) {
            return rule.allowed(new String(b, s, e - s, StandardCharsets.UTF_8));
        }
        if (values.length > 0 && mayBeValue(b, s, e) && isValue(b, s, e)) {
            return true;
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

    /**
     * False when no allowed value ends with the value's last byte that is not a space or dash: most values (every
     * card number that is not a test number ending like one) are told apart without being copied and compared.
     */
    private boolean mayBeValue(byte[] b, int s, int e) {
        int k = e - 1;
        while (k >= s && (b[k] == ' ' || b[k] == '-')) {
            k--;
        }
        return k < s || (lastBytes[(b[k] & 0xff) >>> 6] & 1L << b[k]) != 0;
    }

    /** Whether the value without its spaces and dashes is one of {@link #values}. */
    private boolean isValue(byte[] b, int s, int e) {
        if (scratch.length < e - s) {
            scratch = new byte[Math.max(64, e - s)];
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
        return false;
    }

    private static final java.lang.invoke.VarHandle LONGS =
            java.lang.invoke.MethodHandles.byteArrayViewVarHandle(long[].class, java.nio.ByteOrder.LITTLE_ENDIAN);

    /**
     * Whether {@code b[s, e)} is all ASCII: eight bytes a step, as e-mail addresses are a few dozen bytes, the last
     * step the range's last eight bytes (overlapping the one before) rather than a loop over what is left.
     */
    static boolean ascii(byte[] b, int s, int e) {
        long high = 0;
        if (e - s < 8) {
            for (int k = s; k < e; k++) {
                high |= b[k];
            }
        } else {
            for (int k = s; k + 8 < e; k += 8) {
                high |= (long) LONGS.get(b, k);
            }
            high |= (long) LONGS.get(b, e - 8);
        }
        return (high & 0x8080808080808080L) == 0;
    }
}
