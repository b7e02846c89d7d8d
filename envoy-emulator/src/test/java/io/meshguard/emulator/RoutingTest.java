package io.meshguard.emulator;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.BoolValue;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import org.junit.jupiter.api.Test;

class RoutingTest {
    private static final RouteConfiguration HOSTS = RouteConfiguration.newBuilder()
            .addVirtualHosts(VirtualHost.newBuilder()
                    .setName("exact")
                    .addDomains("api.test")
                    .addDomains("api.test:*"))
            .addVirtualHosts(VirtualHost.newBuilder().setName("suffix").addDomains("*.test"))
            .addVirtualHosts(VirtualHost.newBuilder().setName("any").addDomains("*"))
            .build();

    private static String vh(String authority) {
        return RouteTable.virtualHost(HOSTS, authority)
                .map(VirtualHost::getName)
                .orElse("none");
    }

    @Test
    void virtualHost_exactThenPortWildcardThenSuffixThenAny_caseInsensitive() {
        assertThat(vh("api.test")).isEqualTo("exact");
        assertThat(vh("API.Test")).isEqualTo("exact");
        assertThat(vh("api.test:8080")).isEqualTo("exact");
        assertThat(vh("other.test")).isEqualTo("suffix");
        assertThat(vh(".test")).as("a wildcard never matches an empty part").isEqualTo("any");
        assertThat(vh("elsewhere.example")).isEqualTo("any");
    }

    @Test
    void normalisation_resolvesDotSegmentsInEverySpelling_andMergesSlashes() {
        HttpConnectionManager hcm = HttpConnectionManager.newBuilder()
                .setNormalizePath(BoolValue.of(true))
                .setMergeSlashes(true)
                .build();
        assertThat(PathNormalizer.apply(hcm, "/a/./b/../c?x=/../y").path()).isEqualTo("/a/c?x=/../y");
        assertThat(PathNormalizer.apply(hcm, "/a/%2e%2E/c").path()).isEqualTo("/c");
        assertThat(PathNormalizer.apply(hcm, "//a///b").path()).isEqualTo("/a/b");
        assertThat(PathNormalizer.apply(hcm, "/a/%7Euser").path()).isEqualTo("/a/~user");
        assertThat(PathNormalizer.apply(hcm, "/a/%zz").kind()).isEqualTo(PathNormalizer.Result.Kind.REJECT);
    }

    @Test
    void escapedSlashes_areUnescapedAndRedirected_whenTheHcmSaysSo() {
        HttpConnectionManager hcm = HttpConnectionManager.newBuilder()
                .setNormalizePath(BoolValue.of(true))
                .setPathWithEscapedSlashesAction(
                        HttpConnectionManager.PathWithEscapedSlashesAction.UNESCAPE_AND_REDIRECT)
                .build();
        PathNormalizer.Result r = PathNormalizer.apply(hcm, "/a%2Fb%2f..%2Fc");
        assertThat(r.kind()).isEqualTo(PathNormalizer.Result.Kind.REDIRECT);
        assertThat(r.path()).isEqualTo("/a/c");
    }

    @Test
    void pathSeparatedPrefix_matchesThePrefixOrItFollowedBySlash_neverANeighbour() {
        VirtualHost vh = VirtualHost.newBuilder()
                .setName("v")
                .addDomains("*")
                .addRoutes(io.envoyproxy.envoy.config.route.v3.Route.newBuilder()
                        .setName("transfers")
                        .setMatch(io.envoyproxy.envoy.config.route.v3.RouteMatch.newBuilder()
                                .setPathSeparatedPrefix("/payments/v2/transfers")))
                .build();
        java.util.function.Function<String, String> route = p -> RouteTable.route(vh, p, new Headers())
                .map(io.envoyproxy.envoy.config.route.v3.Route::getName)
                .orElse("none");
        assertThat(route.apply("/payments/v2/transfers")).isEqualTo("transfers");
        assertThat(route.apply("/payments/v2/transfers/")).isEqualTo("transfers");
        assertThat(route.apply("/payments/v2/transfers/42?x=1")).isEqualTo("transfers");
        assertThat(route.apply("/payments/v2/transfers?x=1")).isEqualTo("transfers");
        assertThat(route.apply("/payments/v2/transfersX")).isEqualTo("none");
        assertThat(route.apply("/payments/v2/transfers-export")).isEqualTo("none");
    }

    @Test
    void corsFilter_skipsDirectResponseRoutes_likeEnvoysWhichSeesNoRouteEntry() throws Exception {
        io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy policy =
                io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy.newBuilder()
                        .addAllowOriginStringMatch(io.envoyproxy.envoy.type.matcher.v3.StringMatcher.newBuilder()
                                .setExact("https://app.test"))
                        .setAllowMethods("GET")
                        .build();
        VirtualHost vh = VirtualHost.newBuilder()
                .setName("v")
                .putTypedPerFilterConfig("cors", com.google.protobuf.Any.pack(policy))
                .build();
        Headers preflight = new Headers();
        preflight.add("origin", "https://app.test");
        preflight.add("access-control-request-method", "GET");
        var direct = io.envoyproxy.envoy.config.route.v3.Route.newBuilder()
                .setDirectResponse(io.envoyproxy.envoy.config.route.v3.DirectResponseAction.newBuilder()
                        .setStatus(403))
                .build();
        var routed = io.envoyproxy.envoy.config.route.v3.Route.newBuilder()
                .setRoute(io.envoyproxy.envoy.config.route.v3.RouteAction.newBuilder()
                        .setCluster("c"))
                .build();

        assertThat(CorsFilter.forRoute("cors", direct, vh).decode("OPTIONS", preflight, new java.util.ArrayList<>()))
                .isEmpty();
        assertThat(CorsFilter.forRoute("cors", routed, vh).decode("OPTIONS", preflight, new java.util.ArrayList<>()))
                .hasValueSatisfying(
                        h -> assertThat(h.first("access-control-allow-origin")).contains("https://app.test"));
    }

    @Test
    void autoHostRewrite_sendsTheDnsEndpointsName_andAppendsTheClientsToXForwardedHost() {
        io.envoyproxy.envoy.config.cluster.v3.Cluster dns = io.envoyproxy.envoy.config.cluster.v3.Cluster.newBuilder()
                .setName("ledger")
                .setType(io.envoyproxy.envoy.config.cluster.v3.Cluster.DiscoveryType.LOGICAL_DNS)
                .setLoadAssignment(io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment.newBuilder()
                        .addEndpoints(io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints.newBuilder()
                                .addLbEndpoints(io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint.newBuilder()
                                        .setEndpoint(io.envoyproxy.envoy.config.endpoint.v3.Endpoint.newBuilder()
                                                .setAddress(
                                                        io.envoyproxy.envoy.config.core.v3.Address.newBuilder()
                                                                .setSocketAddress(io.envoyproxy.envoy.config.core.v3
                                                                        .SocketAddress.newBuilder()
                                                                        .setAddress("ledger.ledger.svc.cluster.local")
                                                                        .setPortValue(8080)))))))
                .build();
        var rewrite = io.envoyproxy.envoy.config.route.v3.RouteAction.newBuilder()
                .setCluster("ledger")
                .setAutoHostRewrite(com.google.protobuf.BoolValue.of(true))
                .setAppendXForwardedHost(true)
                .build();
        Headers headers = new Headers();
        assertThat(RouteTable.upstreamAuthority(rewrite, dns, "api.bank.example", headers))
                .isEqualTo("ledger.ledger.svc.cluster.local");
        assertThat(headers.first("x-forwarded-host")).contains("api.bank.example");

        Headers untouched = new Headers();
        assertThat(RouteTable.upstreamAuthority(
                        rewrite.toBuilder().clearAutoHostRewrite().build(), dns, "api.bank.example", untouched))
                .isEqualTo("api.bank.example");
        assertThat(untouched.has("x-forwarded-host")).isFalse();
    }

    @Test
    void hostRewriteLiteral_sendsTheLiteral_evenToAnEdsCluster_andAppendsTheClientsToXForwardedHost() {
        io.envoyproxy.envoy.config.cluster.v3.Cluster eds = io.envoyproxy.envoy.config.cluster.v3.Cluster.newBuilder()
                .setName("payments-by-ip")
                .setType(io.envoyproxy.envoy.config.cluster.v3.Cluster.DiscoveryType.EDS)
                .build();
        var rewrite = io.envoyproxy.envoy.config.route.v3.RouteAction.newBuilder()
                .setCluster("payments-by-ip")
                .setHostRewriteLiteral("payments.bank-apps.svc.cluster.local")
                .setAppendXForwardedHost(true)
                .build();
        Headers headers = new Headers();
        assertThat(RouteTable.upstreamAuthority(rewrite, eds, "api.bank.example", headers))
                .isEqualTo("payments.bank-apps.svc.cluster.local");
        assertThat(headers.first("x-forwarded-host")).contains("api.bank.example");
    }

    @Test
    void customHeaderFormatter_fillsInRequestHeaders_andRefusesWhatItDoesNotModel() {
        Headers request = new Headers();
        request.add("origin", "https://a.dev.bank.example");
        java.util.function.Function<String, String> format = v -> RouteTable.formatted(
                        io.envoyproxy.envoy.config.core.v3.HeaderValueOption.newBuilder()
                                .setHeader(io.envoyproxy.envoy.config.core.v3.HeaderValue.newBuilder()
                                        .setKey("k")
                                        .setValue(v))
                                .build(),
                        request)
                .getHeader()
                .getValue();
        assertThat(format.apply("%REQ(origin)%")).isEqualTo("https://a.dev.bank.example");
        assertThat(format.apply("100%% of %REQ(origin)%")).isEqualTo("100% of https://a.dev.bank.example");
        assertThat(format.apply("plain")).isEqualTo("plain");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> format.apply("%START_TIME%"))
                .isInstanceOf(UnmodelledException.class);
    }
}
