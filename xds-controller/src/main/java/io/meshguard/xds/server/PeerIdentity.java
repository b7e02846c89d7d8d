package io.meshguard.xds.server;

/** The verified identity of an ADS stream's peer: its SPIFFE ID, or the local-development marker. */
public record PeerIdentity(String id) {
    @Override
    public String toString() {
        return id;
    }
}
