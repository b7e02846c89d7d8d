package io.meshguard.authz.decision;

import io.meshguard.authz.mesh.IpBlock;
import io.meshguard.authz.mesh.SpiffeId;
import io.meshguard.authz.policy.MeshSettings;
import io.meshguard.authz.request.HttpRequestView;
import io.meshguard.contract.RouteContract;
import java.util.List;
import java.util.Optional;

/**
 * Who the client is, decided once per kind of proxy that sent the Check; {@code x-forwarded-for} is never counted
 * here.
 *
 * <ul>
 *   <li><b>At the edge gateway</b> (the Check carries the controller's {@code meshguard.*} context extensions, which
 *       only the gateway's route configuration sets): Envoy's own verdict. The gateway's HCM runs with
 *       {@code use_remote_address: true} and {@code xff_num_trusted_hops} from the controller's
 *       {@code xds.gateway.xff_num_trusted_hops}; Envoy picks the client from the request's
 *       {@code x-forwarded-for} before appending its peer, and writes it to {@code x-envoy-external-address} for every
 *       external request, overwriting whatever the client sent ({@code envoyproxy/envoy
 *       source/common/http/conn_manager_utility.cc}, {@code mutateRequestHeaders}: {@code getLastAddressFromXFF(
 *       xff_num_trusted_hops - 1)}, then {@code setEnvoyExternalAddress} when {@code edge_request}). The Check's
 *       {@code x-forwarded-for} already ends with the appended peer, and {@code source.address} is the socket peer
 *       ({@code source/extensions/filters/common/ext_authz/check_request_utils.cc}, {@code setAttrContextPeer}), so
 *       re-counting either is wrong. A request Envoy treats as internal (a loopback peer: the controller's
 *       {@code internal_address_config}) keeps a client-sent value, so for a loopback peer the header is not believed
 *       and the peer is the client.</li>
 *   <li><b>At a workload's sidecar</b>: the mTLS peer ({@code source.address}) — a pod's own {@code x-forwarded-for}
 *       or {@code x-envoy-external-address} is its word, not a proxy's. Only when the peer's verified principal is one
 *       of {@code mesh.trusted_gateways} is the gateway's verdict believed, from {@link #HEADER}, which meshguard's
 *       allow at the gateway sets and removes from every client request (it is an owned header).</li>
 * </ul>
 * A value that is not exactly one IP literal gives the peer's address, never a fresh bucket per request.
 */
public final class ClientAddress {
    /** The gateway's verdict on the client address, handed to the workload's sidecar check. Owned by meshguard. */
    public static final String HEADER = io.meshguard.contract.OwnedHeaderNames.CLIENT_ADDRESS;
    /** Set by the edge Envoy for external requests ({@code conn_manager_utility.cc}). */
    public static final String ENVOY_EXTERNAL_ADDRESS = "x-envoy-external-address";

    private ClientAddress() {}

    /** True when the Check came from the edge gateway: only its routes carry meshguard's context extensions. */
    public static boolean atEdge(HttpRequestView request) {
        return request.contextExtensions().containsKey(RouteContract.AuthzContext.GATEWAY_ROUTE)
                || request.contextExtensions().containsKey(RouteContract.AuthzContext.AUTHZ_PROFILE);
    }

    /** The client's address; empty only when the Check names no peer address at all. */
    public static Optional<String> of(HttpRequestView request, MeshSettings mesh) {
        String peer = request.sourceAddress();
        Optional<String> peerAddress = Optional.of(peer).filter(a -> !a.isEmpty());
        if (atEdge(request)) {
            if (isLoopback(peer)) {
                return peerAddress;
            }
            return single(request.all(ENVOY_EXTERNAL_ADDRESS)).or(() -> peerAddress);
        }
        if (fromTrustedGateway(request, mesh)) {
            return single(request.all(HEADER)).or(() -> peerAddress);
        }
        return peerAddress;
    }

    /** The rate-limit key of an anonymous caller. */
    static String key(Optional<String> address) {
        return address.orElse("unknown");
    }

    private static boolean fromTrustedGateway(HttpRequestView request, MeshSettings mesh) {
        String principal = WaypointPeer.principal(request, mesh);
        return !principal.isEmpty()
                && SpiffeId.parse(principal)
                        .map(id -> mesh.trustedGateways().contains(id.id()))
                        .orElse(false);
    }

    /** Exactly one header line holding exactly one IP literal (a comma-joined or garbage value is no verdict). */
    private static Optional<String> single(List<String> values) {
        if (values.size() != 1) {
            return Optional.empty();
        }
        String v = values.get(0);
        return IpBlock.address(v).isPresent() && v.equals(v.strip()) ? Optional.of(v) : Optional.empty();
    }

    private static boolean isLoopback(String address) {
        return IpBlock.address(address)
                .map(b -> b.length == 4 ? (b[0] & 0xff) == 127 : isV6Loopback(b))
                .orElse(false);
    }

    private static boolean isV6Loopback(byte[] b) {
        for (int i = 0; i < 15; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return b[15] == 1;
    }
}
