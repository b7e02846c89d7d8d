package io.meshguard.xds.store;

import io.meshguard.xds.model.GatewayConfig;
import java.time.Instant;

/** A published configuration: immutable once stored; who published it, when and why. */
public record Revision(long id, GatewayConfig config, String actor, String reason, Instant createdAt) {

    /** The revision without its configuration, for lists. */
    public Summary summary() {
        return new Summary(id, actor, reason, createdAt);
    }

    public record Summary(long id, String actor, String reason, Instant createdAt) {}
}
