package io.meshguard.envoygateway.apply;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.meshguard.contract.zone.v1.ZoneProto;
import io.meshguard.envoygateway.render.EdgeRoutes;
import io.meshguard.envoygateway.render.EnvoyGatewayTemplate;
import io.meshguard.envoygateway.render.GatewayRevision;
import io.meshguard.envoygateway.render.GatewayRevision.Backend;
import io.meshguard.envoygateway.render.GatewayRevision.Destination;
import io.meshguard.envoygateway.render.GatewayRevision.EdgeRoute;
import io.meshguard.envoygateway.render.GatewayRevision.Endpoint;
import io.meshguard.envoygateway.render.GatewayRevision.PathMatch;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The zone's side of an {@code envoy-gateway} group against the CRUD mock API server: a revision from central is
 * rendered, checked and applied, the resources come back as the group's nodes in the zone's echo (what central's fleet
 * view shows) with the conditions their controllers wrote, in the metrics too, and hand edits are counted and
 * reported per the drift setting. A local HTTP server: integration tier.
 */
@Tag("integration")
class EnvoyGatewayZoneTest {
    private static KubernetesMockServer server;
    private static KubernetesClient client;

    private static final ResourceDefinitionContext HTTP_ROUTES =
            ResourceKinds.of("gateway.networking.k8s.io/v1", "HTTPRoute").orElseThrow();
    private static final Backend PAYMENTS =
            new Backend("payments", List.of(new Endpoint("payments.bank-apps.svc.cluster.local", 8080)), false, false);

    private SimpleMeterRegistry meters;

    @BeforeAll
    static void mockApiServer() {
        server = new KubernetesMockServer(
                new Context(), new MockWebServer(), new HashMap<>(), new ApplyingCrudDispatcher(), false);
        server.init();
        client = server.createClient();
    }

    @AfterAll
    static void stop() {
        client.close();
        server.destroy();
    }

    @BeforeEach
    void emptyCluster() {
        server.reset();
        meters = new SimpleMeterRegistry();
    }

    private EnvoyGatewayZone zone(DriftMode mode) {
        return new EnvoyGatewayZone(
                EnvoyGatewayTemplate.defaults(),
                new EnvoyGatewayCluster(client, mode),
                Duration.ofMinutes(1),
                meters,
                Clock.systemUTC());
    }

    private static GatewayRevision revision(long id, Backend backend) {
        EdgeRoute charges =
                EdgeRoutes.payments("charges", new PathMatch(PathMatch.Kind.PREFIX, "/payments/v2/charges"), p -> {
                    p.destinations = List.of(new Destination(backend.name(), 100));
                    p.dlpMetadata = Map.of();
                });
        return new GatewayRevision("edge", id, 8080, List.of(charges), List.of(backend));
    }

    private static ZoneProto.NodeReport node(EnvoyGatewayZone zone, String id) {
        return zone.reports().stream()
                .filter(n -> n.getNodeId().equals(id))
                .findFirst()
                .orElseThrow(() -> new AssertionError(id + " not reported: " + zone.reports()));
    }

    private double gauge(String kind, String condition, String status) {
        return meters.get("meshguard_zone_gateway_resources")
                .tags("kind", kind, "condition", condition, "status", status)
                .gauge()
                .value();
    }

    @Test
    void aRevision_isApplied_andEachResourceIsReportedAsANodeOfTheGroup_withTheConditionsItsControllerWrote() {
        EnvoyGatewayZone zone = zone(DriftMode.CORRECT);

        assertThat(zone.revision(revision(3, PAYMENTS))).isEmpty();

        assertThat(zone.reports())
                .extracting(ZoneProto.NodeReport::getNodeId)
                .containsExactlyInAnyOrder(
                        "Gateway/meshguard/edge",
                        "ClientTrafficPolicy/meshguard/edge",
                        "HTTPRoute/meshguard/edge.charges",
                        "SecurityPolicy/meshguard/edge.charges",
                        "EnvoyExtensionPolicy/meshguard/edge.charges");
        ZoneProto.NodeReport route = node(zone, "HTTPRoute/meshguard/edge.charges");
        assertThat(route.getGroup()).isEqualTo("edge");
        assertThat(route.getRevision()).isEqualTo(3);
        assertThat(route.getExpected()).isEqualTo(3);
        assertThat(route.getClient()).isEqualTo("envoy-gateway Accepted=Unknown,ResolvedRefs=Unknown");
        assertThat(gauge("HTTPRoute", "ResolvedRefs", "Unknown")).isEqualTo(1);

        // Envoy Gateway's controller writes the route's status: accepted, a backend reference not permitted
        GenericKubernetesResource live = client.genericKubernetesResources(HTTP_ROUTES)
                .inNamespace("meshguard")
                .withName("edge.charges")
                .get();
        live.setAdditionalProperty(
                "status",
                Map.of(
                        "parents",
                        List.of(Map.of(
                                "parentRef",
                                Map.of("name", "edge"),
                                "controllerName",
                                "gateway.envoyproxy.io/gatewayclass-controller",
                                "conditions",
                                List.of(
                                        Map.of("type", "Accepted", "status", "True", "reason", "Accepted"),
                                        Map.of(
                                                "type",
                                                "ResolvedRefs",
                                                "status",
                                                "False",
                                                "reason",
                                                "RefNotPermitted",
                                                "message",
                                                "no ReferenceGrant"))))));
        client.genericKubernetesResources(HTTP_ROUTES)
                .inNamespace("meshguard")
                .resource(live)
                .updateStatus();
        zone.reconcile();

        route = node(zone, "HTTPRoute/meshguard/edge.charges");
        assertThat(route.getClient()).isEqualTo("envoy-gateway Accepted=True,ResolvedRefs=False");
        assertThat(route.getNack()).isEqualTo("ResolvedRefs=False RefNotPermitted on Gateway/edge: no ReferenceGrant");
        assertThat(gauge("HTTPRoute", "ResolvedRefs", "False")).isEqualTo(1);
        assertThat(gauge("HTTPRoute", "Accepted", "True")).isEqualTo(1);
        assertThat(gauge("Gateway", "Programmed", "Unknown")).isEqualTo(1);
    }

    @Test
    void aRevisionTheCrdsRefuse_isNotApplied_andSaysWhy() {
        EnvoyGatewayZone zone = zone(DriftMode.CORRECT);
        Backend tls = new Backend("payments", List.of(new Endpoint("payments.example", 443)), true, false);

        Optional<String> refused = zone.revision(revision(4, tls));

        assertThat(refused)
                .hasValueSatisfying(r -> assertThat(r).contains("edge").contains("TLS"));
        assertThat(client.genericKubernetesResources(HTTP_ROUTES)
                        .inAnyNamespace()
                        .list()
                        .getItems())
                .isEmpty();
        assertThat(zone.reports()).isEmpty();
    }

    @Test
    void aHandEdit_underReport_isCountedAndShownOnTheResourcesNode_underCorrect_isCountedAndGone() {
        EnvoyGatewayZone reporting = zone(DriftMode.REPORT);
        reporting.revision(revision(5, PAYMENTS));
        GenericKubernetesResource live = client.genericKubernetesResources(HTTP_ROUTES)
                .inNamespace("meshguard")
                .withName("edge.charges")
                .get();
        live.getMetadata().getLabels().put("meshguard.io/revision", "2");
        client.genericKubernetesResources(HTTP_ROUTES)
                .inNamespace("meshguard")
                .resource(live)
                .update();

        reporting.reconcile();

        ZoneProto.NodeReport route = node(reporting, "HTTPRoute/meshguard/edge.charges");
        assertThat(route.getNack())
                .isEqualTo("edited by hand, left as found (zone.envoy_gateway.drift: report):"
                        + " /metadata/labels/meshguard.io~1revision");
        assertThat(route.getRevision()).isEqualTo(2); // central's fleet view shows it as drift: 2, expected 5
        assertThat(meters.get("meshguard_zone_gateway_drift_total")
                        .tags("kind", "HTTPRoute", "action", "reported")
                        .counter()
                        .count())
                .isEqualTo(1);

        EnvoyGatewayZone correcting = zone(DriftMode.CORRECT);
        correcting.revision(revision(5, PAYMENTS)); // a restarted zone applies what it holds
        client.genericKubernetesResources(HTTP_ROUTES)
                .inNamespace("meshguard")
                .withName("edge.charges")
                .delete();
        correcting.reconcile();
        assertThat(meters.get("meshguard_zone_gateway_drift_total")
                        .tags("kind", "HTTPRoute", "action", "corrected")
                        .counter()
                        .count())
                .isEqualTo(1);
        route = node(correcting, "HTTPRoute/meshguard/edge.charges");
        assertThat(route.hasNack()).isFalse();
        assertThat(route.getRevision()).isEqualTo(5);
    }

    @Test
    void aWithdrawal_deletesTheGroupsResources_andItsNodesLeaveTheReport() {
        EnvoyGatewayZone zone = zone(DriftMode.CORRECT);
        zone.revision(revision(6, PAYMENTS));
        assertThat(zone.reports()).isNotEmpty();
        assertThat(zone.serves("edge")).isTrue();
        assertThat(zone.serves("internal")).isFalse();

        zone.withdrawal("edge");

        assertThat(zone.reports()).isEmpty();
        assertThat(client.genericKubernetesResources(HTTP_ROUTES)
                        .inAnyNamespace()
                        .list()
                        .getItems())
                .isEmpty();
        assertThat(zone.serves("edge"))
                .as("a withdrawn group's resources are no longer kept")
                .isFalse();
    }
}
