package io.meshguard.xds.server;

import io.meshguard.contract.peer.ClientText;
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

        /**
         * A node of {@code group} stopped naming a cluster: its status is unchanged (nothing to record), but a removed
         * cluster that waited for it may go now.
         */
        default void unsubscribed(String group) {}
    }

    /** A NACK's text kept for /fleet: enough for any real client message, bounded against a hostile one. */
    static final int MAX_ERROR_CHARS = 4096;

    private final Map<NodeStatus.Key, NodeStatus> nodes = new ConcurrentHashMap<>();
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

    void streamOpened(NodeStatus.Key node, String group, String userAgent) {
        update(
                node,
                group,
                s -> new NodeStatus(
                        s.nodeId(),
                        s.peerIdentity(),
                        group,
                        true,
                        s.streams() + 1,
                        ClientText.escape(userAgent, 200),
                        s.ackedVersions(),
                        s.revision(),
                        s.lastNack(),
                        now()));
    }

    void streamClosed(NodeStatus.Key node, String group) {
        update(node, group, s -> {
            int streams = Math.max(0, s.streams() - 1);
            return new NodeStatus(
                    s.nodeId(),
                    s.peerIdentity(),
                    group,
                    streams > 0,
                    streams,
                    s.userAgent(),
                    s.ackedVersions(),
                    s.revision(),
                    s.lastNack(),
                    now());
        });
    }

    /**
     * The node stopped naming a cluster it subscribed to: nothing of its status changes, but a removed cluster that
     * waited for it ({@link XdsSnapshots#settle}) may go.
     */
    void unsubscribed(NodeStatus.Key node, String group) {
        NodeStatus known = nodes.get(node);
        sink.unsubscribed(known != null ? known.group() : group);
    }

    void acked(NodeStatus.Key node, String group, String typeUrl, String version) {
        update(node, group, s -> {
            Map<String, String> acked = new HashMap<>(s.ackedVersions());
            acked.put(typeUrl, version);
            // a NACK stays on record until the node accepts a different version of that type: another stream of
            // the same node ACKing the very version this one rejected does not clear it
            Optional<NodeStatus.Nack> nack = s.lastNack()
                    .filter(n -> !n.typeUrl().equals(typeUrl) || n.version().equals(version));
            return new NodeStatus(
                    s.nodeId(),
                    s.peerIdentity(),
                    group,
                    s.connected(),
                    s.streams(),
                    s.userAgent(),
                    acked,
                    revisionOf.apply(group, acked),
                    nack,
                    now());
        });
    }

    void nacked(NodeStatus.Key node, String group, String typeUrl, String version, String error) {
        update(
                node,
                group,
                s -> new NodeStatus(
                        s.nodeId(),
                        s.peerIdentity(),
                        group,
                        s.connected(),
                        s.streams(),
                        s.userAgent(),
                        s.ackedVersions(),
                        s.revision(),
                        Optional.of(new NodeStatus.Nack(
                                typeUrl, version, ClientText.escape(error, MAX_ERROR_CHARS), now())),
                        now()));
    }

    /** Re-evaluates which revision each node runs (after a publish added one to the history). */
    void refreshRevisions() {
        for (NodeStatus s : nodes.values()) {
            Optional<Long> rev = revisionOf.apply(s.group(), s.ackedVersions());
            if (!rev.equals(s.revision())) {
                update(
                        s.key(),
                        s.group(),
                        x -> new NodeStatus(
                                x.nodeId(),
                                x.peerIdentity(),
                                x.group(),
                                x.connected(),
                                x.streams(),
                                x.userAgent(),
                                x.ackedVersions(),
                                rev,
                                x.lastNack(),
                                x.lastSeen()));
            }
        }
    }

    /** All nodes this replica has seen, sorted by node id, then identity. */
    public List<NodeStatus> nodes() {
        return nodes.values().stream()
                .sorted(Comparator.comparing(NodeStatus::key))
                .toList();
    }

    /** The node with this id, whichever identity it came with (the first by identity when several did). */
    public Optional<NodeStatus> node(String nodeId) {
        return nodes().stream().filter(n -> n.nodeId().equals(nodeId)).findFirst();
    }

    public Optional<NodeStatus> node(NodeStatus.Key key) {
        return Optional.ofNullable(nodes.get(key));
    }

    /** Number of open ADS streams. */
    public int connectedStreams() {
        return nodes.values().stream().mapToInt(NodeStatus::streams).sum();
    }

    private void update(NodeStatus.Key node, String group, java.util.function.UnaryOperator<NodeStatus> change) {
        NodeStatus next = nodes.compute(
                node,
                (k, old) -> change.apply(
                        old != null
                                ? old
                                : new NodeStatus(
                                        k.nodeId(),
                                        k.peerIdentity(),
                                        group,
                                        false,
                                        0,
                                        "",
                                        Map.of(),
                                        Optional.empty(),
                                        Optional.empty(),
                                        now())));
        sink.changed(next);
    }

    private Instant now() {
        return clock.instant();
    }
}
