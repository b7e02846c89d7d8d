package io.meshguard.extauthz.policy;

import java.util.Set;

/**
 * How this policy sees the mesh around it.
 *
 * @param trustedGateways SPIFFE IDs (without {@code spiffe://}) of the edge gateways whose identity headers a workload's
 *     sidecar check believes; empty: identity headers are never believed, only stripped
 * @param trustedProxyHops how many proxies in front of the peer append to {@code x-forwarded-for} honestly
 *     ({@code remote_ip_blocks}); 0 means the peer's own address is the client's
 */
public record MeshSettings(Set<String> trustedGateways, int trustedProxyHops) {
    public static final MeshSettings NONE = new MeshSettings(Set.of(), 0);
}
