package io.meshguard.xds.server;

import io.meshguard.contract.peer.ClientText;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;

/**
 * One log line per refusal episode of a node and resource type, not one per round trip: the first NACK is logged as
 * a warning, the ones after it only counted, and the node's next ACK of that type ends the episode with one line
 * saying how many refusals it had. A node refusing for an hour leaves two lines, not a line per resend (every NACK is
 * still counted in {@code meshguard_xds_nacks_total} and kept in the fleet's {@code last_nack}).
 */
final class NackEpisodes {
    private record Episode(NodeStatus.Key node, String type) {}

    /** Bounds the map against a flood of made-up node ids: past it, an episode's first line is all that is kept. */
    private static final int MAX_EPISODES = 100_000;

    private final Logger log;
    private final Map<Episode, Integer> open = new ConcurrentHashMap<>();

    NackEpisodes(Logger log) {
        this.log = log;
    }

    /** A NACK; logged when it starts an episode. */
    void refused(NodeStatus.Key node, String type, String group, String version, String error) {
        Episode e = new Episode(node, type);
        Integer before = open.get(e);
        if (before == null && open.size() >= MAX_EPISODES) {
            return;
        }
        Integer now = open.merge(e, 1, Integer::sum);
        if (now == 1) {
            log.warn(
                    "xDS NACK peer={} node={} group={} type={} version={} error={} (later refusals of this node and"
                            + " type are counted, logged when it accepts again)",
                    node.peerIdentity(),
                    ClientText.escape(node.nodeId(), 256),
                    ClientText.escape(group, 128),
                    type,
                    ClientText.escape(version, 128),
                    ClientText.escape(error));
        }
    }

    /** An ACK: ends the node's episode of that type, if one is open. */
    void accepted(NodeStatus.Key node, String type, String group) {
        Integer refusals = open.remove(new Episode(node, type));
        if (refusals != null) {
            log.info(
                    "xDS node accepts again peer={} node={} group={} type={} refusals={}",
                    node.peerIdentity(),
                    ClientText.escape(node.nodeId(), 256),
                    ClientText.escape(group, 128),
                    type,
                    refusals);
        }
    }
}
