package io.meshguard.xds.snapshot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.access_loggers.grpc.v3.HttpGrpcAccessLogConfig;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.meshguard.xds.model.ConfigJson;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayYaml;
import io.meshguard.xds.validate.ConfigValidator;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The resources meant for a real Envoy, checked three ways: parsed strictly back through Envoy's protobuf types (an
 * unknown field or a wrong type fails), compared with a golden JSON file reviewed by hand
 * ({@code -Dgolden.update=true} rewrites it), and asserted on the points that matter.
 */
class EnvoyResourcesGoldenTest {
    private static final Path GOLDEN = Path.of("src/test/resources/golden/lifecycle-resources.json");

    private static GatewayConfig config() throws IOException {
        try (InputStream in = EnvoyResourcesGoldenTest.class.getResourceAsStream("/golden/lifecycle-config.yaml")) {
            return GatewayYaml.read("lifecycle-config.yaml", new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    private static GroupResources build() throws IOException {
        GatewayConfig config = config();
        assertThat(new ConfigValidator().validate(config).errors()).isEmpty();
        return new SnapshotBuilder(FilterTargets.DEFAULTS).build(config, "edge");
    }

    @Test
    void everyResource_roundTripsStrictlyThroughEnvoyProtos() throws Exception {
        GroupResources r = build();
        for (Listener l : r.listeners()) {
            assertThat(roundTrip(l, Listener.newBuilder())).isEqualTo(l);
        }
        for (RouteConfiguration rc : r.routes()) {
            assertThat(roundTrip(rc, RouteConfiguration.newBuilder())).isEqualTo(rc);
        }
        for (Cluster c : r.clusters()) {
            assertThat(roundTrip(c, Cluster.newBuilder())).isEqualTo(c);
        }
        for (ClusterLoadAssignment e : r.endpoints()) {
            assertThat(roundTrip(e, ClusterLoadAssignment.newBuilder())).isEqualTo(e);
        }
    }

    @Test
    void strictParser_rejectsAnUnknownField() {
        assertThatThrownBy(() ->
                        EnvoyJson.parse("{\"name\":\"x\",\"per_connection_buffer_limit\":1}", Listener.newBuilder()))
                .isInstanceOf(InvalidProtocolBufferException.class);
    }

    @Test
    void rendered_matchesTheGoldenFile() throws Exception {
        String rendered =
                ConfigJson.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(EnvoyJson.render(build(), 0))
                        + "\n";
        if (Boolean.getBoolean("golden.update") || !Files.exists(GOLDEN)) {
            Files.writeString(GOLDEN, rendered);
        }
        assertThat(rendered).isEqualTo(Files.readString(GOLDEN));
    }

    @Test
    void lifecycle_deprecatedHeaders_sunset410_retired404() throws Exception {
        VirtualHost vh = envoyRoutes().getVirtualHosts(0);
        assertThat(vh.getDomainsList())
                .containsExactly("orders.prod.eu-west.bank.example", "orders.prod.eu-west.bank.example:*");

        Route list = route(vh, "orders.v3.list");
        Map<String, String> headers = headers(list);
        assertThat(headers)
                .containsEntry(
                        "deprecation",
                        "@" + java.time.Instant.parse("2026-06-01T00:00:00Z").getEpochSecond());
        assertThat(headers).containsEntry("sunset", "Tue, 01 Jun 2027 00:00:00 GMT");
        assertThat(headers).containsEntry("link", "</orders/v4>; rel=\"successor-version\"");
        assertThat(list.getRoute().getWeightedClusters().getClustersList())
                .extracting(w -> w.getName() + "=" + w.getWeight().getValue())
                .containsExactly("orders-stable=90", "orders-canary=10");

        Route sunset = route(vh, "orders.v2.closed");
        assertThat(sunset.getMatch().getPrefix()).isEqualTo("/orders/v2/");
        assertThat(sunset.getDirectResponse().getStatus()).isEqualTo(410);
        assertThat(sunset.getDirectResponse().getBody().getInlineString())
                .contains("\"successor\":\"/orders/v3\"")
                .contains("api_version_sunset");
        assertThat(headers(sunset)).containsEntry("content-type", "application/json");

        Route retired = route(vh, "orders.v1.closed-root");
        assertThat(retired.getMatch().getPath()).isEqualTo("/orders/v1");
        assertThat(retired.getDirectResponse().getStatus()).isEqualTo(404);
    }

    @Test
    void versionedRoutes_comeBeforeTheDefaultVersionsUnversionedOnes() throws Exception {
        List<String> names = envoyRoutes().getVirtualHosts(0).getRoutesList().stream()
                .map(Route::getName)
                .toList();
        assertThat(names.indexOf("orders.v3.default.list")).isGreaterThan(names.indexOf("orders.v4.events"));
        assertThat(names).containsSubsequence("orders.v3.list", "orders.v3.item");
        Route events = route(envoyRoutes().getVirtualHosts(0), "orders.v4.events");
        assertThat(events.getRoute().getTimeout().getSeconds()).isZero();
        assertThat(events.getRoute().getIdleTimeout().getSeconds()).isEqualTo(300);
    }

    @Test
    void listener_runsCorsThenAuthzThenDlpThenRouter_failClosed_fullDuplexStreaming() throws Exception {
        HttpConnectionManager hcm = BuiltResources.connectionManager(build(), "http-8443");
        assertThat(hcm.getHttpFiltersList())
                .extracting(f -> f.getName())
                .containsExactly(
                        "envoy.filters.http.cors",
                        "envoy.filters.http.ext_authz",
                        "envoy.filters.http.ext_proc",
                        "envoy.filters.http.router");
        ExternalProcessor dlp = hcm.getHttpFilters(2).getTypedConfig().unpack(ExternalProcessor.class);
        assertThat(dlp.getFailureModeAllow()).isFalse();
        assertThat(dlp.getProcessingMode().getRequestBodyMode())
                .isEqualTo(ProcessingMode.BodySendMode.FULL_DUPLEX_STREAMED);
        assertThat(dlp.getProcessingMode().getResponseTrailerMode()).isEqualTo(ProcessingMode.HeaderSendMode.SEND);
        assertThat(hcm.getAccessLog(0).getName()).isEqualTo("envoy.access_loggers.http_grpc");
    }

    @Test
    void accessLog_tagsEachEntryWithTheRoutesApiVersion_andLogsTheIdentityExtAuthzInjects() throws Exception {
        HttpConnectionManager hcm = BuiltResources.connectionManager(build(), "http-8443");
        HttpGrpcAccessLogConfig als = hcm.getAccessLog(0).getTypedConfig().unpack(HttpGrpcAccessLogConfig.class);
        assertThat(als.getAdditionalRequestHeadersToLogList()).contains("x-tenant-id", "x-client-id", "x-user-id");
        assertThat(als.getAdditionalResponseHeadersToLogList()).contains("content-type");
        assertThat(als.getCommonConfig().getCustomTagsList())
                .allSatisfy(t -> {
                    assertThat(t.getMetadata().getKind().hasRoute()).isTrue();
                    assertThat(t.getMetadata().getMetadataKey().getKey()).isEqualTo("meshguard");
                    assertThat(t.getTag())
                            .isEqualTo("meshguard."
                                    + t.getMetadata()
                                            .getMetadataKey()
                                            .getPath(0)
                                            .getKey());
                })
                .extracting(t -> t.getTag())
                .containsExactlyInAnyOrder(
                        "meshguard.api",
                        "meshguard.api_version",
                        "meshguard.gateway_route",
                        "meshguard.lifecycle",
                        "meshguard.sunset",
                        "meshguard.authz");

        VirtualHost vh = envoyRoutes().getVirtualHosts(0);
        assertThat(usage(route(vh, "orders.v3.list")))
                .containsEntry("api", "orders")
                .containsEntry("api_version", "v3")
                .containsEntry("gateway_route", "list")
                .containsEntry("lifecycle", "deprecated")
                .containsEntry("sunset", "2027-06-01T00:00:00Z")
                .containsEntry("authz", "checked");
        assertThat(usage(route(vh, "orders.v3.default.list")))
                .containsEntry("api_version", "v3")
                .containsEntry("gateway_route", "list");
        assertThat(usage(route(vh, "orders.v4.events")))
                .containsEntry("lifecycle", "active")
                .doesNotContainKey("sunset");
        // a canned 410 reaches no ext_authz: its callers' identity headers are the client's own
        assertThat(usage(route(vh, "orders.v2.closed")))
                .containsEntry("lifecycle", "sunset")
                .containsEntry("gateway_route", "_closed")
                .containsEntry("authz", "none");
        // every API route is tagged; the catch-all 404 belongs to no API (its access-log entry counts as unrouted)
        assertThat(vh.getRoutesList().stream().filter(r -> !r.getName().endsWith(".not-found")))
                .allSatisfy(r -> assertThat(usage(r)).containsKeys("api", "api_version"));
        Route notFound = vh.getRoutes(vh.getRoutesCount() - 1);
        assertThat(notFound.getMatch().getPrefix()).isEqualTo("/");
        assertThat(notFound.getDirectResponse().getStatus()).isEqualTo(404);
        assertThat(notFound.getTypedPerFilterConfigMap())
                .containsKeys(EnvoyNames.EXT_AUTHZ_FILTER, EnvoyNames.EXT_PROC_FILTER);
    }

    private static Map<String, String> usage(Route r) {
        Map<String, String> m = new java.util.TreeMap<>();
        r.getMetadata()
                .getFilterMetadataOrThrow("meshguard")
                .getFieldsMap()
                .forEach((k, v) -> m.put(k, v.getStringValue()));
        return m;
    }

    private static RouteConfiguration envoyRoutes() throws IOException {
        return build().routes().stream()
                .filter(r -> r.getName().equals("http-8443"))
                .findFirst()
                .orElseThrow();
    }

    private static Route route(VirtualHost vh, String name) {
        return vh.getRoutesList().stream()
                .filter(r -> r.getName().equals(name))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no route " + name));
    }

    private static Map<String, String> headers(Route r) {
        Map<String, String> m = new java.util.HashMap<>();
        r.getResponseHeadersToAddList()
                .forEach(h -> m.put(h.getHeader().getKey(), h.getHeader().getValue()));
        return m;
    }

    /** Envoy JSON (with {@code @type}) → strict parse into an {@code Any} → unpacked into the resource type. */
    private static <M extends Message> M roundTrip(M message, Message.Builder unused) throws Exception {
        com.google.protobuf.Any any = EnvoyJson.parse(EnvoyJson.print(message), com.google.protobuf.Any.newBuilder())
                .build();
        @SuppressWarnings("unchecked")
        Class<M> type = (Class<M>) message.getClass();
        return any.unpack(type);
    }
}
