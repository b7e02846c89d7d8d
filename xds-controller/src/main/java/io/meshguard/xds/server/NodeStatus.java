package io.meshguard.xds.server;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * What the controller knows about one node: the xDS ACK/NACK is its deployment report. A node is its verified peer
 * identity plus the node id it sent ({@link #key()}): a stranger sending a real gateway's node id gets an entry of its
 * own and cannot overwrite the real one.
 *
 * @param peerIdentity the stream's verified SPIFFE ID (or the local-development marker)
 * @param ackedVersions last version ACKed per resource type URL
 * @param revision the published revision the node fully runs, if its ACKed versions match one
 * @param lastNack the last rejection, kept until a later ACK of the same type
 */
public record NodeStatus(
        String nodeId,
        String peerIdentity,
        String group,
        boolean connected,
        int streams,
        String userAgent,
        Map<String, String> ackedVersions,
        Optional<Long> revision,
        Optional<Nack> lastNack,
        Instant lastSeen) {

    public NodeStatus {
        ackedVersions = Map.copyOf(ackedVersions);
        revision = revision == null ? Optional.empty() : revision;
        lastNack = lastNack == null ? Optional.empty() : lastNack;
    }

    /** Without a peer identity (rows written before identities were recorded). */
    public NodeStatus(
            String nodeId,
            String group,
            boolean connected,
            int streams,
            String userAgent,
            Map<String, String> ackedVersions,
            Optional<Long> revision,
            Optional<Nack> lastNack,
            Instant lastSeen) {
        this(nodeId, "", group, connected, streams, userAgent, ackedVersions, revision, lastNack, lastSeen);
    }

    /** What identifies the node: verified identity and node id together. */
    public Key key() {
        return new Key(peerIdentity, nodeId);
    }

    /** A node: the verified identity of its streams and the node id they sent. */
    public record Key(String peerIdentity, String nodeId) implements Comparable<Key> {
        @Override
        public int compareTo(Key o) {
            int c = nodeId.compareTo(o.nodeId);
            return c != 0 ? c : peerIdentity.compareTo(o.peerIdentity);
        }
    }

    /** A rejected response: which type, which version, the node's error message, when. */
    public record Nack(String typeUrl, String version, String error, Instant at) {}
}
