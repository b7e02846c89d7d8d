package io.meshguard.xds.snapshot;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Built virtual hosts, routes, clusters and load assignments kept for reuse, by what they are built from. Every draft
 * change validates the whole draft (a build with the default filter targets), every publish builds what it serves, and
 * the next publish again; each of these depends on its inputs only, so an unchanged one is taken from here, and equal
 * inputs give the same instance, whose checks ({@code EnvoyLoadCheck}) and hash protobuf memoizes. Virtual hosts are
 * found by the identity of the objects they are built from (a draft read again keeps the unchanged ones' instances),
 * routes and the rest by their inputs' equality.
 */
final class RememberedParts {
    /** How many parts a bounded store keeps, least recently used out. */
    static final int REMEMBERED_PARTS = 65_536;

    /** The parts every builder of this process shares (validation and publish build the same ones). */
    static final RememberedParts SHARED = bounded();

    private final Map<Object, Object> parts;

    private RememberedParts(Map<Object, Object> parts) {
        this.parts = parts;
    }

    /** At most {@link #REMEMBERED_PARTS}, least recently used out. */
    static RememberedParts bounded() {
        return new RememberedParts(new LinkedHashMap<>(1024, 0.75f, true) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<Object, Object> eldest) {
                return size() > REMEMBERED_PARTS;
            }
        });
    }

    /** Everything put, for a builder that lives for one build and leaves with what it made. */
    static RememberedParts unbounded() {
        return new RememberedParts(new HashMap<>());
    }

    /** What {@code build} made from equal {@code inputs} before, or what it makes now (then remembered). */
    @SuppressWarnings("unchecked") // each inputs record type maps to one output type
    <T> T get(Object inputs, Supplier<T> build) {
        synchronized (parts) {
            Object known = parts.get(inputs);
            if (known != null) {
                return (T) known;
            }
        }
        T built = build.get();
        synchronized (parts) {
            parts.put(inputs, built);
        }
        return built;
    }
}
