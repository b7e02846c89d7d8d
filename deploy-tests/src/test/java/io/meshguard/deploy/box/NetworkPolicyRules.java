package io.meshguard.deploy.box;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.networking.v1.IPBlock;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.function.Function;

/**
 * NetworkPolicies (networking.k8s.io/v1) as nftables filter chains in each pod's own network namespace, following
 * the semantics of https://kubernetes.io/docs/concepts/services-networking/network-policies/:
 * <ul>
 * <li>a pod is isolated for a direction once any policy of its namespace selects it and lists that direction in
 *     {@code policyTypes} (absent: Ingress, plus Egress when the policy has egress rules); then only what some rule
 *     of some selecting policy allows passes (the union), everything else is dropped;</li>
 * <li>a rule's peers: {@code podSelector} alone selects pods of the policy's namespace, {@code namespaceSelector}
 *     alone every pod of the matching namespaces, both together the matching pods of the matching namespaces,
 *     {@code ipBlock} a CIDR minus its {@code except}; no {@code from}/{@code to} means every peer;</li>
 * <li>ports: protocol (TCP by default), a number, a range ({@code endPort}) or a container port name (resolved on
 *     the destination pod); no {@code ports} means every port;</li>
 * <li>reply traffic of an allowed connection passes ({@code ct state established,related}); loopback inside the pod
 *     is never filtered; traffic from the pod's node (kubelet probes, port-forward) is allowed ("traffic to and from
 *     the node where a Pod is running is always allowed").</li>
 * </ul>
 * Policies are evaluated on pod IPs after Service translation: the DNAT of {@link ServiceDirectory} runs at nat
 * priority, before this filter. Dropped packets are counted per pod and direction, for reports.
 */
final class NetworkPolicyRules {
    private final List<NetworkPolicy> policies;
    private final List<BoxPod> pods;
    private final Function<String, Map<String, String>> namespaceLabels;
    private final String nodeAddress;

    NetworkPolicyRules(
            List<NetworkPolicy> policies,
            List<BoxPod> pods,
            Function<String, Map<String, String>> namespaceLabels,
            String nodeAddress) {
        this.policies = List.copyOf(policies);
        this.pods = List.copyOf(pods);
        this.namespaceLabels = namespaceLabels;
        this.nodeAddress = nodeAddress;
    }

    /** The whole nftables table of {@code pod}: Service DNAT ({@code natRules}) and both filter directions. */
    String table(BoxPod pod, String natRules, String sidecarRedirects, String sidecarCapture) {
        StringBuilder s = new StringBuilder("table inet box {\n");
        s.append("  counter ingress_dropped {}\n  counter egress_dropped {}\n");
        // the sidecar's outbound capture before the Service DNAT, as in a pod (kube-proxy runs on the node): its
        // proxy sees the ClusterIP the application dialled; the first nat chain that translates a connection wins
        s.append("  chain sidecar_outbound {\n    type nat hook output priority -110; policy accept;\n")
                .append(sidecarCapture)
                .append("  }\n");
        s.append("  chain services {\n    type nat hook output priority -100; policy accept;\n")
                .append(natRules)
                .append("  }\n");
        s.append("  chain sidecar_inbound {\n    type nat hook prerouting priority -100; policy accept;\n")
                .append(sidecarRedirects)
                .append("  }\n");
        // before the sidecar's redirect, so policies see the port the peer dialled (the CNI filters on the veth)
        s.append("  chain ingress {\n    type filter hook prerouting priority -150; policy accept;\n")
                .append("    ct state established,related accept\n    iif \"lo\" accept\n")
                // IPv4 cluster: IPv6 neighbour discovery on the link is no pod traffic
                .append("    meta l4proto ipv6-icmp accept\n")
                .append("    ip saddr ")
                .append(nodeAddress)
                .append(" accept\n");
        List<NetworkPolicy> ingress = selecting(pod, "Ingress");
        if (!ingress.isEmpty()) {
            for (NetworkPolicy p : ingress) {
                for (var rule : Optional.ofNullable(p.getSpec().getIngress()).orElse(List.of())) {
                    rules(s, p, pod, "saddr", rule.getFrom(), rule.getPorts(), true);
                }
            }
            s.append("    counter name ingress_dropped drop\n");
        }
        s.append("  }\n");
        s.append("  chain egress {\n    type filter hook output priority 0; policy accept;\n")
                .append("    ct state established,related accept\n    oif \"lo\" accept\n")
                // a connection the sidecar captured: redirected to loopback in the nat hook, while meta oif still
                // names the interface of the first route lookup
                .append("    ip daddr 127.0.0.0/8 accept\n")
                .append("    meta l4proto ipv6-icmp accept\n");
        List<NetworkPolicy> egress = selecting(pod, "Egress");
        if (!egress.isEmpty()) {
            for (NetworkPolicy p : egress) {
                for (var rule : Optional.ofNullable(p.getSpec().getEgress()).orElse(List.of())) {
                    rules(s, p, pod, "daddr", rule.getTo(), rule.getPorts(), false);
                }
            }
            s.append("    counter name egress_dropped drop\n");
        }
        s.append("  }\n}\n");
        return s.toString();
    }

    /** The policies that select {@code pod} for {@code direction}. */
    List<NetworkPolicy> selecting(BoxPod pod, String direction) {
        return policies.stream()
                .filter(p -> p.getMetadata().getNamespace().equals(pod.namespace()))
                .filter(p -> Labels.matches(p.getSpec().getPodSelector(), pod.labels()))
                .filter(p -> policyTypes(p).contains(direction))
                .toList();
    }

    private static List<String> policyTypes(NetworkPolicy p) {
        List<String> types = p.getSpec().getPolicyTypes();
        if (types != null && !types.isEmpty()) {
            return types;
        }
        List<String> implied = new ArrayList<>(List.of("Ingress"));
        if (p.getSpec().getEgress() != null && !p.getSpec().getEgress().isEmpty()) {
            implied.add("Egress");
        }
        return implied;
    }

    private void rules(
            StringBuilder s,
            NetworkPolicy policy,
            BoxPod self,
            String field,
            List<NetworkPolicyPeer> peers,
            List<NetworkPolicyPort> ports,
            boolean ingress) {
        // each peer: a list of address matches (pod IPs or CIDRs with exceptions), and for egress the peer pods,
        // on which a named port is resolved
        List<String> addressMatches = new ArrayList<>();
        List<BoxPod> peerPods = new ArrayList<>();
        boolean anyPeer = peers == null || peers.isEmpty();
        if (!anyPeer) {
            for (NetworkPolicyPeer peer : peers) {
                if (peer.getIpBlock() != null) {
                    IPBlock block = peer.getIpBlock();
                    String match = "ip " + field + " " + block.getCidr();
                    if (block.getExcept() != null && !block.getExcept().isEmpty()) {
                        match += " ip " + field + " != { " + String.join(", ", block.getExcept()) + " }";
                    }
                    addressMatches.add(match);
                    continue;
                }
                for (BoxPod p : pods) {
                    if (selected(policy, peer, p)) {
                        peerPods.add(p);
                        addressMatches.add("ip " + field + " " + p.ip());
                    }
                }
            }
            if (addressMatches.isEmpty()) {
                return; // peers that select nothing allow nothing
            }
        }
        List<String> portMatches = new ArrayList<>();
        if (ports == null || ports.isEmpty()) {
            portMatches.add("");
        } else {
            for (NetworkPolicyPort port : ports) {
                String proto =
                        port.getProtocol() == null ? "tcp" : port.getProtocol().toLowerCase();
                IntOrString number = port.getPort();
                if (number == null) {
                    portMatches.add("meta l4proto " + proto);
                } else if (number.getIntVal() != null) {
                    portMatches.add(proto + " dport " + number.getIntVal()
                            + (port.getEndPort() == null ? "" : "-" + port.getEndPort()));
                } else if (ingress) {
                    OptionalInt resolved = self.port(number.getStrVal());
                    resolved.ifPresent(n -> portMatches.add(proto + " dport " + n));
                } else {
                    // a named port of the destination: one match per peer pod that declares it
                    for (BoxPod p : anyPeer ? pods : peerPods) {
                        OptionalInt resolved = p.port(number.getStrVal());
                        resolved.ifPresent(n -> portMatches.add("ip daddr " + p.ip() + " " + proto + " dport " + n));
                    }
                }
            }
            if (portMatches.isEmpty()) {
                return;
            }
        }
        String comment = " comment \"" + policy.getMetadata().getName() + "\"";
        for (String address : anyPeer ? List.of("") : addressMatches) {
            for (String port : portMatches) {
                s.append("    ")
                        .append(address)
                        .append(address.isEmpty() ? "" : " ")
                        .append(port)
                        .append(port.isEmpty() ? "" : " ")
                        .append("accept")
                        .append(comment)
                        .append('\n');
            }
        }
    }

    private boolean selected(NetworkPolicy policy, NetworkPolicyPeer peer, BoxPod candidate) {
        boolean namespaceOk = peer.getNamespaceSelector() == null
                ? candidate.namespace().equals(policy.getMetadata().getNamespace())
                : Labels.matches(peer.getNamespaceSelector(), namespaceLabels.apply(candidate.namespace()));
        boolean podOk = peer.getPodSelector() == null || Labels.matches(peer.getPodSelector(), candidate.labels());
        return namespaceOk && podOk;
    }
}
