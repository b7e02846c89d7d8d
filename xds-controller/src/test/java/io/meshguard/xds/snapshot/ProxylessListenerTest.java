package io.meshguard.xds.snapshot;

import static io.meshguard.xds.TestConfigs.active;
import static io.meshguard.xds.TestConfigs.api;
import static io.meshguard.xds.TestConfigs.group;
import static io.meshguard.xds.TestConfigs.route;
import static io.meshguard.xds.TestConfigs.to;
import static io.meshguard.xds.TestConfigs.upstream;
import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthz;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayGroup;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProxylessListenerTest {
    private static HttpConnectionManager hcm(GatewayGroup.ProxylessAuthz authz) throws Exception {
        GatewayConfig c = new GatewayConfig(
                List.of(group("g", authz)),
                List.of(upstream("u", 1)),
                List.of(api("svc", "svc.g", "", "v1", active("v1"))),
                List.of(route("g", "all", "svc", "v1", "/", to("u", 100))));
        Listener l = new SnapshotBuilder(FilterTargets.DEFAULTS)
                .build(c, "g").listeners().stream()
                        .filter(x -> x.getName().equals("svc.g"))
                        .findFirst()
                        .orElseThrow();
        return l.getApiListener().getApiListener().unpack(HttpConnectionManager.class);
    }

    @Test
    void requiredAuthz_isAMandatoryGoogleGrpcFilter_withInsecureChannelCredentialsAsField9() throws Exception {
        HttpConnectionManager hcm = hcm(GatewayGroup.ProxylessAuthz.REQUIRED);
        assertThat(hcm.getHttpFilters(0).getName()).isEqualTo("envoy.filters.http.ext_authz");
        assertThat(hcm.getHttpFilters(0).getIsOptional()).isFalse();
        ExtAuthz authz = hcm.getHttpFilters(0).getTypedConfig().unpack(ExtAuthz.class);
        assertThat(authz.getGrpcService().getGoogleGrpc().getTargetUri()).isEqualTo("dns:///127.0.0.1:9001");
        assertThat(authz.getFailureModeAllow()).isFalse();
        assertThat(authz.getGrpcService().getGoogleGrpc().getUnknownFields().hasField(9))
                .isTrue();
    }

    @Test
    void authzOff_leavesFaultAndRouterOnly() throws Exception {
        assertThat(hcm(GatewayGroup.ProxylessAuthz.OFF).getHttpFiltersList())
                .extracting(f -> f.getName())
                .containsExactly("envoy.filters.http.fault", "envoy.filters.http.router");
        assertThat(hcm(GatewayGroup.ProxylessAuthz.OPTIONAL).getHttpFilters(0).getIsOptional())
                .isTrue();
    }
}
