package io.meshguard.catalogmodel;

import java.util.Objects;

/**
 * A product made reachable on one cluster and environment with one auth mode. Publishing compiles it into a revision
 * of the target gateway group, so diff, four eyes and rollback are those of every other change.
 */
public record ProductPublish(
        String id,
        String productId,
        String cluster,
        Environment environment,
        AuthMode authMode,
        PublishState state,
        PublishHost host) {

    public ProductPublish {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(productId, "productId");
        Objects.requireNonNull(cluster, "cluster");
        Objects.requireNonNull(environment, "environment");
        Objects.requireNonNull(authMode, "authMode");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(host, "host");
    }
}
