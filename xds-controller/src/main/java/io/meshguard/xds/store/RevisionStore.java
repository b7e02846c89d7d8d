package io.meshguard.xds.store;

import io.meshguard.xds.model.GatewayConfig;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Where published revisions live. Implementations: PostgreSQL, and memory for offline rendering and tests. */
public interface RevisionStore {

    /** Stores a new revision of {@code group} with the next id and tells the other controller replicas. */
    Revision append(String group, GatewayConfig slice, String actor, String reason);

    Optional<Revision> get(long id);

    /** The newest revision of every group that has one. */
    Map<String, Revision> latestPerGroup();

    /** The id of the newest revision of every group that has one (cheap: no configurations are read). */
    Map<String, Long> latestIds();

    /** Newest first; all groups when {@code group} is empty. */
    List<Revision.Summary> list(Optional<String> group, int limit);
}
