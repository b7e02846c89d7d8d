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
 * grpc-java, grpc-go and grpc-js send "gRPC Java", "gRPC Go", "gRPC Node Pure JS".
 *
 * <p>A third key serves proxyless clients that cannot run ext_authz ({@link #WITHOUT_EXT_AUTHZ}) the group's
 * resources with each required-ext_authz listener replaced by one that fails every call at once
 * ({@link io.meshguard.xds.snapshot.FailFastListeners}): such a client NACKs the real listener and, grpc-js at
 * least, then queues every call until its deadline. What a node can run is read from its {@code user_agent_name},
 * which the client library sets itself, not the bootstrap (grpc/grpc-node
 * {@code packages/grpc-js-xds/src/xds-client.ts}, {@code userAgentName = 'gRPC Node Pure JS'}, {@code adsNode}).
 * The claim is safe to believe either way: a client that falsely claims to lack ext_authz only gets failing calls;
 * one that falsely claims to have it gets the real listener, which it NACKs (fail closed, as before).
 */
public final class NodeGroupMapper implements NodeGroup<String> {
    /** Group key of nodes that name no group and when no default is configured. */
    public static final String UNASSIGNED = "";

    private final Optional<String> defaultGroup;

    public NodeGroupMapper(Optional<String> defaultGroup) {
        this.defaultGroup = defaultGroup;
    }

    /**
     * xDS clients that have no ext_authz filter in any version: grpc-js's filter registry holds only the router, the
     * fault filter and (server side only) RBAC (grpc/grpc-node {@code packages/grpc-js-xds/src/index.ts},
     * {@code http-filter/*.ts}; checked through @grpc/grpc-js-xds 1.14). grpc-java is not listed: its ext_authz runs
     * behind {@code GRPC_EXPERIMENTAL_XDS_EXT_AUTHZ_ON_CLIENT}, which its node does not reveal, and without it grpc-java
     * fails calls UNAVAILABLE at once after its NACK ({@code ProxylessGrpcClientTest}). Revisit when grpc-js gains the
     * filter: it would then get failing calls where it could authorize (loud, never open).
     */
    static final java.util.Set<String> WITHOUT_EXT_AUTHZ = java.util.Set.of("gRPC Node Pure JS");

    /** Cache key of the snapshot this node gets: its group, or the group's Envoy or without-ext_authz variant. */
    @Override
    public String hash(Node node) {
        String group = group(node);
        if (isEnvoy(node)) {
            return envoyKey(group);
        }
        return lacksExtAuthz(node) ? withoutExtAuthzKey(group) : group;
    }

    /** The cache key of a group's snapshot for proxyless clients that cannot run ext_authz. */
    public static String withoutExtAuthzKey(String group) {
        return group + WITHOUT_EXT_AUTHZ_SUFFIX;
    }

    private static final String WITHOUT_EXT_AUTHZ_SUFFIX = "\u0000without-ext-authz";

    static boolean lacksExtAuthz(Node node) {
        return WITHOUT_EXT_AUTHZ.contains(node.getUserAgentName());
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
