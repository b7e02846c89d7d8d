package io.meshguard.envoygateway.apply;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.meshguard.envoygateway.render.EdgeRoutes;
import io.meshguard.envoygateway.render.EnvoyGatewayPublishCheck;
import io.meshguard.envoygateway.render.EnvoyGatewayTemplate;
import io.meshguard.envoygateway.render.GatewayRevision;
import io.meshguard.envoygateway.render.GatewayRevision.Backend;
import io.meshguard.envoygateway.render.GatewayRevision.EdgeRoute;
import io.meshguard.envoygateway.render.GatewayRevision.Endpoint;
import io.meshguard.envoygateway.render.GatewayRevision.PathMatch;
import io.meshguard.envoygateway.render.RenderedResources;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The zone's apply, prune, status and drift loop against fabric8's mock API server in CRUD mode (it stores what it is
 * sent and answers get, list, patch, delete and status updates; no real API server runs on these machines — what the
 * mock does not do is in docs/envoy-gateway.md). A local HTTP server: integration tier.
 */
@Tag("integration")
class EnvoyGatewayClusterTest {
    private static ApplyingCrudDispatcher dispatcher;
    private static KubernetesMockServer server;
    private static KubernetesClient client;

    private static EnvoyGatewayPublishCheck check;

    private static final ResourceDefinitionContext HTTP_ROUTES =
            ResourceKinds.of("gateway.networking.k8s.io/v1", "HTTPRoute").orElseThrow();
    private static final ResourceDefinitionContext GATEWAYS =
            ResourceKinds.of("gateway.networking.k8s.io/v1", "Gateway").orElseThrow();
    private static final ResourceDefinitionContext SECURITY_POLICIES =
            ResourceKinds.of("gateway.envoyproxy.io/v1alpha1", "SecurityPolicy").orElseThrow();

    private static final Backend PAYMENTS =
            new Backend("payments", List.of(new Endpoint("payments.bank-apps.svc.cluster.local", 8080)), false, false);

    @BeforeAll
    static void mockApiServer() {
        check = new EnvoyGatewayPublishCheck(EnvoyGatewayTemplate.defaults());
        // what @EnableKubernetesMockClient(crud = true) builds, with the dispatcher that creates on apply; plain HTTP
        dispatcher = new ApplyingCrudDispatcher();
        server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), dispatcher, false);
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
        server.reset(); // CRUD state is per server: each test starts from an empty cluster
        dispatcher.applies.clear();
        dispatcher.writes.clear();
    }

    private static EdgeRoute route(String name, String prefix, long timeoutMs) {
        return EdgeRoutes.payments(name, new PathMatch(PathMatch.Kind.PREFIX, prefix), p -> p.timeoutMs = timeoutMs);
    }

    private static RenderedResources render(String group, long revision, EdgeRoute... routes) {
        return check.render(new GatewayRevision(group, revision, 8080, List.of(routes), List.of(PAYMENTS)));
    }

    private static final EdgeRoute CHARGES = route("charges", "/payments/v2/charges", 15_000);
    private static final EdgeRoute REFUNDS = route("refunds", "/payments/v2/refunds", 15_000);

    private static EnvoyGatewayCluster cluster(DriftMode mode) {
        return new EnvoyGatewayCluster(client, mode);
    }

    private static List<String> live(ResourceDefinitionContext kind) {
        return client.genericKubernetesResources(kind).inAnyNamespace().list().getItems().stream()
                .map(r -> r.getMetadata().getNamespace() + "/" + r.getMetadata().getName())
                .sorted()
                .toList();
    }

    private static TreeSet<String> keys(RenderedResources r) {
        TreeSet<String> out = new TreeSet<>();
        r.resources().forEach(o -> out.add(ResourceKey.of(o).toString()));
        return out;
    }

    private static TreeSet<String> strings(List<ResourceKey> keys) {
        TreeSet<String> out = new TreeSet<>();
        keys.forEach(k -> out.add(k.toString()));
        return out;
    }

    private static GenericKubernetesResource get(ResourceDefinitionContext kind, String name) {
        return client.genericKubernetesResources(kind)
                .inNamespace("meshguard")
                .withName(name)
                .get();
    }

    @Test
    void apply_createsEveryRenderedResource_withTheGroupAndRevisionLabels() {
        RenderedResources v1 = render("edge", 1, CHARGES, REFUNDS);

        ApplyOutcome outcome = cluster(DriftMode.CORRECT).apply("edge", 1, v1);

        assertThat(strings(outcome.applied())).isEqualTo(keys(v1));
        assertThat(outcome.unchanged()).isEmpty();
        assertThat(outcome.pruned()).isEmpty();
        assertThat(outcome.refused()).isEmpty();
        assertThat(live(HTTP_ROUTES)).containsExactly("meshguard/edge.charges", "meshguard/edge.refunds");
        assertThat(dispatcher.applies)
                .hasSize(v1.resources().size())
                .allMatch(q -> q.contains("fieldManager=meshguard-zone") && !q.contains("force=true"));
        GenericKubernetesResource gw = get(GATEWAYS, "edge");
        assertThat(gw.getMetadata().getLabels())
                .containsEntry("app.kubernetes.io/managed-by", "meshguard")
                .containsEntry("meshguard.io/gateway-group", "edge")
                .containsEntry("meshguard.io/revision", "1");
        // what the server holds is the render, field for field
        assertThat(EnvoyGatewayCluster.differences(
                        v1.resources().getFirst(),
                        client.getKubernetesSerialization()
                                .convertValue(gw, com.fasterxml.jackson.databind.JsonNode.class)))
                .isEmpty();
    }

    @Test
    void applyingTheSameRenderAgain_sendsNothing_andNoResourceVersionMoves() {
        RenderedResources v1 = render("edge", 1, CHARGES, REFUNDS);
        EnvoyGatewayCluster cluster = cluster(DriftMode.CORRECT);
        cluster.apply("edge", 1, v1);
        String before = get(HTTP_ROUTES, "edge.charges").getMetadata().getResourceVersion();
        dispatcher.applies.clear();

        ApplyOutcome again = cluster.apply("edge", 1, v1);

        assertThat(again.applied()).isEmpty();
        assertThat(strings(again.unchanged())).isEqualTo(keys(v1));
        assertThat(again.pruned()).isEmpty();
        assertThat(get(HTTP_ROUTES, "edge.charges").getMetadata().getResourceVersion())
                .isEqualTo(before);
        assertThat(dispatcher.applies).as("applies sent").isEmpty();
    }

    @Test
    void aNewRevision_updatesWhatChanged_andPrunesExactlyWhatItNoLongerRenders() {
        EnvoyGatewayCluster cluster = cluster(DriftMode.CORRECT);
        cluster.apply("edge", 1, render("edge", 1, CHARGES, REFUNDS));

        EdgeRoute slowerCharges = route("charges", "/payments/v2/charges", 30_000);
        RenderedResources v2 = render("edge", 2, slowerCharges);
        ApplyOutcome outcome = cluster.apply("edge", 2, v2);

        assertThat(strings(outcome.applied())).isEqualTo(keys(v2));
        assertThat(strings(outcome.pruned()))
                .containsExactly(
                        "EnvoyExtensionPolicy/meshguard/edge.refunds",
                        "HTTPRoute/meshguard/edge.refunds",
                        "SecurityPolicy/meshguard/edge.refunds");
        assertThat(live(HTTP_ROUTES)).containsExactly("meshguard/edge.charges");
        GenericKubernetesResource charges = get(HTTP_ROUTES, "edge.charges");
        assertThat(charges.getMetadata().getLabels()).containsEntry("meshguard.io/revision", "2");
        assertThat(charges.get("spec", "rules", 0, "timeouts", "request").toString())
                .isEqualTo("30s");

        // a rollback to the first revision's configuration arrives as revision 3: the removed route comes back
        RenderedResources v3 = render("edge", 3, CHARGES, REFUNDS);
        ApplyOutcome rollback = cluster.apply("edge", 3, v3);
        assertThat(rollback.pruned()).isEmpty();
        assertThat(live(HTTP_ROUTES)).containsExactly("meshguard/edge.charges", "meshguard/edge.refunds");
        assertThat(get(HTTP_ROUTES, "edge.charges")
                        .get("spec", "rules", 0, "timeouts", "request")
                        .toString())
                .isEqualTo("15s");
    }

    @Test
    void pruneAndWithdrawal_neverTouchAnObjectWithoutTheGroupsLabels() {
        EnvoyGatewayCluster cluster = cluster(DriftMode.CORRECT);
        cluster.apply("edge", 1, render("edge", 1, CHARGES));
        cluster.apply("internal", 4, render("internal", 4, REFUNDS));
        // the platform team's own route, one claiming meshguard without a group, one of the group without managed-by
        foreignRoute("team-route", Map.of("team", "platform"));
        foreignRoute("orphan", Map.of("app.kubernetes.io/managed-by", "meshguard"));
        foreignRoute("lookalike", Map.of("meshguard.io/gateway-group", "edge"));

        ApplyOutcome outcome = cluster.apply("edge", 2, render("edge", 2));
        assertThat(strings(outcome.pruned()))
                .containsExactly(
                        "Backend/meshguard/dlp-profile.cards.edge",
                        "EnvoyExtensionPolicy/meshguard/edge.charges",
                        "HTTPRoute/meshguard/edge.charges",
                        "SecurityPolicy/meshguard/edge.charges");

        List<ResourceKey> withdrawn = cluster.withdraw("edge");
        assertThat(strings(withdrawn)).containsExactly("ClientTrafficPolicy/meshguard/edge", "Gateway/meshguard/edge");
        assertThat(live(HTTP_ROUTES))
                .containsExactly(
                        "meshguard/internal.refunds",
                        "meshguard/lookalike",
                        "meshguard/orphan",
                        "meshguard/team-route");
        assertThat(live(GATEWAYS)).containsExactly("meshguard/internal");
        assertThat(cluster.withdraw("edge")).isEmpty();
    }

    @Test
    void apply_writesEveryPolicy_beforeTheRouteItGuards_andPruneDeletesTheRoute_beforeItsPolicies() {
        EnvoyGatewayCluster cluster = cluster(DriftMode.CORRECT);
        cluster.apply("edge", 1, render("edge", 1, CHARGES));
        List<String> created = List.copyOf(dispatcher.writes);
        int route = indexOf(created, "APPLY", "httproutes/edge.charges");
        // a route Envoy Gateway serves before its policies land is open: no Check, no DLP
        assertThat(indexOf(created, "APPLY", "securitypolicies/edge.charges")).isLessThan(route);
        assertThat(indexOf(created, "APPLY", "envoyextensionpolicies/edge.charges"))
                .isLessThan(route);

        dispatcher.writes.clear();
        cluster.apply("edge", 2, render("edge", 2));
        List<String> deleted = List.copyOf(dispatcher.writes);
        int gone = indexOf(deleted, "DELETE", "httproutes/edge.charges");
        assertThat(gone).isLessThan(indexOf(deleted, "DELETE", "securitypolicies/edge.charges"));
        assertThat(gone).isLessThan(indexOf(deleted, "DELETE", "envoyextensionpolicies/edge.charges"));
    }

    private static int indexOf(List<String> writes, String method, String suffix) {
        for (int i = 0; i < writes.size(); i++) {
            if (writes.get(i).startsWith(method + " ") && writes.get(i).endsWith("/" + suffix)) {
                return i;
            }
        }
        throw new AssertionError(method + " " + suffix + " not among " + writes);
    }

    @Test
    void apply_aLiveObjectOfTheSameNameThatIsNotTheGroups_isRefusedAndLeftAsItWas() {
        // the platform team's HTTPRoute happens to carry the name the render gives the group's route
        foreignRoute("edge.charges", Map.of("team", "platform"));
        EnvoyGatewayCluster cluster = cluster(DriftMode.CORRECT);

        ApplyOutcome outcome = cluster.apply("edge", 1, render("edge", 1, CHARGES));

        assertThat(outcome.refused()).singleElement().asString().startsWith("HTTPRoute/meshguard/edge.charges: ");
        assertThat(outcome.applied())
                .extracting(ResourceKey::toString)
                .doesNotContain("HTTPRoute/meshguard/edge.charges");
        GenericKubernetesResource theirs = get(HTTP_ROUTES, "edge.charges");
        assertThat(theirs.getMetadata().getLabels()).containsExactly(Map.entry("team", "platform"));
        assertThat(theirs.get("spec", "parentRefs", 0, "name").toString()).isEqualTo("team-gateway");
        // nor is it drift the zone corrects, nor pruned when the group stops rendering it
        assertThat(cluster.drift("edge", 1, render("edge", 1, CHARGES))).isEmpty();
        cluster.apply("edge", 2, render("edge", 2));
        assertThat(live(HTTP_ROUTES)).containsExactly("meshguard/edge.charges");
        assertThat(get(HTTP_ROUTES, "edge.charges").getMetadata().getLabels())
                .containsExactly(Map.entry("team", "platform"));
    }

    @Test
    void apply_aRouteWhosePolicyWasRefused_isNotApplied_soItIsNeverServedWithoutItsCheck() {
        GenericKubernetesResource theirs = new GenericKubernetesResource();
        theirs.setApiVersion("gateway.envoyproxy.io/v1alpha1");
        theirs.setKind("SecurityPolicy");
        theirs.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder()
                .withName("edge.charges")
                .withNamespace("meshguard")
                .withLabels(Map.of("team", "platform"))
                .build());
        client.genericKubernetesResources(SECURITY_POLICIES)
                .inNamespace("meshguard")
                .resource(theirs)
                .create();

        ApplyOutcome outcome = cluster(DriftMode.CORRECT).apply("edge", 1, render("edge", 1, CHARGES, REFUNDS));

        assertThat(outcome.refused())
                .anySatisfy(r -> assertThat(r).startsWith("SecurityPolicy/meshguard/edge.charges: "))
                .anySatisfy(r -> assertThat(r).startsWith("HTTPRoute/meshguard/edge.charges: "));
        assertThat(live(HTTP_ROUTES)).containsExactly("meshguard/edge.refunds");
    }

    @Test
    void prune_deletesOnlyObjectsTheZoneWrote_notOnesLabelledToLookLikeThem() {
        EnvoyGatewayCluster cluster = cluster(DriftMode.CORRECT);
        cluster.apply("edge", 1, render("edge", 1, CHARGES));
        // created by someone else with the group's labels: the zone's field manager never wrote it
        foreignRoute(
                "edge.payroll",
                Map.of("app.kubernetes.io/managed-by", "meshguard", "meshguard.io/gateway-group", "edge"));

        ApplyOutcome outcome = cluster.apply("edge", 2, render("edge", 2, CHARGES));

        assertThat(outcome.pruned()).isEmpty();
        assertThat(live(HTTP_ROUTES)).containsExactly("meshguard/edge.charges", "meshguard/edge.payroll");
        assertThat(strings(cluster.withdraw("edge"))).doesNotContain("HTTPRoute/meshguard/edge.payroll");
        assertThat(live(HTTP_ROUTES)).containsExactly("meshguard/edge.payroll");
    }

    @Test
    void aFieldAddedByHand_isDrift_andCorrectRemovesIt() {
        RenderedResources v1 = render("edge", 1, CHARGES);
        EnvoyGatewayCluster cluster = cluster(DriftMode.CORRECT);
        cluster.apply("edge", 1, v1);
        // kubectl edit: a mirror of every request the Check allowed, to a Service of the editor's choice (one field
        // added, nothing the zone rendered changed)
        assertThat(get(HTTP_ROUTES, "edge.charges").get("spec", "rules", 0).toString())
                .doesNotContain("filters");
        client.genericKubernetesResources(HTTP_ROUTES)
                .inNamespace("meshguard")
                .withName("edge.charges")
                .patch(
                        new io.fabric8.kubernetes.client.dsl.base.PatchContext.Builder()
                                .withPatchType(io.fabric8.kubernetes.client.dsl.base.PatchType.JSON)
                                .withFieldManager("kubectl-edit")
                                .build(),
                        "[{\"op\": \"add\", \"path\": \"/spec/rules/0/filters\", \"value\": [{\"type\": \"RequestMirror\","
                                + " \"requestMirror\": {\"backendRef\": {\"name\": \"collector\", \"port\": 80}}}]}]");
        assertThat(get(HTTP_ROUTES, "edge.charges").get("spec", "rules", 0).toString())
                .contains("RequestMirror");

        List<Drift> drift = cluster.drift("edge", 1, v1);

        assertThat(drift).singleElement().satisfies(d -> {
            assertThat(d.key().toString()).isEqualTo("HTTPRoute/meshguard/edge.charges");
            assertThat(d.fields()).contains("/spec/rules");
            assertThat(d.corrected()).isTrue();
        });
        assertThat(get(HTTP_ROUTES, "edge.charges").get("spec", "rules", 0).toString())
                .doesNotContain("RequestMirror");
        assertThat(cluster.drift("edge", 1, v1)).isEmpty();
    }

    private static void foreignRoute(String name, Map<String, String> labels) {
        GenericKubernetesResource r = new GenericKubernetesResource();
        r.setApiVersion("gateway.networking.k8s.io/v1");
        r.setKind("HTTPRoute");
        r.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder()
                .withName(name)
                .withNamespace("meshguard")
                .withLabels(labels)
                .build());
        r.setAdditionalProperty("spec", Map.of("parentRefs", List.of(Map.of("name", "team-gateway"))));
        client.genericKubernetesResources(HTTP_ROUTES)
                .inNamespace("meshguard")
                .resource(r)
                .create();
    }

    @Test
    void statusWrittenAsEnvoyGatewayWould_isReadBack_perResourceAndRevision() {
        EnvoyGatewayCluster cluster = cluster(DriftMode.CORRECT);
        cluster.apply("edge", 7, render("edge", 7, CHARGES));
        writeStatus(
                GATEWAYS,
                "edge",
                Map.of("conditions", List.of(condition("Accepted", "True"), condition("Programmed", "True"))));
        writeStatus(
                HTTP_ROUTES,
                "edge.charges",
                Map.of(
                        "parents",
                        List.of(Map.of(
                                "parentRef",
                                Map.of("name", "edge"),
                                "controllerName",
                                "gateway.envoyproxy.io/gatewayclass-controller",
                                "conditions",
                                List.of(
                                        condition("Accepted", "True"),
                                        Map.of(
                                                "type",
                                                "ResolvedRefs",
                                                "status",
                                                "False",
                                                "reason",
                                                "RefNotPermitted",
                                                "message",
                                                "backendRef payments/bank-apps not permitted"))))));
        writeStatus(
                SECURITY_POLICIES,
                "edge.charges",
                Map.of(
                        "ancestors",
                        List.of(Map.of(
                                "ancestorRef",
                                Map.of("name", "edge", "kind", "Gateway"),
                                "conditions",
                                List.of(condition("Accepted", "True"))))));

        Map<String, GatewayResourceStatus> byKey = new java.util.TreeMap<>();
        cluster.status("edge").forEach(s -> byKey.put(s.key().toString(), s));

        assertThat(byKey.get("Gateway/meshguard/edge").summary())
                .containsExactly(Map.entry("Accepted", "True"), Map.entry("Programmed", "True"));
        GatewayResourceStatus route = byKey.get("HTTPRoute/meshguard/edge.charges");
        assertThat(route.revision()).isEqualTo(7);
        assertThat(route.summary()).containsExactly(Map.entry("Accepted", "True"), Map.entry("ResolvedRefs", "False"));
        assertThat(route.firstProblem().orElseThrow().reason()).isEqualTo("RefNotPermitted");
        assertThat(route.firstProblem().orElseThrow().parent()).isEqualTo("Gateway/edge");
        assertThat(byKey.get("SecurityPolicy/meshguard/edge.charges").summary())
                .containsExactly(Map.entry("Accepted", "True"));
        // no controller wrote the extension policy's status yet
        assertThat(byKey.get("EnvoyExtensionPolicy/meshguard/edge.charges").summary())
                .containsExactly(Map.entry("Accepted", "Unknown"));
    }

    private static Map<String, Object> condition(String type, String status) {
        return Map.of("type", type, "status", status, "reason", type, "message", "");
    }

    /** What Envoy Gateway's controller does: the object's status, written through the status subresource. */
    private static void writeStatus(ResourceDefinitionContext kind, String name, Map<String, Object> status) {
        GenericKubernetesResource live = get(kind, name);
        live.setAdditionalProperty("status", status);
        client.genericKubernetesResources(kind)
                .inNamespace("meshguard")
                .resource(live)
                .updateStatus();
    }

    @Test
    void aHandEdit_underCorrect_isReportedAndReapplied_andADeletedResourceIsRecreated() {
        RenderedResources v1 = render("edge", 1, CHARGES, REFUNDS);
        EnvoyGatewayCluster cluster = cluster(DriftMode.CORRECT);
        cluster.apply("edge", 1, v1);
        handEdit();
        client.genericKubernetesResources(SECURITY_POLICIES)
                .inNamespace("meshguard")
                .withName("edge.refunds")
                .delete();

        List<Drift> drift = cluster.drift("edge", 1, v1);

        assertThat(drift).hasSize(2);
        Drift edited = drift.stream()
                .filter(d -> d.key().kind().equals("HTTPRoute"))
                .findFirst()
                .orElseThrow();
        assertThat(edited.key().toString()).isEqualTo("HTTPRoute/meshguard/edge.charges");
        assertThat(edited.fields()).containsExactly("/spec/rules/0/timeouts/request");
        assertThat(edited.corrected()).isTrue();
        Drift deleted = drift.stream()
                .filter(d -> d.key().kind().equals("SecurityPolicy"))
                .findFirst()
                .orElseThrow();
        assertThat(deleted.missing()).isTrue();
        assertThat(deleted.corrected()).isTrue();
        assertThat(get(HTTP_ROUTES, "edge.charges")
                        .get("spec", "rules", 0, "timeouts", "request")
                        .toString())
                .isEqualTo("15s");
        assertThat(get(SECURITY_POLICIES, "edge.refunds")).isNotNull();
        assertThat(cluster.drift("edge", 1, v1)).isEmpty();
    }

    @Test
    void aHandEdit_underReport_isReportedAndLeftAsFound_untilTheModeCorrectsIt() {
        RenderedResources v1 = render("edge", 1, CHARGES);
        EnvoyGatewayCluster cluster = cluster(DriftMode.REPORT);
        cluster.apply("edge", 1, v1);
        // under report the zone never forces: a field another manager took is a conflict, reported (a real server)
        assertThat(dispatcher.applies).isNotEmpty().noneMatch(q -> q.contains("force=true"));
        handEdit();

        List<Drift> first = cluster.drift("edge", 1, v1);
        List<Drift> second = cluster.drift("edge", 1, v1);

        assertThat(first).hasSize(1);
        assertThat(first.getFirst().corrected()).isFalse();
        assertThat(first.getFirst().fields()).containsExactly("/spec/rules/0/timeouts/request");
        assertThat(second).isEqualTo(first); // reported on every pass while it lasts
        assertThat(get(HTTP_ROUTES, "edge.charges")
                        .get("spec", "rules", 0, "timeouts", "request")
                        .toString())
                .isEqualTo("1s");
        assertThat(cluster(DriftMode.CORRECT).drift("edge", 1, v1).getFirst().corrected())
                .isTrue();
        assertThat(cluster.drift("edge", 1, v1)).isEmpty();
    }

    @Test
    void fieldsTheServerAdds_defaultsAndStatus_areNotDrift() {
        RenderedResources v1 = render("edge", 1, CHARGES);
        EnvoyGatewayCluster cluster = cluster(DriftMode.REPORT);
        cluster.apply("edge", 1, v1);
        // what an API server adds on its own: defaults inside the spec, and controllers' status
        GenericKubernetesResource route = get(HTTP_ROUTES, "edge.charges");
        @SuppressWarnings("unchecked")
        Map<String, Object> ref = (Map<String, Object>) route.get("spec", "rules", 0, "backendRefs", 0);
        Map<String, Object> defaulted = new java.util.LinkedHashMap<>(ref);
        defaulted.putIfAbsent("weight", 1);
        defaulted.putIfAbsent("group", "");
        List<Object> refs = new ArrayList<>(List.of(defaulted));
        @SuppressWarnings("unchecked")
        Map<String, Object> rule = (Map<String, Object>) route.get("spec", "rules", 0);
        rule.put("backendRefs", refs);
        client.genericKubernetesResources(HTTP_ROUTES)
                .inNamespace("meshguard")
                .resource(route)
                .update();
        writeStatus(GATEWAYS, "edge", Map.of("conditions", List.of(condition("Accepted", "True"))));

        assertThat(cluster.drift("edge", 1, v1)).isEmpty();
    }

    /** {@code kubectl edit httproute edge.charges}: the request timeout cut to one second. */
    private static void handEdit() {
        GenericKubernetesResource route = get(HTTP_ROUTES, "edge.charges");
        @SuppressWarnings("unchecked")
        Map<String, Object> timeouts = (Map<String, Object>) route.get("spec", "rules", 0, "timeouts");
        timeouts.put("request", "1s");
        client.genericKubernetesResources(HTTP_ROUTES)
                .inNamespace("meshguard")
                .resource(route)
                .update();
    }
}
