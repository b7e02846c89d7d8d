package io.meshguard.authz.policy;

import java.util.Map;

/**
 * A read-only string-keyed hash table that looks keys up by a region of a longer string, so the route index can try
 * every prefix of a path or suffix of a host without allocating a substring per try. Hashes are {@link String#hashCode}
 * over the region, which lets a caller extend one running hash as it walks a path.
 */
final class RegionTable<V> {
    private final String[] keys;
    private final Object[] values;
    private final int mask;

    RegionTable(Map<String, V> entries) {
        int capacity = Integer.highestOneBit(Math.max(4, entries.size() * 2 + 1) - 1) << 1;
        keys = new String[capacity];
        values = new Object[capacity];
        mask = capacity - 1;
        entries.forEach((k, v) -> {
            int i = spread(k.hashCode()) & mask;
            while (keys[i] != null) {
                i = (i + 1) & mask;
            }
            keys[i] = k;
            values[i] = v;
        });
    }

    /** The value for {@code s[from, to)}, given that region's {@link #hash}; null when absent. */
    @SuppressWarnings("unchecked")
    V get(String s, int from, int to, int hash) {
        int len = to - from;
        for (int i = spread(hash) & mask; keys[i] != null; i = (i + 1) & mask) {
            String k = keys[i];
            if (k.length() == len && s.regionMatches(from, k, 0, len)) {
                return (V) values[i];
            }
        }
        return null;
    }

    V get(String s, int from, int to) {
        return get(s, from, to, hash(s, from, to));
    }

    static int hash(String s, int from, int to) {
        int h = 0;
        for (int i = from; i < to; i++) {
            h = 31 * h + s.charAt(i);
        }
        return h;
    }

    private static int spread(int h) {
        h ^= h >>> 16;
        h *= 0x45d9f3b;
        return h ^ (h >>> 16);
    }
}
