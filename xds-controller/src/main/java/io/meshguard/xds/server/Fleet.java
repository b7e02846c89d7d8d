package io.meshguard.xds.server;

import java.time.Clock;
import java.time.Instant;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;

/**
 * Live status of the nodes connected to this controller, fed by the ADS stream callbacks. Each change is handed to a
 * {@link Sink} (the PostgreSQL node_status table) so that every replica's view can be read in one place.
 */
public final class Fleet {

    /** Receives each node's status after it changed; called on the ADS threads, must not block. */
    public interface Sink {
        void changed(NodeStatus status);
    }

    private final Map<String, NodeStatus> nodes = new ConcurrentHashMap<>();
    private final Clock clock;
    private final Sink sink;
    private final BiFunction<String, Map<String, String>, Optional<Long>> revisionOf;

    /**
     * @param revisionOf group and ACKed versions → the revision those versions belong to
     */
    public Fleet(Clock clock, Sink sink, BiFunction<String, Map<String, String>, Optional<Long>> revisionOf) {
        this.clock = clock;
        this.sink = sink;
        this.revisionOf = revisionOf;
    }

    void streamOpened(String nodeId, String group, String userAgent) {
        update(nodeId, group, s -> new NodeStatus(nodeId, group, true, s.streams() + 1, userAgent,
                s.ackedVersions(), s.revision(), s.lastNack(), now()));
    }

    void streamClosed(String nodeId, String group) {
        update(nodeId, group, s -> {
            int streams = Math.max(0, s.streams() - 1);
            return new NodeStatus(nodeId, group, streams > 0, streams, s.userAgent(), s.ackedVersions(),
                    s.revision(), s.lastNack(), now());
        });
    }

    void acked(String nodeId, String group, String typeUrl, String version) {
        update(nodeId, group, s -> {
            Map<String, String> acked = new HashMap<>(s.ackedVersions());
            acked.put(typeUrl, version);
            // a NACK stays on record until the node accepts a different version of that type: another stream of
            // the same node ACKing the very version this one rejected does not clear it
            Optional<NodeStatus.Nack> nack = s.lastNack()
                    .filter(n -> !n.typeUrl().equals(typeUrl) || n.version().equals(version));
            return new NodeStatus(nodeId, group, s.connected(), s.streams(), s.userAgent(), acked,
                    revisionOf.apply(group, acked), nack, now());
        });
    }

    void nacked(String nodeId, String group, String typeUrl, String version, String error) {
        update(nodeId, group, s -> new NodeStatus(nodeId, group, s.connected(), s.streams(), s.userAgent(),
                s.ackedVersions(), s.revision(), Optional.of(new NodeStatus.Nack(typeUrl, version, error, now())),
                now()));
    }

    /** Re-evaluates which revision each node runs (after a publish added one to the history). */
    void refreshRevisions() {
        for (NodeStatus s : nodes.values()) {
            Optional<Long> rev = revisionOf.apply(s.group(), s.ackedVersions());
            if (!rev.equals(s.revision())) {
                update(s.nodeId(), s.group(), x -> new NodeStatus(x.nodeId(), x.group(), x.connected(), x.streams(),
                        x.userAgent(), x.ackedVersions(), rev, x.lastNack(), x.lastSeen()));
            }
        }
    }

    /** All nodes this replica has seen, sorted by node id. */
    public List<NodeStatus> nodes() {
        return nodes.values().stream().sorted(Comparator.comparing(NodeStatus::nodeId)).toList();
    }

    public Optional<NodeStatus> node(String nodeId) {
        return Optional.ofNullable(nodes.get(nodeId));
    }

    /** Number of open ADS streams. */
    public int connectedStreams() {
        return nodes.values().stream().mapToInt(NodeStatus::streams).sum();
    }

    private void update(String nodeId, String group, java.util.function.UnaryOperator<NodeStatus> change) {
        NodeStatus next = nodes.compute(nodeId, (id, old) -> change.apply(old != null ? old
                : new NodeStatus(id, group, false, 0, "", Map.of(), Optional.empty(), Optional.empty(), now())));
        sink.changed(next);
    }

    private Instant now() {
        return clock.instant();
    }
}
