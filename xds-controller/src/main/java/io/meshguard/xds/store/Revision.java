package io.meshguard.xds.store;

import io.meshguard.xds.model.GatewayConfig;
import java.time.Instant;

/**
 * A published configuration of one gateway group: immutable once stored; who published it, when and why.
 *
 * @param config the group's slice: the group, its routes and the APIs and upstreams they use
 */
public record Revision(long id, String group, GatewayConfig config, String actor, String reason, Instant createdAt) {

    /** The revision without its configuration, for lists. */
    public Summary summary() {
        return new Summary(id, group, actor, reason, createdAt);
    }

    public record Summary(long id, String group, String actor, String reason, Instant createdAt) {}
}
