package io.meshguard.xds.model;

/**
 * A key equal only to a key of the same instance. The draft's unchanged objects stay the same instances from read to
 * read ({@link GatewayConfig#reusing}), so what is worked out per object can be found again in O(1), where a record's
 * own equality and hash would walk it whole.
 */
public record SameInstance(Object value) {
    @Override
    public boolean equals(Object o) {
        return o instanceof SameInstance other && other.value == value;
    }

    @Override
    public int hashCode() {
        return System.identityHashCode(value);
    }

    /**
     * A thread-safe map whose keys are compared by identity and held weakly: what is worked out from an immutable
     * object, kept as long as the object lives. A value must not refer to its key, or the entry never leaves.
     */
    public static <K, V> java.util.Map<K, V> weaklyRemembered() {
        return new com.google.common.collect.MapMaker().weakKeys().makeMap();
    }

    /** A thread-safe map holding at most {@code entries}, the least recently used leaving first. */
    public static <K, V> java.util.Map<K, V> recentlyUsed(int entries) {
        return java.util.Collections.synchronizedMap(new java.util.LinkedHashMap<>(1024, 0.75f, true) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(java.util.Map.Entry<K, V> eldest) {
                return size() > entries;
            }
        });
    }
}
