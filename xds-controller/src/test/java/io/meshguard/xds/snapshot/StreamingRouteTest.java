package io.meshguard.xds.snapshot;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthz;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExtProcPerRoute;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayYaml;
import io.meshguard.xds.validate.ConfigValidator;
import io.meshguard.xds.validate.Problem;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Long-lived responses (SSE from LLM backends): what clients and intermediaries need on the response, nothing in
 * the emitted chain that buffers it, {@code last-event-id} untouched on the way in, and timeouts that let a stream
 * live while it talks and end it when it stalls.
 */
class StreamingRouteTest {
    private static GatewayConfig config(String extraRoutes) {
        return GatewayYaml.read("sse.yaml", """
                groups:
                  - name: edge
                    environment: dev
                    hostnames: [ai.bank.example]
                    cors: {allowed_origins: [https://app.dev.bank.example]}
                upstreams: [{name: llm, endpoints: [{address: llm.ai.svc.cluster.local, port: 8080}]}]
                apis: [{name: ai, base_path: /ai, default_version: v1, versions: [{version: v1}]}]
                routes:
                  - {name: chat, group: edge, api: ai, version: v1, streaming: true, match: {path_prefix: /chat},
                     destinations: [{upstream: llm, weight: 100}]}
                  - {name: models, group: edge, api: ai, version: v1, match: {path_prefix: /models},
                     destinations: [{upstream: llm, weight: 100}]}
                  - {name: batch, group: edge, api: ai, version: v1, timeout_ms: 0, match: {path_prefix: /batch},
                     destinations: [{upstream: llm, weight: 100}]}
                  - {name: slow, group: edge, api: ai, version: v1, streaming: true, idle_timeout_ms: 60000,
                     match: {path_prefix: /slow}, destinations: [{upstream: llm, weight: 100}]}
                %s""".formatted(extraRoutes.indent(2)));
    }

    private static GroupResources build() {
        GatewayConfig c = config("");
        assertThat(new ConfigValidator().validate(c).errors()).isEmpty();
        return new SnapshotBuilder(FilterTargets.DEFAULTS).build(c, "edge");
    }

    /** The route configuration of listener http-8080, checked to read back unchanged through Envoy's own types. */
    static RouteConfiguration envoyRoutes(GroupResources r) throws Exception {
        RouteConfiguration rc = BuiltResources.routeConfiguration(r, "http-8080");
        assertThat(EnvoyJson.parse(EnvoyJson.print(rc), Any.newBuilder())
                        .build()
                        .unpack(RouteConfiguration.class))
                .isEqualTo(rc);
        return rc;
    }

    private static HttpConnectionManager hcm(GroupResources r) throws Exception {
        return BuiltResources.connectionManager(r, "http-8080");
    }

    @Test
    void streamingRoute_tellsCachesAndProxiesNotToStoreOrBuffer_overwritingTheUpstream() throws Exception {
        Route chat = route(envoyRoutes(build()), "ai.v1.chat");
        Map<String, HeaderValueOption> added = new java.util.HashMap<>();
        chat.getResponseHeadersToAddList().forEach(h -> added.put(h.getHeader().getKey(), h));
        assertThat(added.get("cache-control").getHeader().getValue()).isEqualTo("no-cache");
        assertThat(added.get("x-accel-buffering").getHeader().getValue()).isEqualTo("no");
        assertThat(List.of(added.get("cache-control"), added.get("x-accel-buffering")))
                .allSatisfy(h -> assertThat(h.getAppendAction())
                        .isEqualTo(HeaderValueOption.HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD));
        assertThat(route(envoyRoutes(build()), "ai.v1.models").getResponseHeadersToAddList())
                .extracting(h -> h.getHeader().getKey())
                .doesNotContain("x-accel-buffering");
    }

    @Test
    void streamingRoute_thatForbidsStoringItself_keepsItsOwnCacheControl() throws Exception {
        GatewayConfig c = config("""
                - {name: strict, group: edge, api: ai, version: v1, streaming: true, match: {path_prefix: /strict},
                   response_headers_to_add: [{name: cache-control, value: "no-store, private"}],
                   destinations: [{upstream: llm, weight: 100}]}
                """);
        assertThat(new ConfigValidator().validate(c).errors()).isEmpty();
        Route strict = route(envoyRoutes(new SnapshotBuilder(FilterTargets.DEFAULTS).build(c, "edge")), "ai.v1.strict");
        assertThat(strict.getResponseHeadersToAddList())
                .extracting(h -> h.getHeader().getKey() + ": " + h.getHeader().getValue())
                .contains("cache-control: no-store, private", "x-accel-buffering: no")
                .doesNotContain("cache-control: no-cache");
    }

    @Test
    void contentType_isNeverSetOrRemovedByTheGateway() throws Exception {
        RouteConfiguration rc = envoyRoutes(build());
        List<String> touched = new ArrayList<>(rc.getResponseHeadersToRemoveList());
        rc.getResponseHeadersToAddList().forEach(h -> touched.add(h.getHeader().getKey()));
        for (VirtualHost vh : rc.getVirtualHostsList()) {
            touched.addAll(vh.getResponseHeadersToRemoveList());
            vh.getResponseHeadersToAddList()
                    .forEach(h -> touched.add(h.getHeader().getKey()));
            for (Route r : vh.getRoutesList()) {
                if (r.hasRoute()) {
                    touched.addAll(r.getResponseHeadersToRemoveList());
                    r.getResponseHeadersToAddList()
                            .forEach(h -> touched.add(h.getHeader().getKey()));
                }
            }
        }
        assertThat(touched).doesNotContain("content-type");
    }

    @Test
    void nothingInTheEmittedChainBuffersAResponse() throws Exception {
        GroupResources r = build();
        HttpConnectionManager hcm = hcm(r);
        // every HTTP filter we emit, each known not to buffer: no buffer, compressor or transcoder filter
        assertThat(hcm.getHttpFiltersList())
                .extracting(HttpFilter::getName)
                .containsExactly(
                        "envoy.filters.http.cors",
                        "envoy.filters.http.ext_authz",
                        "envoy.filters.http.ext_proc",
                        "envoy.filters.http.router");
        ExternalProcessor dlp = hcm.getHttpFilters(2).getTypedConfig().unpack(ExternalProcessor.class);
        assertThat(dlp.getProcessingMode().getResponseBodyMode())
                .isEqualTo(ProcessingMode.BodySendMode.FULL_DUPLEX_STREAMED);
        assertThat(dlp.getProcessingMode().getRequestBodyMode())
                .isEqualTo(ProcessingMode.BodySendMode.FULL_DUPLEX_STREAMED);
        // ext_authz buffers the request body only when asked to
        assertThat(hcm.getHttpFilters(1).getTypedConfig().unpack(ExtAuthz.class).hasWithRequestBody())
                .isFalse();
        for (VirtualHost vh : envoyRoutes(r).getVirtualHostsList()) {
            for (Route route : vh.getRoutesList()) {
                Any perRoute = route.getTypedPerFilterConfigMap().get("envoy.filters.http.ext_proc");
                if (perRoute != null) {
                    assertThat(perRoute.unpack(ExtProcPerRoute.class)
                                    .getOverrides()
                                    .hasProcessingMode())
                            .as(route.getName())
                            .isFalse();
                }
            }
        }
    }

    @Test
    void lastEventId_reachesTheUpstreamUntouched_andBrowsersMaySendIt() throws Exception {
        RouteConfiguration rc = envoyRoutes(build());
        List<String> changed = new ArrayList<>(rc.getRequestHeadersToRemoveList());
        rc.getRequestHeadersToAddList().forEach(h -> changed.add(h.getHeader().getKey()));
        for (VirtualHost vh : rc.getVirtualHostsList()) {
            changed.addAll(vh.getRequestHeadersToRemoveList());
            vh.getRequestHeadersToAddList()
                    .forEach(h -> changed.add(h.getHeader().getKey()));
            for (Route r : vh.getRoutesList()) {
                changed.addAll(r.getRequestHeadersToRemoveList());
                r.getRequestHeadersToAddList()
                        .forEach(h -> changed.add(h.getHeader().getKey()));
            }
            if (vh.getName().equals(EnvoyNames.READINESS_HOST) || vh.getName().equals(EnvoyNames.UNSERVED_HOST)) {
                continue; // the kubelet's probe, and the 404 of a host no route serves: no browser's API
            }
            CorsPolicy p =
                    vh.getTypedPerFilterConfigOrThrow("envoy.filters.http.cors").unpack(CorsPolicy.class);
            assertThat(Set.of(p.getAllowHeaders().split(","))).contains("last-event-id");
        }
        assertThat(changed).doesNotContain("last-event-id");
        List<String> refused = new ConfigValidator()
                .validate(config("""
                - {name: strip, group: edge, api: ai, version: v1, streaming: true, match: {path_prefix: /strip},
                   request_headers_to_remove: [last-event-id], response_headers_to_add: [{name: cache-control,
                   value: max-age=60}, {name: content-type, value: text/plain}],
                   destinations: [{upstream: llm, weight: 100}]}
                """)).errors().stream().map(Problem::path).toList();
        assertThat(refused)
                .containsExactlyInAnyOrder(
                        "routes[edge/strip].request_headers_to_remove[last-event-id]",
                        "routes[edge/strip].response_headers_to_add[cache-control]",
                        "routes[edge/strip].response_headers_to_add[content-type]");
    }

    @Test
    void timeouts_streamLivesWhileItTalks_requestsAreBoundedEvenWhenAFilterStalls() throws Exception {
        RouteConfiguration rc = envoyRoutes(build());
        Route chat = route(rc, "ai.v1.chat");
        assertThat(chat.getRoute().getTimeout().getSeconds()).isZero();
        assertThat(chat.getRoute().getIdleTimeout().getSeconds()).isEqualTo(300);
        assertThat(chat.getRoute().hasMaxStreamDuration()).isFalse();
        assertThat(route(rc, "ai.v1.slow").getRoute().getIdleTimeout().getSeconds())
                .isEqualTo(60);
        Route models = route(rc, "ai.v1.models");
        assertThat(models.getRoute().getTimeout().getSeconds()).isEqualTo(15);
        // the idle timer is armed when the route is chosen, before ext_proc runs: it bounds a stalled DLP phase
        assertThat(models.getRoute().getIdleTimeout().getSeconds()).isEqualTo(15);
        Route batch = route(rc, "ai.v1.batch");
        assertThat(batch.getRoute().getTimeout().getSeconds()).isZero();
        assertThat(batch.getRoute().hasIdleTimeout()).isFalse();
        // nothing on the connection manager cuts a stream by age
        assertThat(hcm(build()).getCommonHttpProtocolOptions().hasMaxStreamDuration())
                .isFalse();
    }

    private static Route route(RouteConfiguration rc, String name) {
        return rc.getVirtualHostsList().stream()
                .flatMap(vh -> vh.getRoutesList().stream())
                .filter(r -> r.getName().equals(name))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no route " + name));
    }
}
