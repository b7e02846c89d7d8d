package io.meshguard.deploy.box;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthz;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.meshguard.deploy.RenderedManifests;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * A bank application namespace in Istio ambient mode, installed as manifests/istio/ambient/README.md says: a copy of
 * {@code example-namespace/} for namespace {@value #NAMESPACE} rendered with {@code kubectl kustomize} (the kit:
 * waypoint Gateway, CUSTOM policy and DLP EnvoyFilter with {@code targetRefs}, the "only from waypoint" L4 policy,
 * STRICT, Telemetry), the namespace labelled {@code istio.io/dataplane-mode=ambient} and
 * {@code istio.io/use-waypoint=meshguard-waypoint}, the app {@value #APP} labelled {@code meshguard.io/protected} and
 * {@code meshguard.io/dlp}, and the bank's security team's rule for its host plus the waypoint's identity under
 * {@code mesh.trusted_waypoints} in policies/authz.yaml (README step 1).
 *
 * <p>What Istio would run for it, modelled here:
 *
 * <ul>
 *   <li><b>The waypoint</b>: a pod of its own ({@link WaypointProxy}, service account named after the Gateway as
 *       istiod's deployment controller names it), whose HTTP filters come only from policies attached to its Gateway
 *       with {@code targetRefs}: the CUSTOM provider's ext_authz (translated as for a sidecar, {@link
 *       IstioExtensions#extAuthz}) and the EnvoyFilter's ext_proc, its cluster known only through the
 *       {@code envoyfilter.istio.io/referenced-services} annotation. A selector-bound policy never applies at a
 *       waypoint ({@code ShouldAttachPolicy}: "waypoints never use selector"). With the Gateway's
 *       {@code ambient.istio.io/xfcc-include-client-identity: "true"} it writes the client's identity into XFCC.
 *       With the Telemetry attached to it, each request is an entry of the {@code meshguard-als} provider's stream.
 *   <li><b>ztunnel</b> as nftables in each ambient pod's network namespace (a table {@code ztunnel} beside the
 *       box's): a connection from an ambient pod to a Service of a namespace that uses a waypoint goes to the
 *       waypoint (its listener for that Service); to a pod's address only when the waypoint is
 *       {@code istio.io/waypoint-for: workload} or {@code all} (default {@code service}); everything ztunnel carries
 *       is HBONE (the box's mTLS mark). Inbound, the L4 policies: AuthorizationPolicies bound by selector (the
 *       namespace's and the root namespace's) with L4 fields only, CUSTOM ones dropped ("ztunnel does not support the
 *       CUSTOM action", pilot/pkg/serviceregistry/ambient/authorization.go), and PeerAuthentication STRICT: a
 *       refused connection is reset.
 * </ul>
 *
 * <p>{@link #change} applies what an operator's edit would change (a label, a policy) and re-derives ztunnel's
 * tables and the waypoint's filters, as istiod pushes a new configuration; the waypoint restarts with it.
 */
final class AmbientNamespace {
    static final String NAMESPACE = "loans";
    static final String APP = "ledger";
    static final String CLIENT = "teller";
    static final int PORT = 8080;
    /** The bank's rule for the app's host in policies/authz.yaml. */
    static final String RULE = "loans-ledger";
    /** The waypoint's listener for traffic to the Service, and for traffic to the app pod's address. */
    static final int SERVICE_LISTENER = 15101;

    static final int POD_LISTENER = 15102;
    /** HBONE: ztunnel and the waypoint reach an ambient pod or a waypoint on this port, never on the app's. */
    static final int HBONE_PORT = 15008;
    /** The box's HBONE marks (DSCP), naming the kind of CONNECT target: a Service's address, or a pod's. */
    private static final String SERVICE_TARGET = "cs1";

    private static final String POD_TARGET = "cs2";
    static final String EXAMPLE = "ambient/example-namespace";
    private static final String WAYPOINT_FOR = "istio.io/waypoint-for";
    private static final String USE_WAYPOINT = "istio.io/use-waypoint";
    private static final String XFCC_ANNOTATION = "ambient.istio.io/xfcc-include-client-identity";
    private static final String REFERENCED = "envoyfilter.istio.io/referenced-services";

    private final List<JsonNode> kit;
    private final Map<String, String> namespaceLabels = new LinkedHashMap<>();
    private final JsonNode gateway;
    private BoxPod app;
    private BoxPod client;
    private BoxPod waypoint;

    private AmbientNamespace(List<JsonNode> kit) {
        this.kit = new ArrayList<>(kit);
        this.gateway = kit.stream()
                .filter(d -> d.path("kind").asText().equals("Gateway"))
                .findFirst()
                .orElseThrow(() -> new AssertionError(EXAMPLE + " renders no waypoint Gateway"));
        namespaceLabels.put("istio.io/dataplane-mode", "ambient");
        namespaceLabels.put(USE_WAYPOINT, waypointName());
    }

    /** Renders the kit for {@value #NAMESPACE}, applies its Service and the bank's policy lines to {@code objects}. */
    static AmbientNamespace install(ClusterObjects objects, Path workDir) throws IOException, InterruptedException {
        AmbientNamespace ns = new AmbientNamespace(RenderedManifests.renderCopyFor(EXAMPLE, NAMESPACE, workDir));
        objects.namespace(NAMESPACE, ns.namespaceLabels);
        // the kit's NetworkPolicy (HBONE and the kubelet's probes only): the box's CNI enforces it like any other
        objects.apply(ns.kit.stream()
                .filter(d -> d.path("kind").asText().equals("NetworkPolicy"))
                .toList());
        objects.service(new ServiceBuilder()
                .withNewMetadata()
                .withName(APP)
                .withNamespace(NAMESPACE)
                .endMetadata()
                .withNewSpec()
                .withSelector(Map.of("app", APP))
                .addNewPort()
                .withName("http")
                .withPort(PORT)
                .withNewTargetPort(PORT)
                .endPort()
                .endSpec()
                .build());
        return ns;
    }

    /** policies/authz.yaml with the app's rule first among the routes and the waypoint under trusted_waypoints. */
    String withItsRules(String authzYaml) {
        String trusted = "  trusted_gateways: [cluster.local/ns/meshguard/sa/meshguard-gateway]\n";
        if (!authzYaml.contains(trusted)) {
            throw new AssertionError("the shipped authz.yaml has no mesh.trusted_gateways line: " + trusted);
        }
        String withWaypoint = authzYaml.replace(
                trusted,
                trusted + "  trusted_waypoints: [" + waypointIdentity().substring("spiffe://".length()) + "]\n");
        String marker = "\nroutes:\n";
        int at = withWaypoint.indexOf(marker) + marker.length();
        String rule = """
                  # the bank's app in the ambient namespace loans, checked at the namespace's waypoint
                  - name: %s
                    match: {hosts: [%s], path_prefix: /}
                    auth: jwt_or_apikey
                """.formatted(RULE, ServiceDirectory.fqdn(APP, NAMESPACE));
        return withWaypoint.substring(0, at) + rule + withWaypoint.substring(at);
    }

    /** Schedules the namespace's pods (no sidecar: ambient) on {@code network}; adds them to {@code pods}. */
    void schedule(PodNetwork network, List<BoxPod> pods) {
        PodSpec appSpec = spec(APP, "bank/" + APP, PORT, "http");
        app = network.pod(
                APP + "-box0",
                NAMESPACE,
                Map.of("app", APP, BankApp.PROTECTED_LABEL, "true", BankApp.DLP_LABEL, "true"),
                appSpec,
                "Deployment/" + APP);
        client = network.pod(
                CLIENT + "-box0",
                NAMESPACE,
                Map.of("app", CLIENT),
                spec(CLIENT, "bank/" + CLIENT, 8081, "http"),
                "bank/" + CLIENT);
        Map<String, String> annotations = new LinkedHashMap<>();
        gateway.path("spec")
                .path("infrastructure")
                .path("annotations")
                .fields()
                .forEachRemaining(e -> annotations.put(e.getKey(), e.getValue().asText()));
        String ip = network.allocate();
        waypoint = new BoxPod(
                waypointName() + "-box0",
                NAMESPACE,
                Map.of("gateway.networking.k8s.io/gateway-name", waypointName()),
                annotations,
                ip,
                network.attach(ip),
                spec(waypointName(), "docker.io/istio/proxyv2", 15008, "mesh"),
                "Deployment/" + waypointName(),
                Optional.empty());
        pods.add(app);
        pods.add(client);
        pods.add(waypoint);
    }

    private static PodSpec spec(String serviceAccount, String image, int port, String portName) {
        PodSpec spec = new PodSpec();
        spec.setServiceAccountName(serviceAccount);
        spec.setContainers(List.of(new ContainerBuilder()
                .withName(serviceAccount)
                .withImage(image)
                .addNewPort()
                .withName(portName)
                .withContainerPort(port)
                .endPort()
                .build()));
        return spec;
    }

    BoxPod app() {
        return app;
    }

    BoxPod client() {
        return client;
    }

    BoxPod waypoint() {
        return waypoint;
    }

    String waypointName() {
        return gateway.path("metadata").path("name").asText();
    }

    /** The waypoint's SPIFFE ID: istiod names a waypoint's service account after its Gateway. */
    String waypointIdentity() {
        return "spiffe://cluster.local/ns/" + NAMESPACE + "/sa/" + waypointName();
    }

    static String identity(BoxPod pod) {
        return "spiffe://cluster.local/ns/" + pod.namespace() + "/sa/"
                + Optional.ofNullable(pod.spec().getServiceAccountName()).orElse("default");
    }

    Map<String, String> namespaceLabels() {
        return Map.copyOf(namespaceLabels);
    }

    /** Whether {@code pod} is captured by ztunnel: its namespace is ambient (the box has one ambient namespace). */
    boolean ambient(BoxPod pod) {
        return pod.namespace().equals(NAMESPACE) && "ambient".equals(namespaceLabels.get("istio.io/dataplane-mode"));
    }

    /** {@code istio.io/waypoint-for} of the waypoint's Gateway (Istio's default {@code service}). */
    String waypointFor() {
        return gateway.path("metadata").path("labels").path(WAYPOINT_FOR).asText("service");
    }

    // ---- operator's edits -----------------------------------------------------------------------------------------

    /** An edit of the namespace as an operator makes it: labels, the Gateway's labels, the kit's policies. */
    interface Edit {
        void apply(AmbientNamespace ns);
    }

    /** The Gateway's {@code istio.io/waypoint-for}. */
    static Edit waypointFor(String value) {
        return ns -> ((ObjectNode) ns.gateway.path("metadata").path("labels")).put(WAYPOINT_FOR, value);
    }

    /** The namespace label {@code istio.io/use-waypoint} set, or removed ({@code Optional.empty()}). */
    static Edit useWaypoint(Optional<String> value) {
        return ns -> value.ifPresentOrElse(
                v -> ns.namespaceLabels.put(USE_WAYPOINT, v), () -> ns.namespaceLabels.remove(USE_WAYPOINT));
    }

    /**
     * The kit's CUSTOM policy written the sidecar way: bound by {@code selector} to the protected pods instead of
     * attached to the waypoint with {@code targetRefs}.
     */
    static Edit customPolicyBoundBySelector() {
        return ns -> {
            for (JsonNode d : ns.kit) {
                if (d.path("kind").asText().equals("AuthorizationPolicy")
                        && d.path("spec").path("action").asText().equals("CUSTOM")) {
                    ObjectNode spec = (ObjectNode) d.path("spec");
                    spec.remove("targetRefs");
                    spec.putObject("selector").putObject("matchLabels").put(BankApp.PROTECTED_LABEL, "true");
                }
            }
        };
    }

    /** A snapshot to restore after a journey's edits. */
    record State(List<JsonNode> kit, Map<String, String> labels) {}

    State snapshot() {
        List<JsonNode> copy = new ArrayList<>();
        kit.forEach(d -> copy.add(d.deepCopy()));
        return new State(copy, Map.copyOf(namespaceLabels));
    }

    void restore(State s) {
        for (int i = 0; i < kit.size(); i++) {
            JsonNode now = kit.get(i);
            if (now.isObject()) {
                ((ObjectNode) now).removeAll();
                ((ObjectNode) now).setAll((ObjectNode) s.kit().get(i));
            }
        }
        namespaceLabels.clear();
        namespaceLabels.putAll(s.labels());
    }

    // ---- ztunnel ----------------------------------------------------------------------------------------------------

    /** The policies ztunnel enforces for {@code pod}: selector-bound (or namespace-wide) ones, CUSTOM dropped. */
    List<JsonNode> ztunnelPolicies(List<JsonNode> installed, List<String> dropped) {
        List<JsonNode> all = new ArrayList<>(installed);
        all.addAll(kit);
        List<JsonNode> ztunnel = new ArrayList<>();
        for (JsonNode d : all) {
            String kind = d.path("kind").asText();
            boolean attached =
                    d.path("spec").has("targetRefs") || d.path("spec").has("targetRef");
            if (kind.equals("PeerAuthentication")) {
                ztunnel.add(d);
            } else if (kind.equals("AuthorizationPolicy") && !attached) {
                if (d.path("spec").path("action").asText().equals("CUSTOM")) {
                    // authorization.go convertAuthorizationPolicy: the policy's status says so, nothing else
                    dropped.add(d.path("metadata").path("namespace").asText() + "/"
                            + d.path("metadata").path("name").asText()
                            + ": ztunnel does not support the CUSTOM action");
                } else {
                    ztunnel.add(d);
                }
            }
        }
        return ztunnel;
    }

    /**
     * ztunnel's nftables for one ambient pod: the capture of its outbound connections (to the waypoint, or HBONE
     * straight to the destination) and, for the app, the inbound L4 policy; {@code decisions} gets one line per peer.
     */
    String ztunnelTable(
            BoxPod pod,
            List<BoxPod> pods,
            ServiceDirectory services,
            List<JsonNode> installed,
            Function<String, Map<String, String>> labelsOf,
            String nodeAddress,
            StringBuilder decisions) {
        StringBuilder s = new StringBuilder("table inet ztunnel\ndelete table inet ztunnel\ntable inet ztunnel {\n");
        s.append("  counter refused {}\n");
        s.append("  chain outbound {\n    type nat hook output priority -120; policy accept;\n");
        if (!pod.equals(waypoint)) {
            // before the Service DNAT: ztunnel picks the destination itself, the first nat chain that translates wins
            String serviceIp = services.entries().stream()
                    .filter(e -> e.namespace().equals(NAMESPACE) && e.name().equals(APP))
                    .findFirst()
                    .orElseThrow(() -> new IllegalStateException("no Service " + NAMESPACE + "/" + APP))
                    .clusterIp();
            String toService = waypointServes("service") ? waypoint.ip() : app.ip();
            String toPod = waypointServes("workload") ? waypoint.ip() : app.ip();
            for (String[] target : new String[][] {{serviceIp, toService}, {app.ip(), toPod}}) {
                s.append("    ip daddr ")
                        .append(target[0])
                        .append(" tcp dport ")
                        .append(PORT)
                        .append(" dnat ip to ")
                        .append(target[1])
                        .append(':')
                        .append(HBONE_PORT)
                        .append('\n');
            }
        }
        s.append("  }\n");
        // what ztunnel carries is HBONE: mTLS with the pod's identity (the box's mark); the mark also names the kind
        // of CONNECT target the terminating side dispatches on: a pod's address (CS2) or a Service's (CS1)
        s.append("  chain hbone {\n    type filter hook output priority -10; policy accept;\n")
                .append("    oifname \"eth0\" meta l4proto tcp ct original ip daddr ")
                .append(app.ip())
                .append(" tcp dport ")
                .append(HBONE_PORT)
                .append(" ip dscp set ")
                .append(POD_TARGET)
                .append(" accept\n")
                .append("    oifname \"eth0\" meta l4proto tcp ip dscp set ")
                .append(SERVICE_TARGET)
                .append("\n  }\n");
        s.append("  chain inbound {\n    type filter hook prerouting priority -140; policy accept;\n")
                .append("    ct state established,related accept\n    iif \"lo\" accept\n    ip saddr ")
                .append(nodeAddress)
                .append(" accept\n");
        StringBuilder terminate = new StringBuilder();
        if (pod.equals(waypoint)) {
            // a waypoint takes HBONE only, on 15008; its listeners per CONNECT target are internal (Envoy's
            // internal listeners): nothing reaches them from outside the pod
            s.append("    tcp dport ")
                    .append(HBONE_PORT)
                    .append(" ip dscp { ")
                    .append(SERVICE_TARGET)
                    .append(", ")
                    .append(POD_TARGET)
                    .append(" } accept\n");
            for (int port : new int[] {HBONE_PORT, SERVICE_LISTENER, POD_LISTENER}) {
                s.append("    tcp dport ").append(port).append(" counter name refused reject with tcp reset\n");
            }
            terminate
                    .append("    tcp dport ")
                    .append(HBONE_PORT)
                    .append(" ip dscp ")
                    .append(SERVICE_TARGET)
                    .append(" redirect to :")
                    .append(SERVICE_LISTENER)
                    .append('\n')
                    .append("    tcp dport ")
                    .append(HBONE_PORT)
                    .append(" ip dscp ")
                    .append(POD_TARGET)
                    .append(" redirect to :")
                    .append(POD_LISTENER)
                    .append('\n');
        } else if (pod.equals(app)) {
            List<String> dropped = new ArrayList<>();
            IstioAuthorization l4 = new IstioAuthorization(ztunnelPolicies(installed, dropped));
            dropped.forEach(d -> decisions.append("dropped ").append(d).append('\n'));
            for (BoxPod peer : pods) {
                if (peer.equals(pod)) {
                    continue;
                }
                Optional<String> principal = IstioAuthorization.principal(peer, labelsOf);
                IstioAuthorization.Decision mtls = l4.decide(pod, PORT, principal, peer.ip());
                IstioAuthorization.Decision plain = l4.decide(pod, PORT, Optional.empty(), peer.ip());
                decisions
                        .append(peer.describe())
                        .append(": mTLS ")
                        .append(principal.isPresent() && mtls.allowed() ? "allowed" : "refused")
                        .append(" (")
                        .append(principal.isPresent() ? mtls.reason() : "no mesh identity")
                        .append("), plaintext ")
                        .append(plain.allowed() ? "allowed" : "refused (" + plain.reason() + ")")
                        .append('\n');
                // mTLS arrives as HBONE on 15008, never on the app's port (a sidecar's Istio mTLS there is no HBONE)
                if (principal.isPresent() && mtls.allowed()) {
                    s.append("    tcp dport ")
                            .append(HBONE_PORT)
                            .append(" ip saddr ")
                            .append(peer.ip())
                            .append(" ip dscp { ")
                            .append(SERVICE_TARGET)
                            .append(", ")
                            .append(POD_TARGET)
                            .append(" } accept\n");
                }
                if (plain.allowed()) {
                    s.append("    tcp dport ")
                            .append(PORT)
                            .append(" ip saddr ")
                            .append(peer.ip())
                            .append(" ip dscp 0 accept\n");
                }
            }
            for (int port : new int[] {HBONE_PORT, PORT}) {
                s.append("    tcp dport ").append(port).append(" counter name refused reject with tcp reset\n");
            }
            // the box's ambient app has one port: every CONNECT target it accepts is that port
            terminate
                    .append("    tcp dport ")
                    .append(HBONE_PORT)
                    .append(" redirect to :")
                    .append(PORT)
                    .append('\n');
        }
        s.append("  }\n");
        // HBONE terminated after the filters, so they (and the NetworkPolicies, earlier still) see 15008
        s.append("  chain terminate {\n    type nat hook prerouting priority -110; policy accept;\n")
                .append(terminate)
                .append("  }\n}\n");
        return s.toString();
    }

    /**
     * The nftables of a pod that speaks HBONE itself, straight to the app's 15008 (the box's mark on its own
     * connections): what a workload holding a mesh identity's certificate can do with or without ztunnel, since
     * istiod signs one for any token of its ServiceAccount.
     */
    String ownHboneTable() {
        return "table inet hbone\ndelete table inet hbone\ntable inet hbone {\n"
                + "  chain out {\n    type filter hook output priority -10; policy accept;\n"
                + "    oifname \"eth0\" meta l4proto tcp ip daddr " + app.ip() + " tcp dport " + HBONE_PORT
                + " ip dscp set " + POD_TARGET + "\n  }\n}\n";
    }

    private boolean waypointServes(String kind) {
        if (!namespaceLabels.containsKey(USE_WAYPOINT)
                || !namespaceLabels.get(USE_WAYPOINT).equals(waypointName())) {
            return false;
        }
        String f = waypointFor();
        return f.equals("all") || f.equals(kind);
    }

    // ---- the waypoint -----------------------------------------------------------------------------------------------

    /** A route line of the waypoint's config: {@code listener} on {@code ip}:PORT to the app's inbound cluster {@code name}. */
    private static void inboundRoute(StringBuilder c, int listener, String ip, String name) {
        c.append("route ")
                .append(listener)
                .append(' ')
                .append(ip)
                .append(' ')
                .append(PORT)
                .append(" inbound-vip|")
                .append(PORT)
                .append("|http|")
                .append(name)
                .append(' ')
                .append(name)
                .append(':')
                .append(PORT)
                .append('\n');
    }

    /**
     * The waypoint's config ({@link WaypointProxy}): the filters istiod attaches to it with {@code targetRefs}, its
     * routes, the identities ztunnel proves, the access-log provider of its Telemetry, its outbound clusters.
     */
    String waypointConfig(
            IstioExtensions extensions,
            JsonNode meshConfig,
            ServiceDirectory services,
            List<BoxPod> pods,
            Function<String, Map<String, String>> labelsOf,
            String outbound) {
        StringBuilder c = new StringBuilder();
        c.append("self ").append(waypointIdentity()).append('\n');
        c.append("xfcc ")
                .append("true".equals(waypoint.annotations().get(XFCC_ANNOTATION)))
                .append('\n');
        Optional<String> provider = attachedCustomProvider();
        Set<String> clusters = new java.util.HashSet<>();
        if (provider.isPresent()) {
            ExtAuthz extAuthz = extensions.extAuthz(provider.get());
            clusters.add(extAuthz.getGrpcService().getEnvoyGrpc().getClusterName());
            c.append("extauthz ")
                    .append(Base64.getEncoder().encodeToString(extAuthz.toByteArray()))
                    .append('\n');
        }
        attachedExtProc(extensions, clusters).ifPresent(p -> c.append("extproc ")
                .append(Base64.getEncoder().encodeToString(p.toByteArray()))
                .append('\n'));
        String host = ServiceDirectory.fqdn(APP, NAMESPACE);
        inboundRoute(c, SERVICE_LISTENER, app.ip(), host);
        inboundRoute(c, POD_LISTENER, app.ip(), app.ip());
        for (BoxPod p : pods) {
            IstioAuthorization.principal(p, labelsOf).ifPresent(id -> c.append("identity ")
                    .append(p.ip())
                    .append(' ')
                    .append(id)
                    .append('\n'));
        }
        accessLogProvider(meshConfig).ifPresent(c::append);
        c.append("timeout-scale ").append(Kubelet.SCALE).append('\n');
        // the outbound half's clusters, without its capture (a waypoint's own connections are not redirected)
        for (String line : outbound.split("\n")) {
            if (!line.isEmpty() && !line.startsWith("capture ")) {
                c.append(line).append('\n');
            }
        }
        return c.toString();
    }

    /** The provider of the CUSTOM policy attached to the waypoint's Gateway with {@code targetRefs}, if any. */
    private Optional<String> attachedCustomProvider() {
        Optional<String> provider = Optional.empty();
        for (JsonNode d : kit) {
            if (!d.path("kind").asText().equals("AuthorizationPolicy") || !targetsWaypoint(d)) {
                continue;
            }
            JsonNode spec = d.path("spec");
            spec.fieldNames().forEachRemaining(f -> {
                if (!Set.of("targetRefs", "action", "provider", "rules").contains(f)) {
                    throw new IllegalStateException("AuthorizationPolicy " + name(d) + " at the waypoint: " + f
                            + " is not modelled by the box");
                }
            });
            if (!spec.path("action").asText().equals("CUSTOM")) {
                throw new IllegalStateException("AuthorizationPolicy " + name(d) + " at the waypoint: action "
                        + spec.path("action").asText() + " is not modelled by the box");
            }
            for (JsonNode rule : spec.path("rules")) {
                if (rule.size() > 0) {
                    throw new IllegalStateException("AuthorizationPolicy " + name(d) + " at the waypoint: a rule with"
                            + " fields is not modelled by the box (only `- {}`, every request)");
                }
            }
            provider = Optional.of(spec.path("provider").path("name").asText());
        }
        return provider;
    }

    /**
     * The ext_proc an EnvoyFilter attached to the waypoint inserts, its cluster known to the waypoint only when the
     * filter's {@code referenced-services} annotation names the Service (a waypoint builds clusters for what it
     * routes to, its providers and those services).
     */
    private Optional<ExternalProcessor> attachedExtProc(IstioExtensions extensions, Set<String> providerClusters) {
        List<ExternalProcessor> found = new ArrayList<>();
        for (JsonNode d : kit) {
            if (!d.path("kind").asText().equals("EnvoyFilter") || !targetsWaypoint(d)) {
                continue;
            }
            Set<String> referenced = new java.util.HashSet<>();
            for (String ref : d.path("metadata")
                    .path("annotations")
                    .path(REFERENCED)
                    .asText("")
                    .split(",")) {
                if (!ref.isBlank()) {
                    referenced.add(ref.strip().substring(ref.strip().indexOf('/') + 1));
                }
            }
            for (JsonNode patch : d.path("spec").path("configPatches")) {
                found.add(extensions.extProcPatchAt(
                        name(d),
                        patch,
                        cluster -> providerClusters.contains(cluster)
                                || referenced.contains(cluster.split("\\|")[cluster.split("\\|").length - 1])));
            }
        }
        if (found.size() > 1) {
            throw new IllegalStateException("more than one ext_proc patch at the waypoint: order not modelled");
        }
        return found.stream().findFirst();
    }

    private boolean targetsWaypoint(JsonNode d) {
        for (JsonNode ref : d.path("spec").path("targetRefs")) {
            if (ref.path("kind").asText().equals("Gateway")
                    && ref.path("name").asText().equals(waypointName())) {
                return true;
            }
        }
        return false;
    }

    /** The Telemetry attached to the waypoint: its provider's ALS cluster, log name and headers (mesh config). */
    private Optional<String> accessLogProvider(JsonNode meshConfig) {
        for (JsonNode d : kit) {
            if (!d.path("kind").asText().equals("Telemetry") || !targetsWaypoint(d)) {
                continue;
            }
            for (JsonNode logging : d.path("spec").path("accessLogging")) {
                for (JsonNode p : logging.path("providers")) {
                    for (JsonNode provider : meshConfig.path("extensionProviders")) {
                        if (provider.path("name").asText().equals(p.path("name").asText())
                                && provider.has("envoyHttpAls")) {
                            JsonNode als = provider.path("envoyHttpAls");
                            List<String> headers = new ArrayList<>();
                            als.path("additionalRequestHeadersToLog").forEach(h -> headers.add(h.asText()));
                            return Optional.of(
                                    "als outbound|" + als.path("port").asInt() + "||"
                                            + als.path("service").asText() + " "
                                            + als.path("logName").asText("") + " " + String.join(",", headers) + "\n");
                        }
                    }
                }
            }
        }
        return Optional.empty();
    }

    private static String name(JsonNode d) {
        return d.path("metadata").path("namespace").asText() + "/"
                + d.path("metadata").path("name").asText();
    }

    /** The waypoint's launch: {@link WaypointProxy} with its config file. */
    Launch waypointLaunch(Path boxDir, String hosts, String classpath, String config) throws IOException {
        Path dir = boxDir.resolve(NAMESPACE + "_" + waypoint.name());
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("waypoint.conf"), config);
        return new Launch(
                waypoint.name(),
                waypoint.netns(),
                List.of(),
                hosts,
                false,
                Optional.empty(),
                Map.of(),
                List.of(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-Xmx96m",
                        "-Djava.net.preferIPv4Stack=true", // IP_TOS, the box's mTLS mark, on an IPv4 socket
                        "-XX:TieredStopAtLevel=1",
                        "-cp",
                        classpath,
                        WaypointProxy.class.getName(),
                        dir.resolve("waypoint.conf").toString()),
                dir);
    }
}
