package io.meshguard.xds.validate;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.common.net.InetAddresses;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.Upstream;
import java.math.BigInteger;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Where the gateway's connections to its upstreams go, as its Kubernetes NetworkPolicy must allow them: the shipped
 * policy ({@code manifests/istio/base/network-policies.yaml}, {@code meshguard-gateway}) reaches pods in any namespace
 * only, and a {@code namespaceSelector} selects pods, never a VM, a partner API or a managed service (kubernetes.io
 * "Network Policies"). An upstream outside the cluster therefore needs an {@code ipBlock} rule for its addresses and
 * port, which {@link #networkPolicy} renders; one whose addresses cannot be known without DNS (an outside DNS name
 * not pinned to addresses) cannot be allowed by any NetworkPolicy and is refused at publish
 * ({@link ProblemCode#UPSTREAM_EGRESS_UNPINNED}).
 *
 * <p>Each endpoint is one of:
 * <ul>
 *   <li>in the cluster: a Service name {@code <svc>.<ns>.svc[.<cluster domain>]}, or an IP literal inside
 *       {@code xds.egress.cluster_cidrs} (the pod and Service ranges): the shipped pod rule covers it;</li>
 *   <li>the gateway pod itself (loopback, unspecified): never leaves the pod, no rule (its own address checks
 *       apply);</li>
 *   <li>outside, pinned: an IP literal (IPv4 or IPv6) outside the cluster ranges, or a DNS name
 *       {@code xds.egress.external_hosts} pins to addresses or ranges (what the name's ServiceEntry declares in
 *       {@code addresses} or its STATIC {@code endpoints}): one {@code ipBlock} per address, on the endpoint's
 *       port;</li>
 *   <li>outside, unpinned: any other DNS name, including the two-label {@code <svc>.<ns>} form, which the pod's DNS
 *       search list may as well resolve outside the cluster: refused.</li>
 * </ul>
 * With no {@code xds.egress.cluster_cidrs} the check is off ({@link #UNCHECKED}): nothing is refused, and the policy
 * rendered allows only IP literals.
 */
public final class GatewayEgress implements ConfigValidator.TemplateCheck {
    /** No cluster ranges known: nothing refused at publish (the behaviour before these settings existed). */
    public static final GatewayEgress UNCHECKED = new GatewayEgress(List.of(), Map.of());

    /** The shipped gateway's pods, which the rendered policy selects. */
    public static final String GATEWAY_APP_LABEL = "meshguard-gateway";

    private static final String LABEL = "[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?";
    private static final Pattern CLUSTER_SERVICE =
            Pattern.compile("^" + LABEL + "\\." + LABEL + "\\.svc(?:\\." + LABEL + ")*\\.?$");

    private final List<Cidr> clusterCidrs;
    private final Map<String, List<Cidr>> externalHosts;

    public GatewayEgress(List<Cidr> clusterCidrs, Map<String, List<Cidr>> externalHosts) {
        this.clusterCidrs = List.copyOf(clusterCidrs);
        Map<String, List<Cidr>> hosts = new TreeMap<>();
        externalHosts.forEach((h, c) -> hosts.put(normalHost(h), List.copyOf(c)));
        this.externalHosts = Map.copyOf(hosts);
    }

    /**
     * From the two settings' texts: {@code clusterCidrs} as {@code 10.0.0.0/8} or {@code fd00::/48} (a bare address
     * is its own /32 or /128), {@code externalHosts} as {@code host=CIDR|CIDR}.
     *
     * @throws IllegalArgumentException naming the key and the entry that is not one
     */
    public static GatewayEgress parse(List<String> clusterCidrs, List<String> externalHosts) {
        List<Cidr> cluster = new ArrayList<>();
        for (String c : clusterCidrs) {
            cluster.add(Cidr.parse(c, "xds.egress.cluster_cidrs"));
        }
        Map<String, List<Cidr>> hosts = new LinkedHashMap<>();
        for (String entry : externalHosts) {
            int eq = entry.indexOf('=');
            String host = eq < 0 ? "" : normalHost(entry.substring(0, eq));
            if (eq < 0
                    || host.isEmpty()
                    || Upstream.isIpLiteral(host)
                    || entry.substring(eq + 1).isBlank()) {
                throw new IllegalArgumentException("xds.egress.external_hosts: '" + entry
                        + "' is not host=CIDR[|CIDR...] (e.g. api.partner.example=203.0.113.0/28)");
            }
            if (hosts.containsKey(host)) {
                throw new IllegalArgumentException("xds.egress.external_hosts: '" + host + "' is named twice");
            }
            List<Cidr> cidrs = new ArrayList<>();
            for (String c : entry.substring(eq + 1).split("\\|")) {
                cidrs.add(Cidr.parse(c, "xds.egress.external_hosts"));
            }
            hosts.put(host, cidrs);
        }
        if (cluster.isEmpty() && !hosts.isEmpty()) {
            throw new IllegalArgumentException("xds.egress.external_hosts needs xds.egress.cluster_cidrs: without the "
                    + "cluster's ranges no address can be told inside from outside");
        }
        return new GatewayEgress(cluster, hosts);
    }

    /** Whether the cluster's ranges are known, so that publishes are checked. */
    public boolean checked() {
        return !clusterCidrs.isEmpty();
    }

    /** Where one endpoint's connections go, as far as the NetworkPolicy is concerned. */
    public enum Reach {
        /** A Service name or an address inside the cluster's ranges: the shipped pod rule allows it. */
        IN_CLUSTER,
        /** Loopback or unspecified: the gateway pod itself, not seen by NetworkPolicy. */
        GATEWAY_POD,
        /** Outside the cluster, at known addresses: an ipBlock rule on its port. */
        OUTSIDE_PINNED,
        /** An outside DNS name with no known addresses: no NetworkPolicy can allow it. */
        OUTSIDE_UNPINNED
    }

    /** One endpoint of one upstream and what the gateway's policy needs for it. */
    public record Destination(String upstream, String address, int port, Reach reach, List<Cidr> cidrs) {}

    /** Every endpoint of every upstream, in the configuration's order. */
    public List<Destination> destinations(GatewayConfig config) {
        List<Destination> out = new ArrayList<>();
        for (Upstream u : config.upstreams()) {
            for (Upstream.Endpoint e : u.endpoints()) {
                out.add(destination(u.name(), e.address(), e.port()));
            }
        }
        return out;
    }

    Destination destination(String upstream, String address, int port) {
        if (Upstream.isIpLiteral(address)) {
            InetAddress ip = InetAddresses.forString(address);
            if (ip.isLoopbackAddress() || ip.isAnyLocalAddress()) {
                return new Destination(upstream, address, port, Reach.GATEWAY_POD, List.of());
            }
            Cidr host = Cidr.of(ip);
            if (clusterCidrs.stream().anyMatch(c -> c.contains(ip))) {
                return new Destination(upstream, address, port, Reach.IN_CLUSTER, List.of());
            }
            return new Destination(upstream, address, port, Reach.OUTSIDE_PINNED, List.of(host));
        }
        String name = normalHost(address);
        if (CLUSTER_SERVICE.matcher(name).matches()) {
            return new Destination(upstream, address, port, Reach.IN_CLUSTER, List.of());
        }
        List<Cidr> pinned = externalHosts.get(name);
        if (pinned != null) {
            return new Destination(upstream, address, port, Reach.OUTSIDE_PINNED, pinned);
        }
        return new Destination(upstream, address, port, Reach.OUTSIDE_UNPINNED, List.of());
    }

    /** The publish check: every outside DNS name that is not pinned, when the cluster's ranges are known. */
    @Override
    public List<Problem> problems(GatewayConfig config) {
        if (!checked()) {
            return List.of();
        }
        List<Problem> out = new ArrayList<>();
        List<Upstream> upstreams = config.upstreams();
        for (int i = 0; i < upstreams.size(); i++) {
            Upstream u = upstreams.get(i);
            for (int j = 0; j < u.endpoints().size(); j++) {
                Upstream.Endpoint e = u.endpoints().get(j);
                if (destination(u.name(), e.address(), e.port()).reach() == Reach.OUTSIDE_UNPINNED) {
                    out.add(Problem.error(
                            ProblemCode.UPSTREAM_EGRESS_UNPINNED,
                            "upstreams[" + i + "].endpoints[" + j + "].address",
                            "'" + e.address() + "' is a DNS name outside the cluster (not <svc>.<ns>.svc[.<domain>])"
                                    + " with no addresses the gateway's NetworkPolicy could allow: the gateway would"
                                    + " time out connecting (503). Write an in-cluster Service as"
                                    + " <svc>.<ns>.svc.cluster.local, or pin the name to its addresses in"
                                    + " xds.egress.external_hosts (as its ServiceEntry declares them) and apply the"
                                    + " rendered egress policy (meshguard xds render --egress-policy)"));
                }
            }
        }
        return out;
    }

    /**
     * The NetworkPolicy {@code meshguard-gateway-upstreams} in {@code namespace}: for each port an outside upstream
     * listens on, one egress rule allowing TCP to that port at exactly its pinned addresses. Rules and blocks are
     * sorted, so the same configuration renders the same bytes. With no outside upstream it still selects the
     * gateway, with no rule: it then allows nothing beyond the shipped policy.
     */
    public ObjectNode networkPolicy(GatewayConfig config, String namespace) {
        Map<Integer, TreeSet<String>> byPort = new TreeMap<>();
        for (Destination d : destinations(config)) {
            if (d.reach() == Reach.OUTSIDE_PINNED) {
                TreeSet<String> cidrs = byPort.computeIfAbsent(d.port(), p -> new TreeSet<>());
                d.cidrs().forEach(c -> cidrs.add(c.toString()));
            }
        }
        ObjectMapper json = new ObjectMapper();
        ObjectNode policy = json.createObjectNode();
        policy.put("apiVersion", "networking.k8s.io/v1");
        policy.put("kind", "NetworkPolicy");
        ObjectNode metadata = policy.putObject("metadata");
        metadata.put("name", GATEWAY_APP_LABEL + "-upstreams");
        metadata.put("namespace", namespace);
        metadata.putObject("labels").put("app.kubernetes.io/part-of", "meshguard");
        ObjectNode spec = policy.putObject("spec");
        spec.putObject("podSelector").putObject("matchLabels").put("app.kubernetes.io/name", GATEWAY_APP_LABEL);
        spec.putArray("policyTypes").add("Egress");
        ArrayNode egress = spec.putArray("egress");
        byPort.forEach((port, cidrs) -> {
            ObjectNode rule = egress.addObject();
            ArrayNode to = rule.putArray("to");
            cidrs.forEach(c -> to.addObject().putObject("ipBlock").put("cidr", c));
            rule.putArray("ports").addObject().put("protocol", "TCP").put("port", port);
        });
        return policy;
    }

    private static String normalHost(String host) {
        String h = host.trim().toLowerCase(Locale.ROOT);
        return h.endsWith(".") ? h.substring(0, h.length() - 1) : h;
    }

    /** An IPv4 or IPv6 address range as NetworkPolicy's {@code ipBlock.cidr} writes it (host bits zero). */
    public record Cidr(InetAddress network, int prefix) {
        public Cidr {
            int bits = network.getAddress().length * 8;
            if (prefix < 0 || prefix > bits) {
                throw new IllegalArgumentException("prefix /" + prefix + " out of range for " + network);
            }
        }

        static Cidr of(InetAddress host) {
            return new Cidr(host, host.getAddress().length * 8);
        }

        /**
         * {@code a.b.c.d/n}, {@code x::/n} or a bare address (its /32 or /128); an address with host bits set under
         * its prefix is refused, since Kubernetes would read it as another range than the one written.
         */
        public static Cidr parse(String text, String key) {
            String t = text.trim();
            int slash = t.indexOf('/');
            String address = slash < 0 ? t : t.substring(0, slash);
            if (!Upstream.isIpLiteral(address)) {
                throw new IllegalArgumentException(key + ": '" + text + "' is not an IP address or range");
            }
            InetAddress network = InetAddresses.forString(address);
            int bits = network.getAddress().length * 8;
            int prefix;
            try {
                prefix = slash < 0 ? bits : Integer.parseInt(t.substring(slash + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(key + ": '" + text + "' has no prefix length after '/'");
            }
            if (prefix < 0 || prefix > bits) {
                throw new IllegalArgumentException(key + ": '" + text + "': prefix out of range");
            }
            Cidr cidr = new Cidr(network, prefix);
            if (!cidr.firstAddress().equals(network)) {
                throw new IllegalArgumentException(key + ": '" + text + "' has host bits set; write "
                        + cidr.firstAddress().getHostAddress() + "/" + prefix);
            }
            return cidr;
        }

        /** Whether {@code address} (same family) lies in this range. */
        public boolean contains(InetAddress address) {
            byte[] a = address.getAddress();
            byte[] n = network.getAddress();
            if (a.length != n.length) {
                return false;
            }
            int shift = a.length * 8 - prefix;
            return new BigInteger(1, a).shiftRight(shift).equals(new BigInteger(1, n).shiftRight(shift));
        }

        private InetAddress firstAddress() {
            byte[] n = network.getAddress();
            int shift = n.length * 8 - prefix;
            byte[] raw = new BigInteger(1, n).shiftRight(shift).shiftLeft(shift).toByteArray();
            byte[] out = new byte[n.length];
            int copy = Math.min(raw.length, n.length);
            System.arraycopy(raw, raw.length - copy, out, n.length - copy, copy);
            try {
                return InetAddress.getByAddress(out);
            } catch (java.net.UnknownHostException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public String toString() {
            return InetAddresses.toAddrString(network) + "/" + prefix;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Cidr c && c.prefix == prefix && c.network.equals(network);
        }

        @Override
        public int hashCode() {
            return network.hashCode() * 31 + prefix;
        }
    }

    @Override
    public String toString() {
        return "GatewayEgress" + (checked() ? clusterCidrs + " " + externalHosts.keySet() : "(unchecked)");
    }
}
