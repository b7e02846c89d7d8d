package io.meshguard.contract.peer;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.util.List;

/**
 * The verified mTLS identity of a gRPC peer that reached a meshguard server through the server's own Istio sidecar.
 * The sidecar terminates the peer's mutual TLS and forwards the peer's certificate URI SAN (its SPIFFE ID) in
 * {@code x-forwarded-client-cert} ({@link XfccHeader}); the connection must come from one of {@code trustedProxies},
 * the source addresses the sidecar uses toward the app (Istio binds inbound clusters to 127.0.0.6 / ::6:
 * istio/istio {@code pilot/pkg/networking/core/cluster_builder.go} {@code buildInboundCluster},
 * {@code InboundPassthroughBindIpv4}), so a pod that reaches the port around the sidecar cannot write the header
 * itself. Used by every server that decides on who its gRPC peer is (ADS, the access-log receiver).
 */
public record SidecarPeer(List<InetAddress> trustedProxies) {

    /** Istio's inbound source addresses toward the app (see the class comment). */
    public static final List<String> ISTIO_INBOUND_SOURCES = List.of("127.0.0.6", "::6");

    public SidecarPeer {
        trustedProxies = List.copyOf(trustedProxies);
    }

    /**
     * @param setting the name of the setting the addresses come from, for the error message
     * @throws IllegalArgumentException when an entry is not an IP literal
     */
    public static SidecarPeer of(List<String> trustedProxies, String setting) {
        return new SidecarPeer(
                trustedProxies.stream().map(t -> literalAddress(t, setting)).toList());
    }

    /**
     * The SPIFFE ID of the peer behind {@code remote}.
     *
     * @param xfcc every value of the request's {@code x-forwarded-client-cert} header
     * @return the identity, or why there is none
     */
    public Identified identify(SocketAddress remote, List<String> xfcc) {
        InetAddress from = remote instanceof InetSocketAddress s ? s.getAddress() : null;
        if (from == null || !trustedProxies.contains(from)) {
            return Identified.refused(
                    "untrusted_proxy",
                    "connection from " + remote + " did not come through the server's sidecar ("
                            + trustedProxies.stream()
                                    .map(InetAddress::getHostAddress)
                                    .toList() + ")");
        }
        try {
            return Identified.of(XfccHeader.soleSpiffeId(xfcc));
        } catch (IllegalArgumentException e) {
            return Identified.refused("unauthenticated", e.getMessage());
        }
    }

    /** The trusted proxy addresses, for readiness and start logs. */
    public List<String> describeProxies() {
        return trustedProxies.stream().map(InetAddress::getHostAddress).toList();
    }

    /**
     * A verified SPIFFE ID, or why a peer has none.
     *
     * @param spiffeId "" when refused
     * @param refusal  a metric label ({@code untrusted_proxy | unauthenticated}), "" when identified
     * @param reason   for the log and the status description
     */
    public record Identified(String spiffeId, String refusal, String reason) {
        public static Identified of(String spiffeId) {
            return new Identified(spiffeId, "", "");
        }

        public static Identified refused(String refusal, String reason) {
            return new Identified("", refusal, reason);
        }

        public boolean verified() {
            return !spiffeId.isEmpty();
        }
    }

    private static InetAddress literalAddress(String text, String setting) {
        // only IP literals: a host name here would be resolved, and DNS must not decide who is trusted
        if (!text.matches("[0-9a-fA-F:.]+")) {
            throw new IllegalArgumentException(
                    setting + " takes IP addresses, not '" + ClientText.escape(text, 100) + "'");
        }
        try {
            return InetAddress.getByName(text);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(setting + ": '" + text + "' is not an IP address", e);
        }
    }
}
