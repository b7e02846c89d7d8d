package io.meshguard.xds.server;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * What the controller knows about one node: the xDS ACK/NACK is its deployment report.
 *
 * @param ackedVersions last version ACKed per resource type URL
 * @param revision the published revision the node fully runs, if its ACKed versions match one
 * @param lastNack the last rejection, kept until a later ACK of the same type
 */
public record NodeStatus(String nodeId, String group, boolean connected, int streams, String userAgent,
        Map<String, String> ackedVersions, Optional<Long> revision, Optional<Nack> lastNack, Instant lastSeen) {

    public NodeStatus {
        ackedVersions = Map.copyOf(ackedVersions);
        revision = revision == null ? Optional.empty() : revision;
        lastNack = lastNack == null ? Optional.empty() : lastNack;
    }

    /** A rejected response: which type, which version, the node's error message, when. */
    public record Nack(String typeUrl, String version, String error, Instant at) {}
}
