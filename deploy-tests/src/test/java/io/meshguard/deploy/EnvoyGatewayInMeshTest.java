package io.meshguard.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.meshguard.envoygateway.render.EdgeRoutes;
import io.meshguard.envoygateway.render.EnvoyGatewayRenderer;
import io.meshguard.envoygateway.render.EnvoyGatewayTemplate;
import io.meshguard.envoygateway.render.GatewayRevision;
import io.meshguard.envoygateway.render.GatewayRevision.Backend;
import io.meshguard.envoygateway.render.GatewayRevision.EdgeRoute;
import io.meshguard.envoygateway.render.GatewayRevision.Endpoint;
import io.meshguard.envoygateway.render.GatewayRevision.PathMatch;
import io.meshguard.testing.IntegrationTest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Envoy Gateway's proxies reach meshguard's STRICT servers through Istio's sidecar
 * ({@code overlays/zone-envoy-gateway/in-mesh.yaml}): every gRPC stream the rendered policies make Envoy Gateway open (the Check, the ext_proc
 * stream with and without a DLP profile) carries an {@code :authority} that the sidecar routes to meshguard's Service
 * with mTLS, never to PassthroughCluster (plaintext, which the servers' STRICT sidecars reset).
 *
 * <p>The authority is computed as Envoy Gateway v1.9.0 computes it: {@code backendRefAuthority} for the SecurityPolicy
 * ({@code name.namespace:port} for a Service; internal/gatewayapi/securitypolicy.go) and {@code buildExtProc} for the
 * EnvoyExtensionPolicy ({@code <backendRefs[0].name>.<namespace>[:port]}, whatever the kind;
 * internal/gatewayapi/envoyextensionpolicy.go). The sidecar's choice follows Istio's outbound HTTP route for the port:
 * each Service with that port under its alternative names ({@code generateAltVirtualHostsForKubernetesService},
 * pilot/pkg/networking/core/httproute.go: FQDN, {@code name.ns.svc}, {@code name.ns}, each also with {@code :port},
 * for a caller in another namespace), and a VirtualService's non-registry hosts beside the Services it names, on the
 * ports its routes match ({@code buildSidecarVirtualHostsForVirtualService}, pilot/pkg/networking/core/route/route.go);
 * Envoy picks an exact domain first, then the longest suffix wildcard.
 */
@IntegrationTest
class EnvoyGatewayInMeshTest {
    private static final String NS = "meshguard";
    private static Manifests zone;

    @BeforeAll
    static void render() throws Exception {
        zone = ZoneEnvoyGatewayManifestTest.rendered();
    }

    private static EdgeRoute route(String name, Map<String, String> dlp) {
        return EdgeRoutes.payments(name, new PathMatch(PathMatch.Kind.PREFIX, "/" + name), p -> p.dlpMetadata = dlp);
    }

    /** One gRPC stream Envoy Gateway opens: its destination port and {@code :authority}. */
    private record Stream(String policy, int port, String authority) {}

    @Test
    void everyStreamTheRenderedPoliciesOpen_isRoutedByTheSidecar_toMeshguardsService() {
        EnvoyGatewayTemplate template = EnvoyGatewayTemplate.defaults();
        var rendered = new EnvoyGatewayRenderer(template)
                .render(new GatewayRevision(
                        "edge",
                        3,
                        8080,
                        List.of(route("cards", Map.of("x-meshguard-dlp-profile", "cards")), route("plain", Map.of())),
                        List.of(new Backend(
                                "payments",
                                List.of(new Endpoint("payments.bank-apps.svc.cluster.local", 8080)),
                                false,
                                false))));
        assertThat(rendered.refusals()).isEmpty();
        List<Stream> streams = new ArrayList<>();
        for (ObjectNode o : rendered.resources()) {
            String kind = o.path("kind").asText();
            String ns = o.path("metadata").path("namespace").asText();
            if (kind.equals("SecurityPolicy")) {
                for (JsonNode ref : o.path("spec").path("extAuth").path("grpc").path("backendRefs")) {
                    streams.add(new Stream(
                            o.path("metadata").path("name").asText(),
                            port(ref, rendered.resources()),
                            ref.path("name").asText() + "."
                                    + ref.path("namespace").asText(ns) + ":"
                                    + ref.path("port").asInt()));
                }
            } else if (kind.equals("EnvoyExtensionPolicy")) {
                JsonNode ref = o.path("spec")
                        .path("extProc")
                        .get(0)
                        .path("backendRefs")
                        .get(0);
                streams.add(new Stream(
                        o.path("metadata").path("name").asText(),
                        port(ref, rendered.resources()),
                        ref.path("name").asText() + "." + ref.path("namespace").asText(ns)
                                + (ref.has("port") ? ":" + ref.path("port").asInt() : "")));
            }
        }
        assertThat(streams)
                .as("a Check and an ext_proc stream per route, one of them with a profile")
                .hasSize(4)
                .anyMatch(s -> s.authority().startsWith("dlp-profile.cards.edge."));

        for (Stream s : streams) {
            String expected = s.port() == template.extAuthz().port() ? fqdn(template.extAuthz()) : fqdn(template.dlp());
            assertThat(sidecarRoute(s.port(), s.authority()))
                    .as("%s: the sidecar's route for :authority %s on port %d", s.policy(), s.authority(), s.port())
                    .contains(expected);
        }
    }

    @Test
    void aNameOutsideTheRenderedNamespace_onTheDlpPort_stillGoesNowhere() {
        assertThat(sidecarRoute(9002, "dlp-profile.cards.edge.payments")).isEmpty();
        assertThat(sidecarRoute(9002, "meshguard-dlp.meshguard:9002"))
                .contains(fqdn(EnvoyGatewayTemplate.defaults().dlp()));
    }

    private static String fqdn(EnvoyGatewayTemplate.ServiceRef s) {
        return s.name() + "." + s.namespace() + ".svc.cluster.local";
    }

    /** The port Envoy Gateway connects to: a Service reference's, or a Backend's FQDN endpoint's. */
    private static int port(JsonNode ref, List<ObjectNode> resources) {
        if (!ref.path("kind").asText("Service").equals("Backend")) {
            return ref.path("port").asInt();
        }
        return resources.stream()
                .filter(o -> o.path("kind").asText().equals("Backend")
                        && o.path("metadata")
                                .path("name")
                                .asText()
                                .equals(ref.path("name").asText()))
                .findFirst()
                .orElseThrow()
                .path("spec")
                .path("endpoints")
                .get(0)
                .path("fqdn")
                .path("port")
                .asInt();
    }

    /**
     * The Service (FQDN) the sidecar of a pod outside {@value #NS} sends a request with {@code authority} on
     * {@code port} to, from the overlay's Services and VirtualServices; empty: PassthroughCluster.
     */
    private static Optional<String> sidecarRoute(int port, String authority) {
        Map<String, String> domains = new LinkedHashMap<>();
        zone.ofKind("Service").forEach(d -> {
            JsonNode meta = d.node().path("metadata");
            for (JsonNode p : d.node().path("spec").path("ports")) {
                if (p.path("port").asInt() == port) {
                    String name = meta.path("name").asText();
                    String ns = meta.path("namespace").asText();
                    String fqdn = name + "." + ns + ".svc.cluster.local";
                    for (String h : List.of(fqdn, name + "." + ns + ".svc", name + "." + ns)) {
                        domains.put(h, fqdn);
                        domains.put(h + ":" + port, fqdn);
                    }
                }
            }
        });
        zone.ofKind("VirtualService").forEach(d -> {
            JsonNode spec = d.node().path("spec");
            List<String> registry = new ArrayList<>();
            List<String> other = new ArrayList<>();
            spec.path("hosts").forEach(h -> (domains.containsValue(h.asText()) ? registry : other).add(h.asText()));
            if (spec.has("gateways") || registry.isEmpty()) {
                return; // bound to a gateway, or no Service on this port: no virtual host for it here
            }
            for (JsonNode http : spec.path("http")) {
                boolean onPort = !http.has("match");
                for (JsonNode m : http.path("match")) {
                    onPort |= !m.has("port") || m.path("port").asInt() == port;
                }
                if (onPort) {
                    String to = http.path("route")
                            .get(0)
                            .path("destination")
                            .path("host")
                            .asText();
                    for (String h : other) {
                        domains.putIfAbsent(h, to);
                        domains.putIfAbsent(h + ":" + port, to);
                    }
                    return;
                }
            }
        });
        if (domains.containsKey(authority)) {
            return Optional.of(domains.get(authority));
        }
        return domains.keySet().stream()
                .filter(d ->
                        d.startsWith("*") && authority.length() > d.length() - 1 && authority.endsWith(d.substring(1)))
                .max(java.util.Comparator.comparingInt(String::length))
                .map(domains::get);
    }
}
