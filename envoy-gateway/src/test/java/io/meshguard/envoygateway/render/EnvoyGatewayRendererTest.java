package io.meshguard.envoygateway.render;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.meshguard.envoygateway.render.GatewayRevision.Backend;
import io.meshguard.envoygateway.render.GatewayRevision.Destination;
import io.meshguard.envoygateway.render.GatewayRevision.EdgeRoute;
import io.meshguard.envoygateway.render.GatewayRevision.Endpoint;
import io.meshguard.envoygateway.render.GatewayRevision.Header;
import io.meshguard.envoygateway.render.GatewayRevision.HeaderMatch;
import io.meshguard.envoygateway.render.GatewayRevision.PathMatch;
import io.meshguard.envoygateway.render.GatewayRevision.Retry;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What each part of a meshguard route becomes for Envoy Gateway, and the refusals: a route the renderer cannot express
 * and a resource the API server would refuse both stop the whole revision, with a message naming the route and why.
 */
class EnvoyGatewayRendererTest {

    private static EnvoyGatewayPublishCheck check;

    @BeforeAll
    static void schemas() {
        check = new EnvoyGatewayPublishCheck(EnvoyGatewayTemplate.defaults());
    }

    private static final Backend PAYMENTS =
            new Backend("payments", List.of(new Endpoint("payments.bank-apps.svc.cluster.local", 8080)), false, false);
    private static final Backend CANARY =
            new Backend("payments-canary", List.of(new Endpoint("10.1.0.7", 8080)), false, true);

    private static EdgeRoute route(String name, PathMatch path) {
        return EdgeRoutes.payments(name, path);
    }

    private static GatewayRevision revision(EdgeRoute... routes) {
        return new GatewayRevision("edge", 12, 8080, List.of(routes), List.of(PAYMENTS, CANARY));
    }

    private static List<ObjectNode> of(RenderedResources r, String kind) {
        return r.resources().stream()
                .filter(o -> o.path("kind").asText().equals(kind))
                .toList();
    }

    private static JsonNode rule(RenderedResources r) {
        return of(r, "HTTPRoute").getFirst().path("spec").path("rules").get(0);
    }

    @Test
    void prefix_becomesGatewayApiPathPrefix_whichIsSegmentAware_andExactStaysExact() {
        RenderedResources r = check.render(revision(
                route("list", new PathMatch(PathMatch.Kind.PREFIX, "/payments/v2/charges")),
                route("one", new PathMatch(PathMatch.Kind.EXACT, "/payments/v2/charges/latest")),
                route("regex", new PathMatch(PathMatch.Kind.REGEX, "/payments/v2/charges/[^/]+"))));
        List<String> types = of(r, "HTTPRoute").stream()
                .map(h -> h.path("spec")
                        .path("rules")
                        .get(0)
                        .path("matches")
                        .get(0)
                        .path("path")
                        .path("type")
                        .asText())
                .toList();
        assertThat(types).containsExactly("PathPrefix", "Exact", "RegularExpression");
    }

    @Test
    void behindLoadBalancers_theClientIsTakenFromXForwardedFor_asOnMeshguardsGateway_andTheCrdsAcceptIt() {
        EdgeRoute list = route("list", new PathMatch(PathMatch.Kind.PREFIX, "/payments/v2/charges"));
        RenderedResources behindTwo = new EnvoyGatewayPublishCheck(
                        EnvoyGatewayTemplate.defaults().withXffNumTrustedHops(2))
                .render(revision(list));

        JsonNode detection =
                of(behindTwo, "ClientTrafficPolicy").getFirst().path("spec").path("clientIPDetection");
        assertThat(detection.path("xForwardedFor").path("numTrustedHops").asInt())
                .isEqualTo(2);
        // the CRD's rule: exactly one way of detecting the client
        assertThat(detection.size()).isEqualTo(1);
        // no load balancer (the default): the peer is the client, as Envoy Gateway's default has it
        assertThat(of(check.render(revision(list)), "ClientTrafficPolicy")
                        .getFirst()
                        .path("spec")
                        .has("clientIPDetection"))
                .isFalse();
        assertThatThrownBy(() -> EnvoyGatewayTemplate.defaults().withXffNumTrustedHops(-1))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void gateway_getsMeshguardsListenerHygiene_escapedSlashesAndUnderscoreHeadersRefused_slashesMerged() {
        RenderedResources r =
                check.render(revision(route("list", new PathMatch(PathMatch.Kind.PREFIX, "/payments/v2/charges"))));
        ObjectNode gateway = of(r, "Gateway").getFirst();
        assertThat(of(r, "ClientTrafficPolicy")).singleElement().satisfies(p -> {
            JsonNode target = p.path("spec").path("targetRefs").get(0);
            assertThat(target.path("kind").asText()).isEqualTo("Gateway");
            assertThat(target.path("name").asText())
                    .isEqualTo(gateway.path("metadata").path("name").asText());
            // Envoy Gateway's default would unescape %2F and redirect; meshguard's listener refuses it (400)
            assertThat(p.path("spec").path("path").path("escapedSlashesAction").asText())
                    .isEqualTo("RejectRequest");
            assertThat(p.path("spec").path("path").path("disableMergeSlashes").asBoolean(true))
                    .isFalse();
            assertThat(p.path("spec")
                            .path("headers")
                            .path("withUnderscoresAction")
                            .asText())
                    .isEqualTo("RejectRequest");
            assertThat(p.path("metadata")
                            .path("labels")
                            .path(EnvoyGatewayRenderer.LABEL_GROUP)
                            .asText())
                    .isEqualTo("edge");
        });
        // applied after the Gateway it targets, before the routes
        List<String> kinds =
                r.resources().stream().map(o -> o.path("kind").asText()).toList();
        assertThat(kinds.indexOf("ClientTrafficPolicy")).isEqualTo(kinds.indexOf("Gateway") + 1);
    }

    @Test
    void methods_becomeOneMatchEach_andHeaderPrefixAndPresence_becomeFullRegexes() {
        EdgeRoute r = EdgeRoutes.payments("write", new PathMatch(PathMatch.Kind.PREFIX, "/payments"), p -> {
            p.methods = List.of("POST", "GET");
            p.headers = List.of(
                    new HeaderMatch("x-tier", Optional.of("gold"), Optional.empty(), Optional.empty()),
                    new HeaderMatch("x-app", Optional.empty(), Optional.of("bank.v1"), Optional.empty()),
                    new HeaderMatch("x-trace", Optional.empty(), Optional.empty(), Optional.empty()));
        });
        JsonNode matches = rule(check.render(revision(r))).path("matches");
        assertThat(matches).hasSize(2);
        assertThat(matches.get(0).path("method").asText()).isEqualTo("GET");
        assertThat(matches.get(1).path("method").asText()).isEqualTo("POST");
        JsonNode headers = matches.get(0).path("headers");
        assertThat(headers.get(0).path("type").asText()).isEqualTo("Exact");
        assertThat(headers.get(1).path("value").asText()).isEqualTo("bank\\.v1.*");
        assertThat(headers.get(2).path("value").asText()).isEqualTo(".*");
    }

    @Test
    void weights_timeouts_headers_cors_andRetries_mapToTheirResources() {
        EdgeRoute r = EdgeRoutes.payments("quotes", new PathMatch(PathMatch.Kind.PREFIX, "/quotes"), p -> {
            p.destinations = List.of(new Destination("payments", 90), new Destination("payments-canary", 10));
            p.timeoutMs = 90_061_250;
            p.retry = Optional.of(new Retry(2, "5xx,reset,connect-failure", Optional.of(2_000L), 25, 250));
            p.requestHeadersToSet = List.of(new Header("x-api-version", "2"));
            p.requestHeadersToRemove = List.of("x-debug");
            p.responseHeadersToSet = List.of(new Header("cache-control", "no-store"));
            p.cors = Optional.of(new GatewayRevision.Cors(
                    List.of("https://app.bank.example", "https://*.preview.bank.example"),
                    List.of("GET", "POST"),
                    List.of("authorization", "content-type"),
                    List.of("x-request-id"),
                    false,
                    600));
            p.productPublish = Optional.of("payments-prod-eu");
        });
        RenderedResources rendered = check.render(revision(r));
        JsonNode rule = rule(rendered);
        assertThat(rule.path("backendRefs").get(0).path("name").asText()).isEqualTo("payments");
        assertThat(rule.path("backendRefs").get(0).path("namespace").asText()).isEqualTo("bank-apps");
        assertThat(rule.path("backendRefs").get(1).path("kind").asText()).isEqualTo("Backend");
        assertThat(rule.path("backendRefs").get(1).path("weight").asInt()).isEqualTo(10);
        assertThat(rule.path("timeouts").path("request").asText()).isEqualTo("25h1m1s250ms");
        assertThat(rule.path("filters").findValuesAsText("type"))
                .containsExactly("RequestHeaderModifier", "ResponseHeaderModifier", "CORS");
        ObjectNode retry = of(rendered, "BackendTrafficPolicy").getFirst();
        assertThat(retry.path("spec").path("retry").path("numRetries").asInt()).isEqualTo(2);
        assertThat(retry.path("spec")
                        .path("retry")
                        .path("retryOn")
                        .path("triggers")
                        .toString())
                .isEqualTo("[\"5xx\",\"reset\",\"connect-failure\"]");
        assertThat(of(rendered, "Backend")
                        .getFirst()
                        .path("spec")
                        .path("appProtocols")
                        .get(0)
                        .asText())
                .isEqualTo("gateway.envoyproxy.io/h2c");
        // the Service's namespace owner grants the reference, never meshguard: no ReferenceGrant in bank-apps
        assertThat(of(rendered, "ReferenceGrant")).isEmpty();
        for (ObjectNode o : rendered.resources()) {
            assertThat(o.path("metadata")
                            .path("labels")
                            .path(EnvoyGatewayRenderer.LABEL_REVISION)
                            .asText())
                    .isEqualTo("12");
        }
        for (String kind : List.of("HTTPRoute", "SecurityPolicy", "EnvoyExtensionPolicy", "BackendTrafficPolicy")) {
            assertThat(of(rendered, kind)
                            .getFirst()
                            .path("metadata")
                            .path("labels")
                            .path(EnvoyGatewayRenderer.LABEL_PUBLISH)
                            .asText())
                    .as(kind)
                    .isEqualTo("payments-prod-eu");
        }
    }

    @Test
    void extAuth_carriesTheRouteContract_failClosed_andExtProc_streamsFullDuplex_failClosed() {
        RenderedResources r = check.render(revision(route("list", new PathMatch(PathMatch.Kind.PREFIX, "/payments"))));
        JsonNode extAuth = of(r, "SecurityPolicy").getFirst().path("spec").path("extAuth");
        assertThat(extAuth.path("failOpen").asBoolean(true)).isFalse();
        Map<String, String> ext = new LinkedHashMap<>();
        extAuth.path("contextExtensions")
                .forEach(e -> ext.put(e.path("name").asText(), e.path("value").asText()));
        assertThat(ext).containsEntry("meshguard.authz_profile", "payments-read");
        JsonNode proc = of(r, "EnvoyExtensionPolicy")
                .getFirst()
                .path("spec")
                .path("extProc")
                .get(0);
        assertThat(proc.path("failOpen").asBoolean(true)).isFalse();
        assertThat(proc.path("processingMode").path("request").path("body").asText())
                .isEqualTo("FullDuplexStreamed");
        assertThat(proc.path("processingMode").path("response").path("body").asText())
                .isEqualTo("FullDuplexStreamed");
    }

    @Test
    void dlpProfile_travelsInTheExtProcBackendsName_oneBackendPerProfile_andARouteWithoutOne_usesTheService() {
        EdgeRoute list = route("list", new PathMatch(PathMatch.Kind.PREFIX, "/payments"));
        EdgeRoute get = route("get", new PathMatch(PathMatch.Kind.EXACT, "/payments/one"));
        EdgeRoute plain = EdgeRoutes.payments("plain", new PathMatch(PathMatch.Kind.PREFIX, "/plain"), p -> {
            p.authzContext = list.authzContext();
            p.dlpMetadata = Map.of();
        });
        RenderedResources r = check.render(revision(list, get, plain));
        Map<String, JsonNode> refs = new LinkedHashMap<>();
        of(r, "EnvoyExtensionPolicy")
                .forEach(p -> refs.put(
                        p.path("spec").path("targetRefs").get(0).path("name").asText(),
                        p.path("spec")
                                .path("extProc")
                                .get(0)
                                .path("backendRefs")
                                .get(0)));
        assertThat(refs.get("edge.list").path("kind").asText()).isEqualTo("Backend");
        assertThat(refs.get("edge.list").path("name").asText()).isEqualTo("dlp-profile.cards.edge");
        assertThat(refs.get("edge.get")).isEqualTo(refs.get("edge.list"));
        assertThat(refs.get("edge.plain").path("name").asText()).isEqualTo("meshguard-dlp");
        assertThat(refs.get("edge.plain").path("port").asInt()).isEqualTo(9002);
        assertThat(of(r, "Backend").stream()
                        .map(b -> b.path("metadata").path("name").asText())
                        .filter(n -> n.startsWith("dlp-profile."))
                        .toList())
                .as("one Backend per profile, shared by the group's routes")
                .containsExactly("dlp-profile.cards.edge");
    }

    @Test
    void aDlpProfileNoKubernetesNameCanCarry_refusesTheRevision_neverFallsBackToHostAndPath() {
        EdgeRoute underscored = EdgeRoutes.payments(
                "list",
                new PathMatch(PathMatch.Kind.PREFIX, "/payments"),
                p -> p.dlpMetadata = Map.of("x-meshguard-dlp-profile", "pci_strict"));
        assertThatThrownBy(() -> check.render(revision(underscored)))
                .isInstanceOf(EnvoyGatewayPublishCheck.Refused.class)
                .hasMessageContaining("route list: DLP profile 'pci_strict' cannot be named on Envoy Gateway");
    }

    @Test
    void aResourceTheApiServerWouldRefuse_refusesTheWholeRevision_namingItAndTheRule() {
        List<Header> seventeen =
                IntStream.range(0, 17).mapToObj(i -> new Header("x-h" + i, "v")).toList();
        EdgeRoute r = EdgeRoutes.payments(
                "many-headers",
                new PathMatch(PathMatch.Kind.PREFIX, "/payments"),
                p -> p.requestHeadersToSet = seventeen);
        assertThatThrownBy(() -> check.render(revision(r)))
                .isInstanceOf(EnvoyGatewayPublishCheck.Refused.class)
                .hasMessageContaining("gateway group edge")
                .hasMessageContaining("HTTPRoute/edge.many-headers")
                .hasMessageContaining("/spec/rules/0/filters/0/requestHeaderModifier/set")
                .hasMessageContaining("more than 16");
    }

    @Test
    void aRetryConditionEnvoyGatewayLacks_andATlsBackend_areRefused_neverDropped() {
        EdgeRoute r = EdgeRoutes.payments(
                "retrying",
                new PathMatch(PathMatch.Kind.PREFIX, "/payments"),
                p -> p.retry = Optional.of(new Retry(1, "5xx,retriable-headers", Optional.empty(), 25, 250)));
        assertThatThrownBy(() -> check.render(revision(r)))
                .isInstanceOf(EnvoyGatewayPublishCheck.Refused.class)
                .hasMessageContaining("route retrying: retry condition 'retriable-headers'");
        GatewayRevision tls = new GatewayRevision(
                "edge",
                1,
                8080,
                List.of(route("list", new PathMatch(PathMatch.Kind.PREFIX, "/payments"))),
                List.of(new Backend("payments", List.of(new Endpoint("payments.example.com", 443)), true, false)));
        assertThatThrownBy(() -> check.render(tls))
                .hasMessageContaining("backend payments: TLS upstreams are not rendered")
                .hasMessageContaining("route list: backend payments is not rendered");
    }

    @Test
    void meshguardNames_foldToDistinctKubernetesNames() {
        List<String> names = new ArrayList<>();
        for (String raw : List.of("payments.v2.transfers", "payments_v2_transfers", "Payments-V2", "x".repeat(80))) {
            String n = KubernetesNames.name(raw);
            assertThat(n).matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?").hasSizeLessThanOrEqualTo(63);
            names.add(n);
        }
        assertThat(names).doesNotHaveDuplicates();
        assertThat(KubernetesNames.name("payments-list")).isEqualTo("payments-list");
    }

    @Test
    void aTenantBackend_inAnotherNamespace_getsNoReferenceGrantFromMeshguard_onlyItsOwnServersDo() {
        // a tenant's upstream naming vault.vault.svc made meshguard write a grant in vault admitting every HTTPRoute
        // of its namespace; the grant is the vault namespace owner's consent to give
        Backend vault =
                new Backend("secrets", List.of(new Endpoint("vault.vault.svc.cluster.local", 8200)), false, false);
        EdgeRoute r = EdgeRoutes.payments("secrets", new PathMatch(PathMatch.Kind.PREFIX, "/v1/secret"), p -> {
            p.hostnames = List.of("secrets.prod.eu.bank.example");
            p.destinations = List.of(new Destination("secrets", 100));
            p.dlpMetadata = Map.of();
        });
        RenderedResources rendered = check.render(new GatewayRevision("edge", 1, 8080, List.of(r), List.of(vault)));
        assertThat(of(rendered, "ReferenceGrant")).isEmpty();
        assertThat(rule(rendered).path("backendRefs").get(0).path("namespace").asText())
                .isEqualTo("vault");

        // meshguard's own servers, placed by the operator's template outside its namespace, are granted
        EnvoyGatewayTemplate d = EnvoyGatewayTemplate.defaults();
        EnvoyGatewayTemplate apart = new EnvoyGatewayTemplate(
                d.namespace(),
                d.gatewayClassName(),
                new EnvoyGatewayTemplate.ServiceRef("meshguard-extauthz", "meshguard-auth", 9001),
                d.dlp(),
                d.filterTimeout(),
                0);
        RenderedResources granted = new EnvoyGatewayPublishCheck(apart)
                .render(new GatewayRevision("edge", 1, 8080, List.of(r), List.of(vault)));
        assertThat(of(granted, "ReferenceGrant")).singleElement().satisfies(g -> {
            assertThat(g.path("metadata").path("namespace").asText()).isEqualTo("meshguard-auth");
            assertThat(g.path("spec").path("to").findValuesAsText("name")).containsExactly("meshguard-extauthz");
            assertThat(g.path("spec").path("from").findValuesAsText("kind")).doesNotContain("HTTPRoute");
        });
    }

    @Test
    void objectNames_ofTwoGroups_neverMeet_whateverTheirRoutesAreCalled() {
        // egw + x-charges and egw-x + charges were both HTTPRoute egw-x-charges: one took the other's place at apply
        RenderedResources egw = check.render(new GatewayRevision(
                "egw",
                1,
                8080,
                List.of(route("x-charges", new PathMatch(PathMatch.Kind.PREFIX, "/payments"))),
                List.of(PAYMENTS)));
        RenderedResources egwX = check.render(new GatewayRevision(
                "egw-x",
                1,
                8080,
                List.of(route("charges", new PathMatch(PathMatch.Kind.PREFIX, "/payments"))),
                List.of(PAYMENTS)));
        assertThat(of(egw, "HTTPRoute").getFirst().path("metadata").path("name").asText())
                .isNotEqualTo(of(egwX, "HTTPRoute")
                        .getFirst()
                        .path("metadata")
                        .path("name")
                        .asText());
        assertThat(RenderedResources.duplicateNames(Map.of("egw", egw, "egw-x", egwX)))
                .isEmpty();

        // names too long to spell out are folded; two tenants' 60-character routes in one group stay apart
        String acme = "acme-" + "statements-".repeat(5) + "eur";
        String globex = "globex-" + "statements-".repeat(5) + "eur";
        assertThat(KubernetesNames.memberName("edge", acme)).isNotEqualTo(KubernetesNames.memberName("edge", globex));
        for (String n : List.of(
                KubernetesNames.memberName("edge", acme),
                KubernetesNames.memberName("x".repeat(63), "y".repeat(63)),
                KubernetesNames.memberName("edge", "charges"))) {
            assertThat(n)
                    .matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
                    .hasSizeLessThanOrEqualTo(253);
        }
    }

    @Test
    void twoRendersHoldingOneName_areNamedWithTheirGroups() {
        RenderedResources a = check.render(revision(route("list", new PathMatch(PathMatch.Kind.PREFIX, "/payments"))));
        List<RenderedResources.Duplicate> twice = RenderedResources.duplicateNames(Map.of("edge", a, "edge-copy", a));
        assertThat(twice).isNotEmpty();
        assertThat(twice.getFirst().groups()).containsExactly("edge", "edge-copy");
        assertThat(twice.getFirst().toString()).contains("is rendered 2 times");
    }

    @Test
    void durations_areGatewayApiDurations() {
        assertThat(EnvoyGatewayRenderer.duration(0)).isEqualTo("0s");
        assertThat(EnvoyGatewayRenderer.duration(15_000)).isEqualTo("15s");
        assertThat(EnvoyGatewayRenderer.duration(250)).isEqualTo("250ms");
        assertThat(EnvoyGatewayRenderer.duration(3_600_000L * 30)).isEqualTo("30h");
    }
}
