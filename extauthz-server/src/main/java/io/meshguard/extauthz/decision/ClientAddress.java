package io.meshguard.extauthz.decision;

import io.meshguard.extauthz.mesh.Caller;
import io.meshguard.extauthz.mesh.ForwardedFor;
import io.meshguard.extauthz.policy.MeshSettings;
import java.util.Set;

/**
 * The address an anonymous caller (a public route) is rate-limited by: the client address through
 * {@code mesh.trusted_proxy_hops} trusted hops, read exactly as the mesh rules read it ({@link ForwardedFor}: the
 * {@code n}th {@code x-forwarded-for} entry from the right, as Envoy's {@code xff_num_trusted_hops} counts), else
 * Envoy's {@code attributes.source.address} (the downstream peer). Entries a client wrote left of the trusted ones
 * never choose its bucket; a chain that is too short or holds no IP literal there falls back to the peer, so a
 * malformed header cannot mint a fresh bucket per request.
 */
public final class ClientAddress {
    private ClientAddress() {}

    public static String of(HttpRequestView request, int trustedHops) {
        return of(MeshCaller.of(request, new MeshSettings(Set.of(), trustedHops)));
    }

    /** The same, from the caller the engine already worked out for the mesh rules: one x-forwarded-for parse a Check. */
    static String of(Caller caller) {
        return caller.remoteAddress().orElse(caller.address().isEmpty() ? "unknown" : caller.address());
    }
}
