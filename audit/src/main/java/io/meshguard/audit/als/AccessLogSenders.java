package io.meshguard.audit.als;

import io.meshguard.contract.peer.ClientText;
import io.meshguard.contract.peer.SidecarPeer;
import io.meshguard.contract.peer.SpiffeIdPattern;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Who may send access-log rows, and what each sender may say. An access-log row is evidence an auditor reads (the
 * {@code api_call} rows feed coverage, usage and {@code meshguard api usage}), so it is taken only from a proxy whose
 * mutual-TLS identity the receiver's own sidecar verified ({@link SidecarPeer}), and only when that identity matches
 * one of the reviewed {@code rules}: {@code sidecar=}, {@code waypoint=} or {@code gateway=} a SPIFFE ID pattern
 * ({@code *} stands for one whole path segment). A stream from any other peer is refused before a row is read.
 *
 * <p>Tenant, subject and client id come from the headers ext_authz injected at the proxy that logged the request.
 * A gateway or waypoint logs for the workloads behind it; a sidecar logs for its own workload only, so a sidecar
 * sender's row keeps identity only when the row's node (Istio: {@code sidecar~<ip>~<pod>.<ns>~<ns>.svc...}) lies in
 * the sender's own namespace. Every row names its verified sender ({@code details.reporter}) and its kind.
 *
 * <p>{@link Mode#LOCAL_DEVELOPMENT} ({@code meshguard up}, tests): loopback peers only, no identity; their rows say
 * so in {@code details.reporter}.
 */
public record AccessLogSenders(Mode mode, SidecarPeer sidecar, List<Rule> rules) {

    /** How a sender is identified. */
    public enum Mode {
        XFCC,
        LOCAL_DEVELOPMENT,
        /**
         * deploy/local's compose stack, where the gateway is another container: any peer that reaches the port, no
         * identity. Refused inside Kubernetes and described as UNPROTECTED.
         */
        LOCAL_DEVELOPMENT_ANY_PEER;

        public static Mode of(String name) {
            return switch (name) {
                case "xfcc" -> XFCC;
                case "local-development" -> LOCAL_DEVELOPMENT;
                case "local-development-any-peer" -> LOCAL_DEVELOPMENT_ANY_PEER;
                default -> throw new IllegalArgumentException("unknown audit.als.peer_identity '" + name + "'");
            };
        }
    }

    /** What kind of proxy a sender is. */
    public enum Kind {
        SIDECAR,
        WAYPOINT,
        GATEWAY,
        /** A loopback peer in local development: no identity at all. */
        LOCAL;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** One reviewed line of {@code audit.als.senders}: {@code kind=spiffe://...}. */
    public record Rule(Kind kind, SpiffeIdPattern identity) {
        public static Rule parse(String text) {
            int eq = text.indexOf('=');
            String kind = eq < 0 ? "" : text.substring(0, eq).trim();
            Kind k =
                    switch (kind) {
                        case "sidecar" -> Kind.SIDECAR;
                        case "waypoint" -> Kind.WAYPOINT;
                        case "gateway" -> Kind.GATEWAY;
                        default ->
                            throw new IllegalArgumentException("audit.als.senders: '" + ClientText.escape(text, 200)
                                    + "' is not sidecar=|waypoint=|gateway=spiffe://<trust domain>/ns/<ns>/sa/<sa>");
                    };
            return new Rule(k, new SpiffeIdPattern(text.substring(eq + 1).trim()));
        }

        @Override
        public String toString() {
            return kind.label() + "=" + identity;
        }
    }

    /**
     * A sender whose identity was verified (or a loopback peer in local development).
     *
     * @param id the SPIFFE ID, or the local-development marker
     */
    public record Sender(Kind kind, String id) {
        /** Whether this sender's rows about {@code node} may carry the tenant and subject ext_authz injected. */
        public boolean mayReportIdentityFor(String node) {
            return switch (kind) {
                case GATEWAY, WAYPOINT, LOCAL -> true;
                case SIDECAR ->
                    namespaceOfSpiffeId(id)
                            .filter(ns -> ns.equals(namespaceOfNode(node)))
                            .isPresent();
            };
        }
    }

    /** A sender, or why a stream has none. */
    public record Identified(Optional<Sender> sender, String refusal, String reason) {
        static Identified of(Sender sender) {
            return new Identified(Optional.of(sender), "", "");
        }

        static Identified refused(String refusal, String reason) {
            return new Identified(Optional.empty(), refusal, reason);
        }
    }

    /** The refusal reasons, as metric labels. */
    public static final List<String> REFUSALS = List.of("untrusted_proxy", "unauthenticated", "not_a_proxy");

    public static final String LOCAL_SENDER = "local-development (unauthenticated)";

    public AccessLogSenders {
        rules = List.copyOf(rules);
    }

    public static AccessLogSenders localDevelopment() {
        return new AccessLogSenders(Mode.LOCAL_DEVELOPMENT, new SidecarPeer(List.of()), List.of());
    }

    /** Reads the config values: mode name, proxy addresses, {@code kind=spiffe://...} lines. */
    public static AccessLogSenders of(String mode, List<String> trustedProxies, List<String> rules) {
        return of(mode, trustedProxies, rules, java.util.Map.of());
    }

    /**
     * As {@link #of(String, List, List)}.
     *
     * @param environment the process environment: inside Kubernetes ({@code KUBERNETES_SERVICE_HOST} set) the
     *     any-peer mode is refused, so a copied dev setting cannot open a cluster's audit log to every pod
     */
    public static AccessLogSenders of(
            String mode, List<String> trustedProxies, List<String> rules, java.util.Map<String, String> environment) {
        if (Mode.of(mode) == Mode.LOCAL_DEVELOPMENT_ANY_PEER && environment.containsKey("KUBERNETES_SERVICE_HOST")) {
            throw new IllegalArgumentException("audit.als.peer_identity=local-development-any-peer is refused inside "
                    + "Kubernetes: use xfcc with audit.als.senders");
        }
        return new AccessLogSenders(
                Mode.of(mode),
                SidecarPeer.of(trustedProxies, "audit.als.trusted_proxies"),
                rules.stream().map(Rule::parse).toList());
    }

    /**
     * The sender of a stream.
     *
     * @param xfcc every value of the stream's {@code x-forwarded-client-cert} header
     */
    public Identified identify(SocketAddress remote, List<String> xfcc) {
        if (mode == Mode.LOCAL_DEVELOPMENT_ANY_PEER) {
            return Identified.of(new Sender(Kind.LOCAL, LOCAL_SENDER));
        }
        if (mode == Mode.LOCAL_DEVELOPMENT) {
            return remote instanceof InetSocketAddress s && s.getAddress().isLoopbackAddress()
                    ? Identified.of(new Sender(Kind.LOCAL, LOCAL_SENDER))
                    : Identified.refused("untrusted_proxy", "local development takes loopback senders only");
        }
        SidecarPeer.Identified peer = sidecar.identify(remote, xfcc);
        if (!peer.verified()) {
            return Identified.refused(peer.refusal(), peer.reason());
        }
        // a gateway or waypoint rule first: the more specific kind wins when a sidecar pattern also matches
        for (Kind kind : List.of(Kind.GATEWAY, Kind.WAYPOINT, Kind.SIDECAR)) {
            for (Rule rule : rules) {
                if (rule.kind() == kind && rule.identity().matches(peer.spiffeId())) {
                    return Identified.of(new Sender(kind, peer.spiffeId()));
                }
            }
        }
        return Identified.refused(
                "not_a_proxy",
                peer.spiffeId() + " is not a proxy audit.als.senders admits"
                        + (rules.isEmpty() ? " (none configured: every sender is refused)" : ""));
    }

    /** One line for the start log. */
    public String describe() {
        return switch (mode) {
            case LOCAL_DEVELOPMENT -> "access-log senders: LOCAL DEVELOPMENT, loopback only, no identity check";
            case LOCAL_DEVELOPMENT_ANY_PEER ->
                "access-log senders: LOCAL DEVELOPMENT, UNPROTECTED: any peer on the container network writes rows, no "
                        + "identity check";
            case XFCC ->
                "access-log senders: SPIFFE ID from the sidecar's x-forwarded-client-cert (from "
                        + sidecar.describeProxies() + "); "
                        + (rules.isEmpty()
                                ? "no rules (audit.als.senders): every stream is refused"
                                : "rules " + rules);
        };
    }

    /** {@code ns} of {@code spiffe://<td>/ns/<ns>/sa/<sa>}. */
    static Optional<String> namespaceOfSpiffeId(String id) {
        String[] parts = id.split("/", -1);
        // "spiffe:", "", td, "ns", ns, "sa", sa
        return parts.length == 7 && parts[3].equals("ns") && parts[5].equals("sa")
                ? Optional.of(parts[4])
                : Optional.empty();
    }

    /** The namespace an Istio node id names ({@code <type>~<ip>~<pod>.<ns>~<ns>.svc.cluster.local}), or "". */
    static String namespaceOfNode(String node) {
        String[] parts = node.split("~", -1);
        if (parts.length != 4) {
            return "";
        }
        int dot = parts[3].indexOf('.');
        return dot <= 0 ? "" : parts[3].substring(0, dot);
    }
}
