package io.meshguard.xds.store;

import io.meshguard.xds.model.GatewayConfig;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Where published revisions live. Implementations: PostgreSQL, and memory for offline rendering and tests. */
public interface RevisionStore {

    /** Stores a new revision of {@code group} with the next id and tells the other controller replicas. */
    Revision append(String group, GatewayConfig slice, String actor, String reason);

    /** New revisions written but not yet stored: nothing of them is visible or announced before {@link #commit}. */
    interface Pending {
        /** No revisions: commits to none. */
        Pending NONE = new Pending() {
            @Override
            public Map<String, Revision> commit() {
                return Map.of();
            }

            @Override
            public void abort() {}
        };

        /** Stores them (each the newest of its group) and tells the other replicas; the revisions by group. */
        Map<String, Revision> commit();

        /** Leaves no trace of them. */
        void abort();
    }

    /**
     * Writes a new revision of each group in {@code slices} ahead of the decision to store them, so that writing them
     * overlaps the checks that decide (a publish's validation). This default writes nothing until {@code commit}.
     */
    default Pending prepare(Map<String, GatewayConfig> slices, String actor, String reason) {
        return new Pending() {
            @Override
            public Map<String, Revision> commit() {
                Map<String, Revision> out = new java.util.LinkedHashMap<>();
                slices.forEach((group, slice) -> out.put(group, append(group, slice, actor, reason)));
                return out;
            }

            @Override
            public void abort() {}
        };
    }

    Optional<Revision> get(long id);

    /** The newest revision of every group that has one. */
    Map<String, Revision> latestPerGroup();

    /** The id of the newest revision of every group that has one (cheap: no configurations are read). */
    Map<String, Long> latestIds();

    /** Newest first; all groups when {@code group} is empty. */
    List<Revision.Summary> list(Optional<String> group, int limit);
}
