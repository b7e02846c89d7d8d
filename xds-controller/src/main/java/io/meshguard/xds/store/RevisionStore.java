package io.meshguard.xds.store;

import io.meshguard.xds.model.GatewayConfig;
import java.util.List;
import java.util.Optional;

/** Where published revisions live. Implementations: PostgreSQL, and memory for offline rendering and tests. */
public interface RevisionStore {

    /** Stores a new revision with the next id and tells the other controller replicas. */
    Revision append(GatewayConfig config, String actor, String reason);

    Optional<Revision> latest();

    Optional<Revision> get(long id);

    /** Newest first. */
    List<Revision.Summary> list(int limit);
}
