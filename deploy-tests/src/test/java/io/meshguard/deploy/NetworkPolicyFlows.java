package io.meshguard.deploy;

import com.google.common.net.InetAddresses;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.networking.v1.IPBlock;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import io.meshguard.xds.validate.GatewayEgress;
import java.net.InetAddress;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Whether the NetworkPolicies admit one TCP connection between two pods, as the Kubernetes NetworkPolicy semantics
 * say (kubernetes.io/docs/concepts/services-networking/network-policies/): a pod selected by a policy of a direction
 * accepts only what one of those policies' rules admits in that direction (policies are additive); a peer with only a
 * podSelector means pods of the policy's own namespace; namespaceSelector and podSelector in one peer mean both; an
 * omitted policyTypes is Ingress, plus Egress when egress rules are given; an ipBlock admits the addresses of its CIDR
 * minus its excepts, and is taken to match no pod (the blocks here name addresses outside the cluster's ranges).
 * Unmodelled fields (matchExpressions, named ports) fail, never pass silently.
 */
final class NetworkPolicyFlows {

    /** A pod as the policies see it: its namespace and its labels. */
    record Pod(String namespace, Map<String, String> labels) {}

    private final List<NetworkPolicy> policies;

    NetworkPolicyFlows(List<NetworkPolicy> policies) {
        this.policies = List.copyOf(policies);
    }

    static NetworkPolicyFlows of(Manifests manifests) {
        return new NetworkPolicyFlows(
                manifests.models("NetworkPolicy", NetworkPolicy.class).toList());
    }

    /** True when {@code from}'s egress and {@code to}'s ingress both admit TCP to {@code port}. */
    boolean admits(Pod from, Pod to, int port) {
        return direction(from, to, port, "Egress", from) && direction(from, to, port, "Ingress", to);
    }

    /** The policies of {@code from}'s namespace that select it and govern its egress. */
    private List<NetworkPolicy> egressPolicies(Pod from) {
        return policies.stream()
                .filter(p -> p.getMetadata().getNamespace().equals(from.namespace()))
                .filter(p -> matches(p.getSpec().getPodSelector(), from.labels()))
                .filter(p -> types(p).contains("Egress"))
                .toList();
    }

    /** True when {@code from}'s egress admits TCP to {@code port} outside the cluster (a peer-less rule). */
    boolean egressAdmits(Pod from, int port) {
        List<NetworkPolicy> selecting = egressPolicies(from);
        return selecting.isEmpty()
                || selecting.stream()
                        .anyMatch(p -> Optional.ofNullable(p.getSpec().getEgress()).orElse(List.of()).stream()
                                .anyMatch(
                                        r -> (r.getTo() == null || r.getTo().isEmpty()) && ports(r.getPorts(), port)));
    }

    /**
     * True when {@code from}'s egress admits TCP to {@code address}:{@code port}, an address outside every pod (a VM,
     * a partner API): a rule with no peers, or an ipBlock peer whose CIDR holds it and no except does.
     */
    boolean egressAdmits(Pod from, String address, int port) {
        InetAddress ip = InetAddresses.forString(address);
        List<NetworkPolicy> selecting = egressPolicies(from);
        return selecting.isEmpty()
                || selecting.stream()
                        .anyMatch(p -> Optional.ofNullable(p.getSpec().getEgress()).orElse(List.of()).stream()
                                .anyMatch(r -> (r.getTo() == null
                                                || r.getTo().isEmpty()
                                                || r.getTo().stream()
                                                        .anyMatch(peer -> peer.getIpBlock() != null
                                                                && inBlock(peer.getIpBlock(), ip)))
                                        && ports(r.getPorts(), port)));
    }

    private static boolean inBlock(IPBlock block, InetAddress ip) {
        return GatewayEgress.Cidr.parse(block.getCidr(), "ipBlock.cidr").contains(ip)
                && Optional.ofNullable(block.getExcept()).orElse(List.of()).stream()
                        .noneMatch(e ->
                                GatewayEgress.Cidr.parse(e, "ipBlock.except").contains(ip));
    }

    private boolean direction(Pod from, Pod to, int port, String type, Pod selected) {
        List<NetworkPolicy> selecting = policies.stream()
                .filter(p -> p.getMetadata().getNamespace().equals(selected.namespace()))
                .filter(p -> matches(p.getSpec().getPodSelector(), selected.labels()))
                .filter(p -> types(p).contains(type))
                .toList();
        if (selecting.isEmpty()) {
            return true;
        }
        Pod peer = type.equals("Ingress") ? from : to;
        return selecting.stream()
                .anyMatch(p -> type.equals("Ingress")
                        ? Optional.ofNullable(p.getSpec().getIngress()).orElse(List.of()).stream()
                                .anyMatch(r -> peers(r.getFrom(), p, peer) && ports(r.getPorts(), port))
                        : Optional.ofNullable(p.getSpec().getEgress()).orElse(List.of()).stream()
                                .anyMatch(r -> peers(r.getTo(), p, peer) && ports(r.getPorts(), port)));
    }

    private static List<String> types(NetworkPolicy p) {
        List<String> declared =
                Optional.ofNullable(p.getSpec().getPolicyTypes()).orElse(List.of());
        if (!declared.isEmpty()) {
            return declared;
        }
        return p.getSpec().getEgress() == null || p.getSpec().getEgress().isEmpty()
                ? List.of("Ingress")
                : List.of("Ingress", "Egress");
    }

    private static boolean peers(List<NetworkPolicyPeer> peers, NetworkPolicy policy, Pod peer) {
        if (peers == null || peers.isEmpty()) {
            return true;
        }
        return peers.stream().anyMatch(p -> {
            if (p.getIpBlock() != null) {
                return false; // addresses outside the cluster's ranges: no pod's
            }
            boolean namespace = p.getNamespaceSelector() == null
                    ? peer.namespace().equals(policy.getMetadata().getNamespace())
                    : matches(p.getNamespaceSelector(), Map.of("kubernetes.io/metadata.name", peer.namespace()));
            boolean pod = p.getPodSelector() == null || matches(p.getPodSelector(), peer.labels());
            return namespace && pod;
        });
    }

    private static boolean ports(List<NetworkPolicyPort> ports, int port) {
        if (ports == null || ports.isEmpty()) {
            return true;
        }
        return ports.stream().anyMatch(p -> {
            if (p.getProtocol() != null && !p.getProtocol().equals("TCP")) {
                return false;
            }
            if (p.getPort() == null) {
                return true;
            }
            if (p.getPort().getStrVal() != null) {
                throw new IllegalArgumentException(
                        "named NetworkPolicy port " + p.getPort().getStrVal() + " is not modelled");
            }
            int first = p.getPort().getIntVal();
            int last = p.getEndPort() == null ? first : p.getEndPort();
            return port >= first && port <= last;
        });
    }

    private static boolean matches(LabelSelector selector, Map<String, String> labels) {
        if (selector == null) {
            return true;
        }
        if (selector.getMatchExpressions() != null
                && !selector.getMatchExpressions().isEmpty()) {
            throw new IllegalArgumentException("matchExpressions are not modelled");
        }
        return Optional.ofNullable(selector.getMatchLabels()).orElse(Map.of()).entrySet().stream()
                .allMatch(e -> e.getValue().equals(labels.get(e.getKey())));
    }
}
