package io.meshguard.authz.decision;

import io.meshguard.authz.mesh.SpiffeId;
import io.meshguard.authz.policy.MeshSettings;
import io.meshguard.authz.request.HttpRequestView;
import io.meshguard.contract.XfccElements;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The mesh peer of a Check, in sidecar and in ambient mode.
 *
 * <ul>
 *   <li><b>Sidecar</b>: Envoy's {@code source.principal}, the URI SAN of the mTLS peer
 *       ({@code check_request_utils.cc}, {@code setAttrContextPeer}).</li>
 *   <li><b>Ambient waypoint</b> (CUSTOM policy with {@code targetRefs}): the waypoint terminates the client's HBONE
 *       tunnel on an outer listener and runs its HTTP filters on an internal one, which has no TLS, so the Check
 *       carries no {@code source.principal} (istio/istio#56379). Istio keeps the client's identity in filter state
 *       ({@code io.istio.peer_principal} from {@code %DOWNSTREAM_PEER_URI_SAN%}, {@code pilot/pkg/xds/filters/
 *       filters.go}) and, from Istio 1.30 on a waypoint annotated {@code ambient.istio.io/xfcc-include-client-identity:
 *       "true"}, writes it before the authorization filters as {@code x-forwarded-client-cert: By=<waypoint>;URI=
 *       <client>}, replacing any value the request carried ({@code WaypointXFCCClientIdentityFilter},
 *       {@code OVERWRITE_IF_EXISTS_OR_ADD}; {@code pilot/pkg/networking/core/listener_waypoint.go}, 1.30.0). That URI
 *       is believed only when the element's {@code By} is one of {@code mesh.trusted_waypoints}.</li>
 * </ul>
 *
 * <p>A header a client sent itself cannot pass for the waypoint's: Envoy removes {@code x-forwarded-client-cert} on
 * every connection that is not mutual TLS unless the proxy forwards it as is ({@code conn_manager_utility.cc},
 * {@code mutateXfccRequestHeader}), a sidecar's Check always has a {@code source.principal} when the peer had a
 * certificate, and the edge gateway's Checks are never read this way. Exactly one header line with exactly one element
 * is accepted, as the xds-controller's XFCC reader does.
 */
public final class WaypointPeer {
    public static final String XFCC = XfccElements.HEADER;

    private WaypointPeer() {}

    /** The SPIFFE URI of the peer, or empty when the Check names none that can be believed. */
    public static String principal(HttpRequestView request, MeshSettings mesh) {
        if (!request.sourcePrincipal().isEmpty()
                || mesh.trustedWaypoints().isEmpty()
                || ClientAddress.atEdge(request)) {
            return request.sourcePrincipal();
        }
        return fromWaypoint(request.all(XFCC), mesh).orElse("");
    }

    static Optional<String> fromWaypoint(List<String> values, MeshSettings mesh) {
        if (values.size() != 1) {
            return Optional.empty();
        }
        List<List<Map.Entry<String, String>>> elements;
        try {
            elements = XfccElements.parse(values.get(0));
        } catch (IllegalArgumentException malformed) {
            return Optional.empty();
        }
        if (elements.size() != 1) {
            return Optional.empty();
        }
        List<String> by = XfccElements.valuesOf(elements.get(0), "by");
        List<String> uri = XfccElements.valuesOf(elements.get(0), "uri");
        if (by.size() != 1 || uri.size() != 1 || uri.get(0).contains("*")) {
            return Optional.empty();
        }
        boolean trusted = SpiffeId.parse(by.get(0))
                .map(id -> mesh.trustedWaypoints().contains(id.id()))
                .orElse(false);
        if (!trusted) {
            return Optional.empty();
        }
        return SpiffeId.parse(uri.get(0)).map(SpiffeId::uri);
    }
}
