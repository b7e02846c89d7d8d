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
 *
 * <p>The cache key ({@link #hash}) also tells Envoy from proxyless gRPC clients: Envoy nodes get the group's snapshot
 * without the proxyless {@code api_listener}s, which Envoy cannot take over LDS and skips with a warning on every
 * push ("can not be added because currently only one ApiListener is allowed, and it can only be added via bootstrap
 * configuration", envoyproxy/envoy {@code source/common/listener_manager/listener_manager_impl.cc}). Envoy names
 * itself {@code user_agent_name: envoy} in its node ({@code source/common/local_info/local_info_impl.h});
 * grpc-java, grpc-go and grpc-js send "gRPC Java", "gRPC Go", "gRPC Node".
 */
public final class NodeGroupMapper implements NodeGroup<String> {
    /** Group key of nodes that name no group and when no default is configured. */
    public static final String UNASSIGNED = "";

    private final Optional<String> defaultGroup;

    public NodeGroupMapper(Optional<String> defaultGroup) {
        this.defaultGroup = defaultGroup;
    }

    /** Cache key of the snapshot this node gets: its group, or the group's Envoy variant. */
    @Override
    public String hash(Node node) {
        String group = group(node);
        return isEnvoy(node) ? envoyKey(group) : group;
    }

    /** The cache key of a group's snapshot for Envoy nodes. */
    public static String envoyKey(String group) {
        return group + ENVOY_SUFFIX;
    }

    private static final String ENVOY_SUFFIX = "\u0000envoy";

    static boolean isEnvoy(Node node) {
        return node.getUserAgentName().equals("envoy");
    }

    /** The gateway group a node belongs to. */
    public String group(Node node) {
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
