package io.meshguard.xds.server;

/** The verified identity of an ADS stream's peer: its SPIFFE ID, or the local-development marker. */
public record PeerIdentity(String id) {
    /**
     * The identity {@link AdsPeerInterceptor} verified and stamped on a request's node; empty for a node that did not
     * pass it.
     */
    public static java.util.Optional<PeerIdentity> stampedOn(io.envoyproxy.envoy.config.core.v3.Node node) {
        return java.util.Optional.of(AdsPeerInterceptor.verifiedPeer(node))
                .filter(s -> !s.isEmpty())
                .map(PeerIdentity::new);
    }

    @Override
    public String toString() {
        return id;
    }
}
