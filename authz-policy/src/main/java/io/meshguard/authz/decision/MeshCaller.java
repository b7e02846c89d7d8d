package io.meshguard.authz.decision;

import io.meshguard.authz.mesh.Caller;
import io.meshguard.authz.policy.IdentityHeaders;
import io.meshguard.authz.policy.MeshSettings;
import io.meshguard.authz.request.AuthResult;
import io.meshguard.authz.request.HttpRequestView;
import io.meshguard.authz.request.Identity;
import io.meshguard.authz.request.Reason;
import java.util.Optional;

/** The mesh side of a Check: who the peer is, whether it is a trusted gateway, and the peer as a credential. */
final class MeshCaller {
    static final String MTLS = "mtls";

    private MeshCaller() {}

    static Caller of(HttpRequestView request, MeshSettings mesh) {
        // the client address is decided once, by the kind of proxy that sent the Check (ClientAddress)
        // in ambient mode the peer of a waypoint's Check comes from the waypoint's own header (WaypointPeer)
        return Caller.of(
                WaypointPeer.principal(request, mesh), request.sourceAddress(), ClientAddress.of(request, mesh));
    }

    /**
     * True when the request carries any header meshguard's contract owns for identity — except the header contract's
     * tenant header, which callers send by design (it is checked against the credential's tenant, never believed).
     */
    static boolean carriesIdentity(HttpRequestView request, IdentityHeaders names, String tenantHeader) {
        for (String n : names.all()) {
            if (!n.equals(tenantHeader) && !request.all(n).isEmpty()) {
                return true;
            }
        }
        return false;
    }

    static boolean isTrustedGateway(Caller caller, MeshSettings mesh) {
        return caller.spiffe()
                .map(id -> mesh.trustedGateways().contains(id.id()))
                .orElse(false);
    }

    /** {@code auth: mtls}: the verified peer is the credential; without one (or with a malformed one) there is none. */
    static AuthResult peerIdentity(Caller caller) {
        if (caller.principal().isEmpty()) {
            return new AuthResult.Rejected(Reason.PEER_IDENTITY_REQUIRED, "this route needs an mTLS peer identity");
        }
        if (caller.spiffe().isEmpty()) {
            return new AuthResult.Rejected(Reason.INVALID_PEER_IDENTITY, "the peer identity is not a valid SPIFFE ID");
        }
        return new AuthResult.Authenticated(
                new Identity(
                        caller.spiffe().get().uri(),
                        Optional.empty(),
                        java.util.List.of(),
                        java.util.List.of(),
                        Optional.empty(),
                        MTLS,
                        "mesh",
                        Optional.empty(),
                        Optional.empty()),
                false);
    }
}
