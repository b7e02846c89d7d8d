package io.meshguard.deploy.box;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

/**
 * Services as kube-proxy and cluster DNS present them to a pod. Each Service gets a ClusterIP from the service range;
 * its endpoints are the pods of its namespace its selector matches; each service port maps to the endpoint's
 * targetPort (a number, or the container port of that name). DNS is the pod's {@code /etc/hosts}: a Service's
 * {@code name.ns.svc.cluster.local} (and the search-path forms {@code name.ns.svc}, {@code name.ns}, and {@code name}
 * inside its own namespace) resolve to its ClusterIP, a headless Service's to its pods, and a StatefulSet pod's
 * {@code pod.service.ns.svc.cluster.local} to the pod. The translation is an nftables DNAT in each pod's own output
 * path (as kube-proxy's nat OUTPUT chain does for traffic a node originates), random among endpoints; a port or a
 * Service with no endpoint is rejected, as kube-proxy rejects it.
 */
final class ServiceDirectory {
    static final String SERVICE_RANGE = "10.96.0";

    /** A Service as the box serves it. */
    record Entry(Service service, String clusterIp, List<BoxPod> endpoints) {
        String name() {
            return service.getMetadata().getName();
        }

        String namespace() {
            return service.getMetadata().getNamespace();
        }

        boolean headless() {
            return "None".equals(clusterIp);
        }
    }

    private final List<Entry> entries = new ArrayList<>();
    private final List<BoxPod> pods;

    ServiceDirectory(List<Service> services, List<BoxPod> pods) {
        this(services, pods, List.of());
    }

    /**
     * The Services as applied now, each keeping the ClusterIP it had in {@code before} (a Service's address never
     * changes while it exists: running pods dialled it); a new Service takes the next free address.
     */
    ServiceDirectory(List<Service> services, List<BoxPod> pods, List<Entry> before) {
        this.pods = List.copyOf(pods);
        java.util.Map<String, String> kept = new java.util.HashMap<>();
        before.forEach(e -> kept.put(e.namespace() + "/" + e.name(), e.clusterIp()));
        java.util.Set<String> taken = new java.util.HashSet<>(kept.values());
        AtomicInteger next = new AtomicInteger(10);
        for (Service s : services) {
            String ns = s.getMetadata().getNamespace();
            List<BoxPod> endpoints = pods.stream()
                    .filter(p -> p.namespace().equals(ns))
                    .filter(p -> Labels.matches(s.getSpec().getSelector(), p.labels()))
                    .toList();
            String ip = kept.get(ns + "/" + s.getMetadata().getName());
            if ("None".equals(s.getSpec().getClusterIP())) {
                ip = "None";
            } else if (ip == null || ip.equals("None")) {
                do {
                    ip = SERVICE_RANGE + "." + next.getAndIncrement();
                } while (taken.contains(ip));
            }
            entries.add(new Entry(s, ip, endpoints));
        }
    }

    List<Entry> entries() {
        return entries;
    }

    /** The fully qualified name of a Service. */
    static String fqdn(String name, String namespace) {
        return name + "." + namespace + ".svc.cluster.local";
    }

    /** The {@code /etc/hosts} a pod in {@code namespace} sees. */
    String hosts(BoxPod self) {
        StringBuilder s = new StringBuilder("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
        s.append(self.ip()).append('\t').append(self.name());
        self.subdomain()
                .ifPresent(sub -> s.append(' ').append(self.name()).append('.').append(fqdn(sub, self.namespace())));
        s.append('\n');
        for (Entry e : entries) {
            String names = fqdn(e.name(), e.namespace()) + " " + e.name() + "." + e.namespace() + ".svc " + e.name()
                    + "." + e.namespace() + (e.namespace().equals(self.namespace()) ? " " + e.name() : "")
                    + java.util.Optional.ofNullable(e.service().getMetadata().getAnnotations())
                            .map(a -> a.get(ExternalParts.BANK_DNS))
                            .map(n -> " " + n)
                            .orElse("");
            if (e.headless()) {
                for (BoxPod p : e.endpoints()) {
                    s.append(p.ip()).append('\t').append(names).append('\n');
                }
            } else {
                s.append(e.clusterIp()).append('\t').append(names).append('\n');
            }
        }
        for (BoxPod p : pods) {
            if (p.subdomain().isPresent() && p != self) {
                s.append(p.ip())
                        .append('\t')
                        .append(p.name())
                        .append('.')
                        .append(fqdn(p.subdomain().get(), p.namespace()))
                        .append('\n');
            }
        }
        return s.toString();
    }

    /** The nftables nat chain body every pod carries: ClusterIP:port to an endpoint's targetPort. */
    String natRules() {
        return natRules(p -> true);
    }

    /** Starts the nft rule matching traffic to {@code port} of {@code e}'s cluster IP. */
    private static StringBuilder matchRule(StringBuilder s, Entry e, String proto, ServicePort port) {
        return s.append("    ip daddr ")
                .append(e.clusterIp())
                .append(' ')
                .append(proto)
                .append(" dport ")
                .append(port.getPort());
    }

    /** As {@link #natRules()} with only the endpoints {@code ready} admits (an EndpointSlice's ready ones). */
    String natRules(java.util.function.Predicate<BoxPod> ready) {
        StringBuilder s = new StringBuilder();
        for (Entry e : entries) {
            if (e.headless()) {
                continue;
            }
            for (ServicePort port : e.service().getSpec().getPorts()) {
                String proto =
                        port.getProtocol() == null ? "tcp" : port.getProtocol().toLowerCase();
                Map<String, Integer> targets = new LinkedHashMap<>();
                for (BoxPod p : e.endpoints().stream().filter(ready).toList()) {
                    OptionalInt target = port.getTargetPort() == null
                            ? OptionalInt.of(port.getPort())
                            : p.port(port.getTargetPort());
                    if (target.isPresent()) {
                        targets.put(p.ip(), target.getAsInt());
                    }
                }
                if (targets.isEmpty()) {
                    matchRule(s, e, proto, port).append(" reject\n");
                    continue;
                }
                if (targets.values().stream().distinct().count() > 1) {
                    throw new IllegalStateException("Service " + e.namespace() + "/" + e.name() + " port "
                            + port.getPort() + " maps to different target ports per pod: " + targets);
                }
                int targetPort = targets.values().iterator().next();
                List<String> ips = List.copyOf(targets.keySet());
                String map = java.util.stream.IntStream.range(0, ips.size())
                        .mapToObj(i -> i + " : " + ips.get(i))
                        .collect(Collectors.joining(", "));
                matchRule(s, e, proto, port)
                        .append(" dnat ip to numgen random mod ")
                        .append(ips.size())
                        .append(" map { ")
                        .append(map)
                        .append(" } : ")
                        .append(targetPort)
                        .append('\n');
            }
        }
        s.append("    ip daddr ").append(SERVICE_RANGE).append(".0/24 reject\n");
        return s.toString();
    }
}
