package io.meshguard.authz.policy;

import java.util.Set;

/**
 * How this policy sees the mesh around it.
 *
 * @param trustedGateways SPIFFE IDs (without {@code spiffe://}) of the edge gateways whose identity headers a workload's
 *     sidecar check believes; empty: identity headers are never believed, only stripped
 * @param trustedProxyHops how many proxies in front of the peer append to {@code x-forwarded-for} honestly
 *     ({@code remote_ip_blocks}); 0 means the peer's own address is the client's
 * @param trustedWaypoints SPIFFE IDs (without {@code spiffe://}) of the Istio ambient waypoints whose
 *     {@code x-forwarded-client-cert} names the caller of a Check that carries no {@code source.principal}
 *     (decision/WaypointPeer); empty: a Check without a peer principal has no mesh caller
 */
public record MeshSettings(Set<String> trustedGateways, int trustedProxyHops, Set<String> trustedWaypoints) {
    public static final MeshSettings NONE = new MeshSettings(Set.of(), 0, Set.of());

    public MeshSettings {
        trustedGateways = Set.copyOf(trustedGateways);
        trustedWaypoints = Set.copyOf(trustedWaypoints);
    }

    /** Sidecar mode only: no waypoint is trusted. */
    public MeshSettings(Set<String> trustedGateways, int trustedProxyHops) {
        this(trustedGateways, trustedProxyHops, Set.of());
    }
}
