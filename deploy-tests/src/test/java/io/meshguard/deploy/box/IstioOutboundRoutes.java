package io.meshguard.deploy.box;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.ServicePort;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.function.Predicate;

/**
 * What Istio's control plane gives one injected pod's sidecar for its outbound side, from the box's Services and the
 * shipped Istio objects (the {@link IstioOutbound} config), and the pod's capture rules:
 * <ul>
 * <li>protocol per Service port as Istio selects it: {@code appProtocol}, else the port name's prefix before
 *     {@code -} ({@code http}, {@code http2}, {@code grpc}, {@code grpc-web} are HTTP; {@code tcp}, {@code tls},
 *     {@code https}, {@code mongo}, {@code mysql}, {@code redis} are TCP), else sniffed
 *     (<a href="https://istio.io/latest/docs/ops/configuration/traffic-management/protocol-selection/">protocol
 *     selection</a>);</li>
 * <li>an HTTP port's virtual hosts: every Service with that port, by its FQDN, {@code name.ns.svc}, {@code name.ns},
 *     {@code name} in the pod's own namespace, and its ClusterIP, each also with {@code :PORT} (pilot
 *     {@code route.go} generateVirtualHostDomains); a TCP port: the {@code ClusterIP_PORT} listener;</li>
 * <li>the TLS of each endpoint: a DestinationRule's {@code trafficPolicy.tls.mode} for the Service's host
 *     ({@code ISTIO_MUTUAL} mTLS, {@code DISABLE} plaintext; other modes fail the pod: not modelled), else auto mTLS:
 *     mTLS to endpoints with a sidecar, plaintext to others;</li>
 * <li>{@code outboundTrafficPolicy.mode} of a Sidecar resource of the pod's namespace (or of {@code istio-system},
 *     the root namespace) that selects it, else the mesh default {@code ALLOW_ANY};</li>
 * <li>capture: Istio's {@code ISTIO_OUTPUT} chain (istio/istio {@code tools/istio-iptables/pkg/capture/run.go}):
 *     the proxy's own uid 1337 and loopback are not redirected, every other TCP connection is; the box redirects each
 *     original destination it knows (every ClusterIP port, every pod's ports) to a local port of its own.</li>
 * </ul>
 */
final class IstioOutboundRoutes {
    static final int PROXY_UID = 1337;
    private static final int FIRST_CAPTURE_PORT = 15100;
    private static final Set<String> HTTP = Set.of("http", "http2", "grpc", "grpc-web");
    private static final Set<String> TCP = Set.of("tcp", "tls", "https", "mongo", "mysql", "redis");

    /** The outbound half of a pod's sidecar: its config lines and its nftables capture rules. */
    record Outbound(String config, String capture) {}

    private final ServiceDirectory services;
    private final List<BoxPod> pods;
    private final Predicate<BoxPod> injected;
    private final List<JsonNode> istio;

    IstioOutboundRoutes(
            ServiceDirectory services, List<BoxPod> pods, Predicate<BoxPod> injected, List<JsonNode> istio) {
        this.services = services;
        this.pods = List.copyOf(pods);
        this.injected = injected;
        this.istio = List.copyOf(istio);
    }

    Outbound forPod(BoxPod self) {
        StringBuilder config = new StringBuilder();
        config.append("outbound ").append(outboundPolicy(self)).append('\n');
        Set<String> destinations = new LinkedHashSet<>();
        Set<Integer> httpPorts = new LinkedHashSet<>();
        for (ServiceDirectory.Entry e : services.entries()) {
            String fqdn = ServiceDirectory.fqdn(e.name(), e.namespace());
            for (ServicePort port : e.service().getSpec().getPorts()) {
                if (port.getProtocol() != null && !port.getProtocol().equals("TCP")) {
                    continue;
                }
                int p = port.getPort();
                String endpoints = endpoints(self, e, port, fqdn);
                String protocol = protocol(port);
                if (!protocol.equals("tcp")) {
                    httpPorts.add(p);
                    List<String> domains = new ArrayList<>(
                            List.of(fqdn, e.name() + "." + e.namespace() + ".svc", e.name() + "." + e.namespace()));
                    if (e.namespace().equals(self.namespace())) {
                        domains.add(e.name());
                    }
                    if (!e.headless()) {
                        domains.add(e.clusterIp());
                    }
                    for (String d : domains) {
                        config.append("vhost ")
                                .append(p)
                                .append(' ')
                                .append(d)
                                .append(' ')
                                .append(endpoints)
                                .append('\n');
                        config.append("vhost ")
                                .append(p)
                                .append(' ')
                                .append(d)
                                .append(':')
                                .append(p)
                                .append(' ')
                                .append(endpoints)
                                .append('\n');
                    }
                }
                if (e.headless()) {
                    // Istio's listeners for a headless Service: one per endpoint address
                    for (BoxPod pod : e.endpoints()) {
                        OptionalInt target = target(pod, port);
                        if (target.isPresent()) {
                            config.append("tcp ")
                                    .append(pod.ip())
                                    .append(' ')
                                    .append(target.getAsInt())
                                    .append(' ')
                                    .append(pod.ip())
                                    .append(':')
                                    .append(target.getAsInt())
                                    .append(':')
                                    .append(mtls(pod, fqdn) ? 'm' : 'p')
                                    .append('\n');
                        }
                    }
                } else {
                    config.append("tcp ")
                            .append(e.clusterIp())
                            .append(' ')
                            .append(p)
                            .append(' ')
                            .append(endpoints)
                            .append('\n');
                    destinations.add(e.clusterIp() + " " + p);
                }
            }
        }
        for (BoxPod pod : pods) {
            if (pod == self) {
                continue;
            }
            for (var port : Optional.ofNullable(pod.container().getPorts()).orElse(List.of())) {
                destinations.add(pod.ip() + " " + port.getContainerPort());
            }
        }
        httpPorts.forEach(p -> config.append("http ").append(p).append('\n'));
        StringBuilder map = new StringBuilder();
        int next = FIRST_CAPTURE_PORT;
        for (String d : destinations) {
            String[] f = d.split(" ");
            config.append("capture ").append(next).append(' ').append(d).append('\n');
            map.append(map.isEmpty() ? "" : ", ")
                    .append(f[0])
                    .append(" . ")
                    .append(f[1])
                    .append(" : ")
                    .append(next);
            next++;
        }
        if (next >= 16000) {
            throw new IllegalStateException(
                    "more outbound destinations than the box's capture ports: " + destinations.size());
        }
        String capture = "    meta skuid " + PROXY_UID + " return\n"
                + "    oif \"lo\" return\n"
                + "    ip daddr 127.0.0.0/8 return\n"
                + (map.isEmpty()
                        ? ""
                        : "    meta l4proto tcp redirect to : ip daddr . tcp dport map { " + map + " }\n");
        return new Outbound(config.toString(), capture);
    }

    private String endpoints(BoxPod self, ServiceDirectory.Entry e, ServicePort port, String fqdn) {
        List<String> out = new ArrayList<>();
        for (BoxPod pod : e.endpoints()) {
            OptionalInt target = target(pod, port);
            if (target.isPresent()) {
                out.add(pod.ip() + ":" + target.getAsInt() + ":" + (mtls(pod, fqdn) ? "m" : "p"));
            }
        }
        return out.isEmpty() ? "-" : String.join(",", out);
    }

    private static OptionalInt target(BoxPod pod, ServicePort port) {
        return port.getTargetPort() == null ? OptionalInt.of(port.getPort()) : pod.port(port.getTargetPort());
    }

    /** Istio's protocol selection for a Service port: "http" (HTTP, gRPC or sniffed) or "tcp". */
    static String protocol(ServicePort port) {
        String declared = port.getAppProtocol() != null
                ? port.getAppProtocol()
                : port.getName() == null ? "" : port.getName().split("-", 2)[0];
        declared = declared.toLowerCase(Locale.ROOT);
        if (port.getAppProtocol() != null
                && port.getAppProtocol().toLowerCase(Locale.ROOT).equals("grpc-web")) {
            return "http";
        }
        if (HTTP.contains(declared)) {
            return "http";
        }
        if (TCP.contains(declared)) {
            return "tcp";
        }
        return "sniffed";
    }

    /** Whether the client's sidecar sends mTLS to this endpoint of the Service {@code fqdn}. */
    private boolean mtls(BoxPod endpoint, String fqdn) {
        for (JsonNode dr : istio) {
            if (!dr.path("kind").asText().equals("DestinationRule")) {
                continue;
            }
            String ns = dr.path("metadata").path("namespace").asText("default");
            String host = dr.path("spec").path("host").asText();
            String full = host.contains(".") ? host : ServiceDirectory.fqdn(host, ns);
            if (!full.equals(fqdn)) {
                continue;
            }
            // a port's load balancer only (the sidecars' balancing is not modelled: an endpoint at random per
            // connection; the ingress gateway keeps a port's cookie affinity, IngressRoutes)
            for (JsonNode port : dr.path("spec").path("trafficPolicy").path("portLevelSettings")) {
                port.fieldNames().forEachRemaining(f -> {
                    if (!f.equals("port") && !f.equals("loadBalancer")) {
                        throw new IllegalStateException("DestinationRule " + ns + "/"
                                + dr.path("metadata").path("name").asText() + ": portLevelSettings." + f
                                + " is not modelled by the box");
                    }
                });
            }
            JsonNode tls = dr.path("spec").path("trafficPolicy").path("tls");
            if (tls.isMissingNode()) {
                break;
            }
            String mode = tls.path("mode").asText();
            return switch (mode) {
                case "ISTIO_MUTUAL" -> true;
                case "DISABLE" -> false;
                default ->
                    throw new IllegalStateException("DestinationRule " + ns + "/"
                            + dr.path("metadata").path("name").asText() + ": tls mode " + mode
                            + " is not modelled by the box");
            };
        }
        return injected.test(endpoint);
    }

    /** The pod's {@code outboundTrafficPolicy}: a selecting Sidecar of its namespace, else of the root namespace. */
    private String outboundPolicy(BoxPod self) {
        for (String ns : List.of(self.namespace(), "istio-system")) {
            for (JsonNode sidecar : istio) {
                if (!sidecar.path("kind").asText().equals("Sidecar")
                        || !sidecar.path("metadata").path("namespace").asText().equals(ns)) {
                    continue;
                }
                JsonNode selector =
                        sidecar.path("spec").path("workloadSelector").path("labels");
                Map<String, String> labels = new LinkedHashMap<>();
                selector.fields()
                        .forEachRemaining(
                                f -> labels.put(f.getKey(), f.getValue().asText()));
                if (!labels.isEmpty()
                        && !labels.entrySet().stream()
                                .allMatch(l -> l.getValue().equals(self.labels().get(l.getKey())))) {
                    continue;
                }
                String mode = sidecar.path("spec")
                        .path("outboundTrafficPolicy")
                        .path("mode")
                        .asText("");
                if (!mode.isEmpty()) {
                    return mode;
                }
            }
        }
        return "ALLOW_ANY";
    }
}
