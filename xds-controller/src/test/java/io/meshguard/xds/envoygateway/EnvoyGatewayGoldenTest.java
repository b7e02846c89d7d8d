package io.meshguard.xds.envoygateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.InvalidProtocolBufferException;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExtProcPerRoute;
import io.meshguard.catalogmodel.AuthMode;
import io.meshguard.catalogmodel.Environment;
import io.meshguard.catalogmodel.Product;
import io.meshguard.catalogmodel.PublishHost;
import io.meshguard.catalogmodel.ServedProduct;
import io.meshguard.contract.RouteContract;
import io.meshguard.envoygateway.render.EnvoyGatewayPublishCheck;
import io.meshguard.envoygateway.render.EnvoyGatewayRenderer;
import io.meshguard.envoygateway.render.EnvoyGatewayTemplate;
import io.meshguard.envoygateway.render.RenderedResources;
import io.meshguard.xds.XdsController;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayGroup;
import io.meshguard.xds.model.GatewayYaml;
import io.meshguard.xds.product.ProductRoutes;
import io.meshguard.xds.snapshot.EnvoyNames;
import io.meshguard.xds.snapshot.FilterTargets;
import io.meshguard.xds.snapshot.SnapshotBuilder;
import io.meshguard.xds.validate.ConfigValidator;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The shipped configurations rendered for a cluster whose gateway template is of kind {@code envoy-gateway}: compared
 * with golden files reviewed by hand ({@code -Dgolden.update=true} rewrites them), every resource valid for the bundled
 * Gateway API (both channels) and Envoy Gateway CRDs with their CEL rules, and every route handing extauthz exactly the
 * context extensions the meshguard-served gateway hands it for the same route. The demo's render is checked in
 * devstack (DemoEnvoyGatewayGoldenTest), where its configuration lives.
 */
class EnvoyGatewayGoldenTest {

    private static EnvoyGatewayPublishCheck check;

    @BeforeAll
    static void loadSchemas() {
        check = new EnvoyGatewayPublishCheck(EnvoyGatewayTemplate.defaults());
    }

    static Stream<Arguments> configs() throws Exception {
        return Stream.of(
                Arguments.of("sample", XdsController.sampleConfig()),
                Arguments.of("lifecycle", resource("/golden/lifecycle-config.yaml")),
                Arguments.of("products-journey", productsJourney()));
    }

    private static GatewayConfig resource(String name) throws IOException {
        try (InputStream in = EnvoyGatewayGoldenTest.class.getResourceAsStream(name)) {
            return GatewayYaml.read(name, new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    /**
     * The products journey of the cluster in a box (deploy-tests ProductJourneyTest): group {@code edge} (prod, eu), the
     * provider's {@code statements} API on {@code api.bank.example} routed to the bank's app, and the product
     * {@code statements} (operation {@code monthly}: GET /monthly) published for API keys to prod on cluster central.
     */
    static GatewayConfig productsJourney() {
        GatewayConfig draft = GatewayYaml.read("products-journey", """
                groups:
                  - {name: edge, environment: prod, region: eu, listener_port: 8080}
                upstreams:
                  - {name: acme-statements, protocol: http1, endpoints: [{address: api.payments.svc.cluster.local, port: 8080}]}
                apis:
                  - name: statements
                    base_path: /statements
                    default_version: v1
                    hostnames: [api.bank.example]
                    versions: [{version: v1, status: active}]
                routes:
                  - {name: statements-monthly, group: edge, api: statements, version: v1, match: {path_prefix: /monthly},
                     destinations: [{upstream: acme-statements, weight: 100}], authz_profile: products, dlp_profile: default}
                """);
        ProductRoutes.Compiled compiled = ProductRoutes.compile(
                draft,
                new TreeMap<>(Map.of(
                        "edge",
                        List.of(new ServedProduct(
                                "statements-prod-central",
                                "statements",
                                "edge",
                                PublishHost.of("statements", Environment.PROD, "eu", "bank.example"),
                                AuthMode.APIKEY,
                                List.of(new Product.Operation("monthly", "statements", "GET", "/monthly")))))));
        assertThat(compiled.problems()).isEmpty();
        return compiled.config();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void everyGroup_rendersValidResources_matchingTheGoldenFile(String name, GatewayConfig config) throws Exception {
        assertThat(new ConfigValidator().validate(config).errors()).isEmpty();
        StringBuilder all = new StringBuilder();
        int routes = 0;
        for (GatewayGroup g : config.groups()) {
            // render() refuses (throws) on any schema or CEL problem, in either Gateway API channel
            RenderedResources rendered = check.render(EnvoyGatewayRevisions.of(config, g.name(), 7));
            assertThat(rendered.problems(check.validators())).isEmpty();
            routes += (int) kinds(rendered, "HTTPRoute");
            assertThat(kinds(rendered, "SecurityPolicy")).isEqualTo(kinds(rendered, "HTTPRoute"));
            assertThat(kinds(rendered, "EnvoyExtensionPolicy")).isEqualTo(kinds(rendered, "HTTPRoute"));
            for (ObjectNode r : rendered.resources()) {
                JsonNode labels = r.path("metadata").path("labels");
                assertThat(labels.path(EnvoyGatewayRenderer.LABEL_REVISION).asText())
                        .isEqualTo("7");
                assertThat(labels.path(EnvoyGatewayRenderer.LABEL_GROUP).asText())
                        .isNotEmpty();
            }
            all.append(rendered.yaml());
        }
        assertThat(routes).isPositive();
        Path golden = Path.of("src/test/resources/golden/envoy-gateway/" + name + ".yaml");
        if (Boolean.getBoolean("golden.update") || !Files.exists(golden)) {
            Files.createDirectories(golden.getParent());
            Files.writeString(golden, all.toString());
        }
        assertThat(all.toString()).isEqualTo(Files.readString(golden));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void extauthz_seesTheSameContract_fromEnvoyGatewayAsFromMeshguardsGateway(String name, GatewayConfig config)
            throws Exception {
        for (GatewayGroup g : config.groups()) {
            Map<String, Map<String, String>> served = servedContexts(config, g.name());
            RenderedResources rendered = check.render(EnvoyGatewayRevisions.of(config, g.name(), 1));
            Map<String, String> routeOfPolicy = new TreeMap<>();
            for (ObjectNode r : rendered.resources()) {
                if (r.path("kind").asText().equals("HTTPRoute")) {
                    routeOfPolicy.put(
                            r.path("metadata").path("name").asText(),
                            r.path("metadata")
                                    .path("annotations")
                                    .path(EnvoyGatewayRenderer.ANNOTATION_ROUTE)
                                    .asText());
                }
            }
            Map<String, Map<String, String>> rendered2 = new TreeMap<>();
            for (ObjectNode r : rendered.resources()) {
                if (r.path("kind").asText().equals("SecurityPolicy")) {
                    String route = routeOfPolicy.get(r.path("spec")
                            .path("targetRefs")
                            .get(0)
                            .path("name")
                            .asText());
                    Map<String, String> ext = new TreeMap<>();
                    r.path("spec")
                            .path("extAuth")
                            .path("contextExtensions")
                            .forEach(e -> ext.put(
                                    e.path("name").asText(), e.path("value").asText()));
                    rendered2.put(route, ext);
                    assertThat(r.path("spec").path("extAuth").path("failOpen").asBoolean(true))
                            .isFalse();
                }
            }
            assertThat(rendered2).as(name + " / " + g.name()).isEqualTo(served);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void dlp_getsTheRoutesProfile_fromEnvoyGatewaysAuthority_asFromMeshguardsMetadata(String name, GatewayConfig config)
            throws Exception {
        for (GatewayGroup g : config.groups()) {
            Map<String, String> served = servedProfiles(config, g.name());
            RenderedResources rendered = check.render(EnvoyGatewayRevisions.of(config, g.name(), 1));
            Map<String, String> routeOfHttpRoute = new TreeMap<>();
            Map<String, JsonNode> backends = new TreeMap<>();
            for (ObjectNode r : rendered.resources()) {
                switch (r.path("kind").asText()) {
                    case "HTTPRoute" ->
                        routeOfHttpRoute.put(
                                r.path("metadata").path("name").asText(),
                                r.path("metadata")
                                        .path("annotations")
                                        .path(EnvoyGatewayRenderer.ANNOTATION_ROUTE)
                                        .asText());
                    case "Backend" ->
                        backends.put(r.path("metadata").path("name").asText(), r.path("spec"));
                    default -> {}
                }
            }
            Map<String, String> fromAuthority = new TreeMap<>();
            for (ObjectNode r : rendered.resources()) {
                if (!r.path("kind").asText().equals("EnvoyExtensionPolicy")) {
                    continue;
                }
                String route = routeOfHttpRoute.get(
                        r.path("spec").path("targetRefs").get(0).path("name").asText());
                JsonNode ref = r.path("spec")
                        .path("extProc")
                        .get(0)
                        .path("backendRefs")
                        .get(0);
                // what Envoy Gateway v1.9.0 makes the stream's :authority (buildExtProc): name.namespace[:port]
                String authority = ref.path("name").asText() + "."
                        + ref.path("namespace")
                                .asText(r.path("metadata").path("namespace").asText())
                        + (ref.has("port") ? ":" + ref.path("port").asInt() : "");
                RouteContract.DlpAuthority.profileOf(authority).ifPresent(p -> fromAuthority.put(route, p));
                if (ref.path("kind").asText().equals("Backend")) {
                    // the Backend carrying the profile is rendered and reaches the DLP Service over h2c
                    JsonNode b = backends.get(ref.path("name").asText());
                    assertThat(b == null)
                            .as("Backend " + ref.path("name").asText() + " rendered")
                            .isFalse();
                    assertThat(b.path("endpoints")
                                    .get(0)
                                    .path("fqdn")
                                    .path("hostname")
                                    .asText())
                            .isEqualTo("meshguard-dlp.meshguard.svc.cluster.local");
                    assertThat(b.path("appProtocols").get(0).asText()).isEqualTo("gateway.envoyproxy.io/h2c");
                }
            }
            assertThat(served)
                    .as(name + " / " + g.name() + ": some route names a profile")
                    .isNotEmpty();
            assertThat(fromAuthority).as(name + " / " + g.name()).isEqualTo(served);
        }
    }

    /** The DLP profile of every route of the Envoy route table that names one (ext_proc initial metadata). */
    private static Map<String, String> servedProfiles(GatewayConfig config, String group)
            throws InvalidProtocolBufferException {
        Map<String, String> out = new TreeMap<>();
        for (RouteConfiguration rc :
                new SnapshotBuilder(FilterTargets.DEFAULTS).build(config, group).routes()) {
            for (VirtualHost vh : rc.getVirtualHostsList()) {
                for (var route : vh.getRoutesList()) {
                    var any = route.getTypedPerFilterConfigMap().get(EnvoyNames.EXT_PROC_FILTER);
                    if (any == null || !any.is(ExtProcPerRoute.class)) {
                        continue;
                    }
                    Map<String, String> md = new TreeMap<>();
                    any.unpack(ExtProcPerRoute.class)
                            .getOverrides()
                            .getGrpcInitialMetadataList()
                            .forEach(h -> md.put(h.getKey(), h.getValue()));
                    String profile = md.get(RouteContract.DlpMetadata.DLP_PROFILE);
                    if (profile != null) {
                        out.put(md.get(RouteContract.DlpMetadata.GATEWAY_ROUTE), profile);
                    }
                }
            }
        }
        return out;
    }

    /** The context extensions of every checked route of the Envoy route table, by gateway route name. */
    private static Map<String, Map<String, String>> servedContexts(GatewayConfig config, String group)
            throws InvalidProtocolBufferException {
        Map<String, Map<String, String>> out = new TreeMap<>();
        for (RouteConfiguration rc :
                new SnapshotBuilder(FilterTargets.DEFAULTS).build(config, group).routes()) {
            if (rc.getName().equals(EnvoyNames.PROXYLESS_ROUTES)) {
                continue; // the proxyless table carries no per-route check settings
            }
            for (VirtualHost vh : rc.getVirtualHostsList()) {
                for (var route : vh.getRoutesList()) {
                    var any = route.getTypedPerFilterConfigMap().get("envoy.filters.http.ext_authz");
                    if (any == null || !any.is(ExtAuthzPerRoute.class)) {
                        continue;
                    }
                    ExtAuthzPerRoute per = any.unpack(ExtAuthzPerRoute.class);
                    if (per.hasCheckSettings()) {
                        Map<String, String> ext =
                                new TreeMap<>(per.getCheckSettings().getContextExtensionsMap());
                        out.put(ext.get("meshguard.gateway_route"), ext);
                    }
                }
            }
        }
        return out;
    }

    private static long kinds(RenderedResources r, String kind) {
        return r.resources().stream()
                .filter(o -> o.path("kind").asText().equals(kind))
                .count();
    }
}
