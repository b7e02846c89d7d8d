package io.meshguard.xds.server;

import io.meshguard.contract.peer.SidecarPeer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Who may open an ADS stream, and which gateway groups each peer may read.
 *
 * <p>{@link Mode#XFCC} (production): the controller runs behind its Istio sidecar, which verifies the peer's mutual
 * TLS and names it ({@link SidecarPeer}: the SPIFFE ID in {@code x-forwarded-client-cert}, on a connection from one
 * of {@code trustedProxies}).
 *
 * <p>{@link Mode#LOCAL_DEVELOPMENT} ({@code meshguard up}, tests): no identity at all, every peer may read every
 * group. Only on a loopback bind address and only from loopback peers; said in the readiness output and at start.
 *
 * @param grants which SPIFFE IDs may read which group (ignored in local development)
 * @param anyLocalPeer local development on a private container network (deploy/local's compose stack, where the
 *     gateway is another container): any peer that reaches the port reads every group. A second explicit opt-in,
 *     refused inside Kubernetes and printed as UNPROTECTED.
 */
public record AdsPeerPolicy(
        Mode mode, List<InetAddress> trustedProxies, List<GroupGrant> grants, boolean anyLocalPeer) {

    /** How a stream's peer is identified. */
    public enum Mode {
        XFCC("xfcc"),
        LOCAL_DEVELOPMENT("local-development");

        private final String configName;

        Mode(String configName) {
            this.configName = configName;
        }

        public String configName() {
            return configName;
        }

        public static Mode of(String configName) {
            for (Mode m : values()) {
                if (m.configName.equals(configName)) {
                    return m;
                }
            }
            throw new IllegalArgumentException("unknown xds.ads.peer_identity '" + configName + "'");
        }
    }

    /** The identity of every peer in local development. */
    public static final PeerIdentity LOCAL_PEER = new PeerIdentity("local-development (unauthenticated)");

    /** Istio's inbound source addresses toward the app (see the class comment). */
    public static final List<String> ISTIO_INBOUND_SOURCES = SidecarPeer.ISTIO_INBOUND_SOURCES;

    public AdsPeerPolicy {
        trustedProxies = List.copyOf(trustedProxies);
        grants = List.copyOf(grants);
        if (anyLocalPeer && mode != Mode.LOCAL_DEVELOPMENT) {
            throw new IllegalArgumentException(
                    "xds.ads.local_development_any_peer applies to " + "xds.ads.peer_identity=local-development only");
        }
    }

    public AdsPeerPolicy(Mode mode, List<InetAddress> trustedProxies, List<GroupGrant> grants) {
        this(mode, trustedProxies, grants, false);
    }

    /** Local development: explicit, loopback only, no identity. */
    public static AdsPeerPolicy localDevelopment() {
        return new AdsPeerPolicy(Mode.LOCAL_DEVELOPMENT, List.of(), List.of());
    }

    /** Production behind the Istio sidecar. */
    public static AdsPeerPolicy xfcc(List<String> trustedProxies, List<GroupGrant> grants) {
        return new AdsPeerPolicy(
                Mode.XFCC,
                SidecarPeer.of(trustedProxies, "xds.ads.trusted_proxies").trustedProxies(),
                grants);
    }

    /** Reads the config values: mode name, proxy addresses, {@code group=spiffe://...} lines. */
    public static AdsPeerPolicy of(String mode, List<String> trustedProxies, List<String> grants) {
        return of(mode, trustedProxies, grants, false, Map.of());
    }

    /**
     * As {@link #of(String, List, List)}, with the container-network opt-in.
     *
     * @param environment the process environment: inside Kubernetes ({@code KUBERNETES_SERVICE_HOST} set) the
     *     opt-in is refused, so a copied dev setting cannot open a cluster's ADS port
     */
    public static AdsPeerPolicy of(
            String mode,
            List<String> trustedProxies,
            List<String> grants,
            boolean anyLocalPeer,
            Map<String, String> environment) {
        if (anyLocalPeer && environment.containsKey("KUBERNETES_SERVICE_HOST")) {
            throw new IllegalArgumentException("xds.ads.local_development_any_peer is refused inside Kubernetes: "
                    + "use xfcc with xds.ads.group_identities");
        }
        return switch (Mode.of(mode)) {
            case LOCAL_DEVELOPMENT -> new AdsPeerPolicy(Mode.LOCAL_DEVELOPMENT, List.of(), List.of(), anyLocalPeer);
            case XFCC ->
                new AdsPeerPolicy(
                        Mode.XFCC,
                        SidecarPeer.of(trustedProxies, "xds.ads.trusted_proxies")
                                .trustedProxies(),
                        grants.stream().map(GroupGrant::parse).toList(),
                        anyLocalPeer);
        };
    }

    /**
     * Refuses a policy that would serve config without identity beyond this machine.
     *
     * @throws IllegalStateException when local development is asked for on a non-loopback bind address
     */
    public void checkBind(InetSocketAddress bind) {
        if (mode == Mode.LOCAL_DEVELOPMENT
                && !anyLocalPeer
                && !bind.getAddress().isLoopbackAddress()) {
            throw new IllegalStateException("xds.ads.peer_identity=local-development serves every group's "
                    + "configuration without any identity check, so ADS must bind a loopback address, not "
                    + bind.getAddress().getHostAddress() + " (set xds.ads.bind=127.0.0.1, or use xfcc)");
        }
    }

    /**
     * The verified identity of a stream's peer.
     *
     * @param xfcc every value of the request's {@code x-forwarded-client-cert} header
     * @return the identity, or the reason there is none
     */
    public Identified identify(SocketAddress remote, List<String> xfcc) {
        InetAddress from = remote instanceof InetSocketAddress s ? s.getAddress() : null;
        if (mode == Mode.LOCAL_DEVELOPMENT) {
            return from != null && (anyLocalPeer || from.isLoopbackAddress())
                    ? Identified.of(LOCAL_PEER)
                    : Identified.refused("untrusted_proxy", "local development serves loopback peers only");
        }
        SidecarPeer.Identified peer = new SidecarPeer(trustedProxies).identify(remote, xfcc);
        return peer.verified()
                ? Identified.of(new PeerIdentity(peer.spiffeId()))
                : Identified.refused(peer.refusal(), peer.reason());
    }

    /** Whether {@code peer} may read {@code group}. */
    public boolean allows(PeerIdentity peer, String group) {
        if (mode == Mode.LOCAL_DEVELOPMENT) {
            return peer.equals(LOCAL_PEER);
        }
        if (group.isEmpty()) {
            return false;
        }
        return grants.stream()
                .anyMatch(g -> g.group().equals(group) && g.identity().matches(peer.id()));
    }

    /** One line for readiness and the start log. */
    public String describe() {
        return switch (mode) {
            case LOCAL_DEVELOPMENT ->
                anyLocalPeer
                        ? "peer identity: LOCAL DEVELOPMENT, UNPROTECTED: any peer on the container network reads every "
                                + "group, no identity check (xds.ads.local_development_any_peer)"
                        : "peer identity: LOCAL DEVELOPMENT, loopback only, no identity check, every peer reads every "
                                + "group";
            case XFCC ->
                "peer identity: SPIFFE ID from the sidecar's x-forwarded-client-cert (from "
                        + trustedProxies.stream()
                                .map(InetAddress::getHostAddress)
                                .toList() + "); "
                        + (grants.isEmpty()
                                ? "no grants (xds.ads.group_identities): every stream is refused"
                                : "grants " + grants);
        };
    }

    /** An identity, or why a stream has none. */
    public record Identified(Optional<PeerIdentity> peer, String refusal, String reason) {
        static Identified of(PeerIdentity peer) {
            return new Identified(Optional.of(peer), "", "");
        }

        static Identified refused(String refusal, String reason) {
            return new Identified(Optional.empty(), refusal, reason);
        }
    }
}
