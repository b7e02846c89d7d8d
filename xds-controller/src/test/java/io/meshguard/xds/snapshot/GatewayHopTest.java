package io.meshguard.xds.snapshot;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import io.envoyproxy.envoy.config.core.v3.GrpcService;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.access_loggers.grpc.v3.HttpGrpcAccessLogConfig;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthz;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayYaml;
import io.meshguard.xds.validate.ConfigValidator;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * What the gateway's next hop sees, in a mesh where that hop is the gateway's own Istio sidecar, which routes HTTP by
 * {@code :authority} (review 3: R3-02, R3-06) — and which paths a route's prefix really covers (R3-08).
 */
class GatewayHopTest {
    /** The servers by their in-cluster Service names, as the manifests deploy them. */
    static final FilterTargets IN_CLUSTER = new FilterTargets(
            "meshguard-extauthz.meshguard.svc.cluster.local:9001",
            "meshguard-dlp.meshguard.svc.cluster.local:9002",
            "meshguard-dlp.meshguard.svc.cluster.local:9002",
            Duration.ofSeconds(2));

    private static final String CONFIG = """
            groups: [{name: edge, environment: test, hostnames: [api.bank.example]}]
            upstreams:
              - {name: ledger, endpoints: [{address: ledger.ledger.svc.cluster.local, port: 8080}]}
              - {name: payments, endpoints: [{address: 10.0.0.9, port: 8080}]}
            apis:
              - {name: payments, base_path: /payments, default_version: v2, versions: [{version: v2}]}
            routes:
              - {name: transfers, group: edge, api: payments, version: v2,
                 match: {path_prefix: /transfers}, destinations: [{upstream: payments, weight: 100}]}
              - {name: postings, group: edge, api: payments, version: v2,
                 match: {path_prefix: /postings/}, destinations: [{upstream: ledger, weight: 100}]}
              - {name: split, group: edge, api: payments, version: v2,
                 match: {path_exact: /split}, destinations: [{upstream: ledger, weight: 50}, {upstream: payments, weight: 50}]}
            """;

    private static GroupResources build() {
        GatewayConfig config = GatewayYaml.read("hop.yaml", CONFIG);
        assertThat(new ConfigValidator().validate(config).errors()).isEmpty();
        return new SnapshotBuilder(IN_CLUSTER).build(config, "edge");
    }

    @Test
    void filterGrpcServices_sendTheTargetServiceAsAuthority_notTheClusterName() throws Exception {
        HttpConnectionManager hcm = BuiltResources.connectionManager(build(), "http-8080");
        GrpcService.EnvoyGrpc authz = BuiltResources.filter(hcm, EnvoyNames.EXT_AUTHZ_FILTER, ExtAuthz.class)
                .getGrpcService()
                .getEnvoyGrpc();
        GrpcService.EnvoyGrpc dlp = BuiltResources.filter(hcm, EnvoyNames.EXT_PROC_FILTER, ExternalProcessor.class)
                .getGrpcService()
                .getEnvoyGrpc();
        GrpcService.EnvoyGrpc als = hcm.getAccessLog(0)
                .getTypedConfig()
                .unpack(HttpGrpcAccessLogConfig.class)
                .getCommonConfig()
                .getGrpcService()
                .getEnvoyGrpc();

        assertThat(authz.getAuthority()).isEqualTo("meshguard-extauthz.meshguard.svc.cluster.local");
        assertThat(dlp.getAuthority()).isEqualTo("meshguard-dlp.meshguard.svc.cluster.local");
        assertThat(als.getClusterName()).isEqualTo("meshguard-als");
        assertThat(als.getAuthority()).isEqualTo("meshguard-dlp.meshguard.svc.cluster.local");
    }

    @Test
    void routesToADnsUpstream_rewriteTheHost_andKeepTheClientsInXForwardedHost() {
        Map<String, Route> envoy = BuiltResources.routesByName(build(), "http-8080");
        assertThat(envoy.get("payments.v2.postings")
                        .getRoute()
                        .getAutoHostRewrite()
                        .getValue())
                .isTrue();
        assertThat(envoy.get("payments.v2.postings").getRoute().getAppendXForwardedHost())
                .isTrue();
        // the client's own x-forwarded-host goes first: the upstream then sees only the gateway's
        assertThat(envoy.get("payments.v2.postings").getRequestHeadersToRemoveList())
                .contains("x-forwarded-host");
        assertThat(envoy.get("payments.v2.transfers").getRequestHeadersToRemoveList())
                .doesNotContain("x-forwarded-host");
        // weighted: auto_host_rewrite leaves a host without a name (an EDS IP) alone, so one flag covers both
        assertThat(envoy.get("payments.v2.split")
                        .getRoute()
                        .getAutoHostRewrite()
                        .getValue())
                .isTrue();
        assertThat(envoy.get("payments.v2.transfers").getRoute().hasAutoHostRewrite())
                .isFalse();
        assertThat(BuiltResources.routesByName(build(), EnvoyNames.PROXYLESS_ROUTES)
                        .values())
                .noneMatch(r -> r.getRoute().hasAutoHostRewrite());
    }

    @Test
    void prefixes_endAtASegment_forEnvoy_andForProxylessAsARegexGrpcJavaKnows() {
        Map<String, Route> envoy = BuiltResources.routesByName(build(), "http-8080");
        assertThat(envoy.get("payments.v2.transfers").getMatch().getPathSeparatedPrefix())
                .isEqualTo("/payments/v2/transfers");
        assertThat(envoy.get("payments.v2.default.transfers").getMatch().getPathSeparatedPrefix())
                .isEqualTo("/payments/transfers");
        // already ends at a segment: stays a prefix (path_separated_prefix must not end in '/')
        assertThat(envoy.get("payments.v2.postings").getMatch().getPrefix()).isEqualTo("/payments/v2/postings/");
        // proxyless clients know prefix, path and safe_regex only: the segment boundary as a regex (R4-12)
        Map<String, Route> proxyless = BuiltResources.routesByName(build(), EnvoyNames.PROXYLESS_ROUTES);
        String regex =
                proxyless.get("payments.v2.transfers").getMatch().getSafeRegex().getRegex();
        assertThat(regex).isEqualTo("/payments/v2/transfers(/.*)?");
        assertThat(com.google.re2j.Pattern.matches(regex, "/payments/v2/transfers/7"))
                .isTrue();
        assertThat(com.google.re2j.Pattern.matches(regex, "/payments/v2/transfers"))
                .isTrue();
        assertThat(com.google.re2j.Pattern.matches(regex, "/payments/v2/transfersAdmin"))
                .isFalse();
        assertThat(proxyless.get("payments.v2.postings").getMatch().getPrefix()).isEqualTo("/payments/v2/postings/");
        List<String> separated = envoy.values().stream()
                .filter(r -> r.getMatch().hasPathSeparatedPrefix())
                .map(r -> r.getMatch().getPathSeparatedPrefix())
                .toList();
        assertThat(separated).allMatch(p -> p.matches("^[^?#]+[^?#/]$"));
    }

    @Test
    void everyResource_parsesStrictlyAsEnvoyParsesIt() throws Exception {
        for (RouteConfiguration rc : build().routes()) {
            assertThat(EnvoyJson.parse(EnvoyJson.print(rc), Any.newBuilder())
                            .build()
                            .unpack(RouteConfiguration.class))
                    .isEqualTo(rc);
        }
    }
}
