package io.meshguard.xds.server;

import com.google.protobuf.Value;
import io.envoyproxy.controlplane.cache.NodeGroup;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.meshguard.xds.snapshot.EnvoyNames;
import java.util.Optional;

/**
 * Which gateway group a node belongs to: node metadata {@code meshguard.group} when set, else {@code node.cluster},
 * else the configured default group. A node of an unknown group gets no snapshot and so no config — never another
 * group's.
 */
public final class NodeGroupMapper implements NodeGroup<String> {
    /** Group key of nodes that name no group and when no default is configured. */
    public static final String UNASSIGNED = "";

    private final Optional<String> defaultGroup;

    public NodeGroupMapper(Optional<String> defaultGroup) {
        this.defaultGroup = defaultGroup;
    }

    @Override
    public String hash(Node node) {
        Value v = node.getMetadata().getFieldsOrDefault(EnvoyNames.NODE_GROUP_METADATA, null);
        if (v != null && v.hasStringValue() && !v.getStringValue().isBlank()) {
            return v.getStringValue();
        }
        if (!node.getCluster().isBlank()) {
            return node.getCluster();
        }
        return defaultGroup.orElse(UNASSIGNED);
    }
}
