package io.meshguard.xds.snapshot;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExtProcPerRoute;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayYaml;
import io.meshguard.xds.validate.ConfigValidator;
import io.meshguard.xds.validate.Problem;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * CORS as the gateway emits it: Envoy's CORS filter ahead of ext_authz (a preflight carries no credential and is
 * answered by {@code cors_filter.cc} with a local reply), policies in {@code typed_per_filter_config} (the route-level
 * {@code cors} fields are deprecated), and the validator's rules for origins per environment.
 */
class CorsTest {
    private static final String APIS = """
            upstreams: [{name: backend, endpoints: [{address: 10.0.0.9, port: 8080}]}]
            apis:
              - {name: accounts, base_path: /accounts, default_version: v1, versions: [{version: v1}]}
              - {name: chat, base_path: /chat, default_version: v1, versions: [{version: v1}]}
            routes:
              - {name: list, group: edge, api: accounts, version: v1,
                 match: {path_prefix: /, methods: [GET]}, destinations: [{upstream: backend, weight: 100}]}
              - {name: stream, group: edge, api: chat, version: v1, streaming: true,
                 match: {path_prefix: /events, methods: [GET]}, destinations: [{upstream: backend, weight: 100}]}
            """;

    private static GatewayConfig config(String environment, String cors) {
        return GatewayYaml.read("cors.yaml", """
                groups:
                  - name: edge
                    environment: %s
                    hostnames: [api.bank.example]
                %s
                %s""".formatted(environment, cors.indent(4), APIS));
    }

    private static RouteConfiguration envoyRoutes(GatewayConfig config) throws Exception {
        assertThat(new ConfigValidator().validate(config).errors()).isEmpty();
        // strictly through Envoy's own types: CorsPolicy in typed_per_filter_config must parse as Envoy parses it
        return StreamingRouteTest.envoyRoutes(new SnapshotBuilder(FilterTargets.DEFAULTS).build(config, "edge"));
    }

    private static final String PROD_CORS = """
            cors:
              allowed_origins: [https://app.bank.example, https://backoffice.bank.example]
              allow_credentials: true
              max_age_seconds: 300
            api_cors:
              chat:
                allowed_origins: [https://agent.bank.example]
                allowed_methods: [GET]
                exposed_headers: [x-request-id]
            """;

    @Test
    void groupPolicy_isOnTheVirtualHost_withEveryFieldSet() throws Exception {
        VirtualHost vh = envoyRoutes(config("prod", PROD_CORS)).getVirtualHosts(0);
        CorsPolicy p =
                vh.getTypedPerFilterConfigOrThrow("envoy.filters.http.cors").unpack(CorsPolicy.class);
        assertThat(p.getAllowOriginStringMatchList())
                .extracting(m -> m.getExact())
                .containsExactly("https://app.bank.example", "https://backoffice.bank.example");
        assertThat(p.getAllowMethods()).isEqualTo("GET,HEAD,POST,PUT,PATCH,DELETE");
        assertThat(p.getAllowHeaders().split(","))
                .contains("authorization", "x-tenant-id", "last-event-id", "x-agent-id", "content-type");
        assertThat(p.getExposeHeaders().split(",")).contains("x-request-id", "deprecation", "sunset", "link");
        assertThat(p.getAllowCredentials().getValue()).isTrue();
        assertThat(p.getMaxAge()).isEqualTo("300");
        // a preflight from a foreign origin is answered by Envoy, never forwarded to ext_authz or the upstream
        assertThat(p.getForwardNotMatchingPreflights().getValue()).isFalse();
    }

    @Test
    void apiPolicy_isOnEachOfItsRoutes_andReplacesTheGroupsWhole() throws Exception {
        VirtualHost vh = envoyRoutes(config("prod", PROD_CORS)).getVirtualHosts(0);
        Route stream = route(vh, "chat.v1.stream");
        CorsPolicy p =
                stream.getTypedPerFilterConfigOrThrow("envoy.filters.http.cors").unpack(CorsPolicy.class);
        assertThat(p.getAllowOriginStringMatchList())
                .extracting(m -> m.getExact())
                .containsExactly("https://agent.bank.example");
        assertThat(p.getAllowMethods()).isEqualTo("GET");
        assertThat(p.getExposeHeaders()).isEqualTo("x-request-id");
        // every field set, so nothing falls back to the virtual host's policy (cors_filter.cc takes the most
        // specific policy that sets a field)
        assertThat(p.hasAllowCredentials()).isTrue();
        assertThat(p.getAllowCredentials().getValue()).isFalse();
        assertThat(p.getMaxAge()).isEqualTo("600");
        assertThat(route(vh, "accounts.v1.list").getTypedPerFilterConfigMap())
                .doesNotContainKey("envoy.filters.http.cors");
    }

    @Test
    void preflights_matchBeforeAnyRoute_whateverMethodsTheRoutesTake_andNeverReachAuthzOrDlp() throws Exception {
        VirtualHost vh = envoyRoutes(config("prod", PROD_CORS)).getVirtualHosts(0);
        assertThat(vh.getRoutesList().subList(0, 2))
                .extracting(Route::getName)
                .containsExactly("accounts.cors-preflight", "chat.cors-preflight");
        Route preflight = route(vh, "accounts.cors-preflight");
        assertThat(preflight.getMatch().getPathSeparatedPrefix()).isEqualTo("/accounts");
        assertThat(preflight.getMatch().getHeadersList())
                .extracting(h -> h.getName() + "="
                        + (h.getPresentMatch() ? "present" : h.getStringMatch().getExact()))
                .containsExactly(":method=OPTIONS", "origin=present", "access-control-request-method=present");
        // a normal route, so the CORS filter runs on it; no endpoint behind it, were the filter ever missing
        assertThat(preflight.getRoute().getCluster()).isEqualTo(EnvoyNames.CLOSED_CLUSTER);
        assertThat(preflight
                        .getTypedPerFilterConfigOrThrow("envoy.filters.http.ext_authz")
                        .unpack(ExtAuthzPerRoute.class)
                        .getDisabled())
                .isTrue();
        assertThat(preflight
                        .getTypedPerFilterConfigOrThrow("envoy.filters.http.ext_proc")
                        .unpack(ExtProcPerRoute.class)
                        .getDisabled())
                .isTrue();
        assertThat(route(vh, "chat.cors-preflight").getTypedPerFilterConfigMap())
                .containsKey("envoy.filters.http.cors");
    }

    @Test
    void corsFilter_runsBeforeExtAuthz() throws Exception {
        GroupResources r = new SnapshotBuilder(FilterTargets.DEFAULTS).build(config("prod", PROD_CORS), "edge");
        HttpConnectionManager hcm = BuiltResources.connectionManager(r, "http-8080");
        List<String> names =
                hcm.getHttpFiltersList().stream().map(f -> f.getName()).toList();
        assertThat(names.indexOf("envoy.filters.http.cors")).isZero();
        assertThat(names.indexOf("envoy.filters.http.cors")).isLessThan(names.indexOf("envoy.filters.http.ext_authz"));
    }

    @Test
    void noRouteCarryingACorsPolicy_isADirectResponse_whichTheCorsFilterWouldSkip() throws Exception {
        // cors_filter.cc returns Continue for a route without a route entry, and a direct response has none
        GatewayConfig config = GatewayYaml.read("cors.yaml", """
                groups:
                  - name: edge
                    environment: test
                    hostnames: [api.bank.example]
                    cors: {allowed_origins: [https://app.bank.example, 'https://*.dev.bank.example'], allow_credentials: true}
                upstreams: [{name: backend, endpoints: [{address: 10.0.0.9, port: 8080}]}]
                apis:
                  - name: accounts
                    base_path: /accounts
                    default_version: v2
                    versions:
                      - {version: v1, status: sunset, deprecated_at: 2025-01-01T00:00:00Z, sunset_at: 2026-01-01T00:00:00Z, successor: v2}
                      - {version: v2}
                routes:
                  - {name: list, group: edge, api: accounts, version: v2,
                     match: {path_prefix: /list}, destinations: [{upstream: backend, weight: 100}]}
                """);
        VirtualHost vh = envoyRoutes(config).getVirtualHosts(0);
        assertThat(vh.getRoutesList())
                .filteredOn(r -> r.getTypedPerFilterConfigMap().containsKey("envoy.filters.http.cors")
                        || r.getName().endsWith("cors-preflight"))
                .isNotEmpty()
                .noneMatch(Route::hasDirectResponse);

        // the sunset 410 carries the CORS headers itself, for each exact origin, after matching that origin
        Route closedForApp = route(vh, "accounts.v1.closed.cors-0");
        assertThat(closedForApp.getDirectResponse().getStatus()).isEqualTo(410);
        assertThat(closedForApp.getMatch().getHeadersList()).anySatisfy(h -> {
            assertThat(h.getName()).isEqualTo("origin");
            assertThat(h.getStringMatch().getExact()).isEqualTo("https://app.bank.example");
        });
        assertThat(closedForApp.getResponseHeadersToAddList())
                .extracting(h -> h.getHeader().getKey() + ": " + h.getHeader().getValue())
                .contains(
                        "access-control-allow-origin: https://app.bank.example",
                        "access-control-allow-credentials: true",
                        "vary: origin");
        // a suffix pattern: matched by its anchored regex, the matched origin written back by Envoy's %REQ(origin)%
        Route closedForSuffix = route(vh, "accounts.v1.closed.cors-1");
        assertThat(closedForSuffix.getMatch().getHeadersList())
                .anySatisfy(h -> assertThat(h.getStringMatch().getSafeRegex().getRegex())
                        .isEqualTo(CorsPolicies.originMatcher("https://*.dev.bank.example")
                                .getSafeRegex()
                                .getRegex()));
        assertThat(closedForSuffix.getResponseHeadersToAddList())
                .extracting(h -> h.getHeader().getKey() + ": " + h.getHeader().getValue())
                .contains("access-control-allow-origin: %REQ(origin)%");
        assertThat(vh.getRoutesList())
                .extracting(Route::getName)
                .containsSubsequence("accounts.v1.closed.cors-0", "accounts.v1.closed.cors-1", "accounts.v1.closed");
        // the formatter only on canned answers: the emulator models it there (RouteTable.formatted)
        assertThat(vh.getRoutesList()).filteredOn(Route::hasRoute).allSatisfy(r -> assertThat(
                        r.getResponseHeadersToAddList())
                .noneMatch(h -> h.getHeader().getValue().contains("%")));
    }

    @Test
    void responses_varyOnOrigin_becauseEnvoyReflectsIt() throws Exception {
        VirtualHost vh = envoyRoutes(config("prod", PROD_CORS)).getVirtualHosts(0);
        HeaderValueOption vary = route(vh, "accounts.v1.list").getResponseHeadersToAddList().stream()
                .filter(h -> h.getHeader().getKey().equals("vary"))
                .findFirst()
                .orElseThrow();
        assertThat(vary.getHeader().getValue()).isEqualTo("origin");
        assertThat(vary.getAppendAction()).isEqualTo(HeaderValueOption.HeaderAppendAction.APPEND_IF_EXISTS_OR_ADD);
    }

    @Test
    void groupWithoutCors_emitsNoPolicyAndNoPreflightRoute() throws Exception {
        VirtualHost vh = envoyRoutes(config("prod", "")).getVirtualHosts(0);
        assertThat(vh.getTypedPerFilterConfigMap()).isEmpty();
        assertThat(vh.getRoutesList()).extracting(Route::getName).noneMatch(n -> n.endsWith("cors-preflight"));
    }

    @Test
    void suffixPattern_matchesSubdomainsOfThatSchemeOnly() {
        String regex = CorsPolicies.originMatcher("https://*.dev.bank.example")
                .getSafeRegex()
                .getRegex();
        com.google.re2j.Pattern p = com.google.re2j.Pattern.compile(regex);
        // Envoy's safe_regex StringMatcher matches the whole value
        assertThat(List.of("https://a.dev.bank.example", "https://a-b.c.dev.bank.example"))
                .allMatch(o -> p.matches(o));
        assertThat(List.of(
                        "http://a.dev.bank.example",
                        "https://dev.bank.example",
                        "https://evildev.bank.example",
                        "https://a.dev.bank.example.evil.example",
                        "https://a.dev.bank.example:8443",
                        "*",
                        "https://a.dev-bank.example",
                        "https://A.dev.bank.example"))
                .noneMatch(o -> p.matches(o));
    }

    @Test
    void production_refusesWildcardsSuffixesAndHttp() {
        assertThat(errors("prod", "cors: {allowed_origins: ['*']}")).anyMatch(m -> m.contains("production"));
        assertThat(errors("prod", "cors: {allowed_origins: ['https://*.bank.example']}"))
                .anyMatch(m -> m.contains("exact origins only"));
        assertThat(errors("production", "cors: {allowed_origins: ['http://app.bank.example']}"))
                .anyMatch(m -> m.contains("https origins only"));
    }

    @Test
    void anyOriginWithCredentials_isRefusedEverywhere_andWarnedWithout() {
        assertThat(errors("dev", "cors: {allowed_origins: ['*'], allow_credentials: true}"))
                .anyMatch(m -> m.contains("every web site could make credentialed calls"));
        assertThat(new ConfigValidator()
                        .validate(config("dev", "cors: {allowed_origins: ['*']}"))
                        .warnings())
                .extracting(Problem::message)
                .anyMatch(m -> m.contains("any web site"));
        assertThat(errors("dev", "cors: {allowed_origins: ['*']}")).isEmpty();
        assertThat(errors("dev", "cors: {allowed_origins: ['https://*.dev.bank.example', 'http://localhost:3000']}"))
                .isEmpty();
    }

    @Test
    void malformedOrigins_headersAndMethods_areRefused() {
        for (String bad : List.of(
                "null",
                "https://app.bank.example/",
                "https://App.bank.example",
                "app.bank.example",
                "ftp://app.bank.example",
                "https://user@app.bank.example",
                "https://app.bank.example/path",
                "https://*.example",
                "https://*.bank.example:8443",
                "https://app.bank.example:0",
                "https://app..bank.example",
                "https://*")) {
            assertThat(errors("dev", "cors: {allowed_origins: ['" + bad + "']}"))
                    .as(bad)
                    .isNotEmpty();
        }
        assertThat(errors("dev", "cors: {allowed_origins: []}")).anyMatch(m -> m.contains("at least one origin"));
        assertThat(errors("dev", "cors: {allowed_origins: ['https://a.example'], allowed_headers: ['*']}"))
                .anyMatch(m -> m.contains("list the header names"));
        assertThat(errors("dev", "cors: {allowed_origins: ['https://a.example'], allowed_methods: [get]}"))
                .anyMatch(m -> m.contains("unknown HTTP method"));
        assertThat(errors("dev", "cors: {allowed_origins: ['https://a.example'], max_age_seconds: 100000}"))
                .anyMatch(m -> m.contains("max_age"));
        assertThat(errors("dev", "api_cors: {nope: {allowed_origins: ['https://a.example']}}"))
                .anyMatch(m -> m.contains("unknown API 'nope'"));
    }

    private static List<String> errors(String environment, String cors) {
        return new ConfigValidator()
                .validate(config(environment, cors)).errors().stream()
                        .map(p -> p.path() + ": " + p.message())
                        .toList();
    }

    private static Route route(VirtualHost vh, String name) {
        return vh.getRoutesList().stream()
                .filter(r -> r.getName().equals(name))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no route " + name + " in "
                        + vh.getRoutesList().stream().map(Route::getName).toList()));
    }
}
