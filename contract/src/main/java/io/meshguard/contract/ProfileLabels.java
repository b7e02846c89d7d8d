package io.meshguard.contract;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Metric label values for profile names carried by the route contract. A name is operator configuration, but a
 * misconfigured proxy can still send any string: each value is escaped (only {@code [A-Za-z0-9._-]}, at most
 * {@value #MAX_LENGTH} characters) and at most {@code capacity} distinct values are ever handed out; later names
 * share the label {@value #OTHER}. Thread-safe; the common case (a name seen before) is one set lookup.
 */
public final class ProfileLabels {
    public static final int MAX_LENGTH = 64;
    public static final String OTHER = "_other";
    public static final String EMPTY = "_empty";

    private final int capacity;
    private final Set<String> handedOut = ConcurrentHashMap.newKeySet();

    public ProfileLabels(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1");
        }
        this.capacity = capacity;
    }

    /** The label value for this name: its escaped form, or {@value #OTHER} once the capacity is used up. */
    public String label(String name) {
        String escaped = escape(name);
        if (handedOut.contains(escaped)) {
            return escaped;
        }
        synchronized (handedOut) {
            if (handedOut.size() >= capacity) {
                return OTHER;
            }
            handedOut.add(escaped);
            return escaped;
        }
    }

    /** The name with every character outside {@code [A-Za-z0-9._-]} replaced by {@code _}, cut to the maximum length. */
    public static String escape(String name) {
        if (name.isEmpty()) {
            return EMPTY;
        }
        int n = Math.min(name.length(), MAX_LENGTH);
        StringBuilder sb = null;
        for (int i = 0; i < n; i++) {
            char c = name.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z')
                    || (c >= 'A' && c <= 'Z')
                    || (c >= '0' && c <= '9')
                    || c == '.'
                    || c == '_'
                    || c == '-';
            if (!ok && sb == null) {
                sb = new StringBuilder(n).append(name, 0, i);
            }
            if (sb != null) {
                sb.append(ok ? c : '_');
            }
        }
        return sb != null ? sb.toString() : n == name.length() ? name : name.substring(0, n);
    }
}
