package io.meshguard.xds.snapshot;

import static io.meshguard.xds.TestConfigs.active;
import static io.meshguard.xds.TestConfigs.api;
import static io.meshguard.xds.TestConfigs.group;
import static io.meshguard.xds.TestConfigs.route;
import static io.meshguard.xds.TestConfigs.to;
import static io.meshguard.xds.TestConfigs.upstream;
import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.grpc.Status;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayGroup;
import java.util.List;
import org.junit.jupiter.api.Test;

class FailFastListenersTest {
    private static GroupResources built(GatewayGroup.ProxylessAuthz authz) {
        GatewayConfig c = new GatewayConfig(
                List.of(group("g", authz)),
                List.of(upstream("u", 1)),
                List.of(api("svc", "svc.g", "", "v1", active("v1"))),
                List.of(route("g", "all", "svc", "v1", "/", to("u", 100))));
        return new SnapshotBuilder(FilterTargets.DEFAULTS).build(c, "g");
    }

    private static HttpConnectionManager hcm(Listener l) throws Exception {
        return l.getApiListener().getApiListener().unpack(HttpConnectionManager.class);
    }

    @Test
    void requiredAuthz_clientWithoutExtAuthz_getsAListenerItCanRun_thatAbortsEveryCallPermissionDenied()
            throws Exception {
        GroupResources full = built(GatewayGroup.ProxylessAuthz.REQUIRED);
        GroupResources failFast = FailFastListeners.of(full);

        Listener l = failFast.listeners().stream()
                .filter(x -> x.getName().equals("svc.g"))
                .findFirst()
                .orElseThrow();
        // only filters grpc-js and grpc-java run by default: no ext_authz to NACK
        assertThat(hcm(l).getHttpFiltersList())
                .extracting(f -> f.getName())
                .containsExactly("envoy.filters.http.fault", "envoy.filters.http.router");
        assertThat(hcm(l).getRds().getRouteConfigName()).isEqualTo(FailFastListeners.ROUTES);
        RouteConfiguration rc = failFast.routes().stream()
                .filter(r -> r.getName().equals(FailFastListeners.ROUTES))
                .findFirst()
                .orElseThrow();
        assertThat(rc.getVirtualHostsList()).singleElement().satisfies(vh -> {
            assertThat(vh.getDomainsList()).containsExactly("*");
            Route r = vh.getRoutes(0);
            assertThat(vh.getRoutesList()).hasSize(1);
            assertThat(r.getMatch().getPrefix()).isEqualTo("/");
            // no path to a backend: the endpoint-less cluster closed versions use
            assertThat(r.getRoute().getCluster()).isEqualTo(EnvoyNames.CLOSED_CLUSTER);
            HTTPFault fault =
                    r.getTypedPerFilterConfigOrThrow(EnvoyNames.FAULT_FILTER).unpack(HTTPFault.class);
            assertThat(fault.getAbort().getGrpcStatus()).isEqualTo(Status.Code.PERMISSION_DENIED.value());
            assertThat(fault.getAbort().getPercentage().getNumerator()).isEqualTo(100);
        });
        // everything else as the group serves it; the Envoy listener untouched
        assertThat(failFast.clusters()).isEqualTo(full.clusters());
        assertThat(failFast.endpoints()).isEqualTo(full.endpoints());
        assertThat(failFast.routes()).containsAll(full.routes());
        assertThat(failFast.listeners().stream()
                        .filter(x -> !x.hasApiListener())
                        .toList())
                .isEqualTo(full.listeners().stream()
                        .filter(x -> !x.hasApiListener())
                        .toList());
    }

    @Test
    void optionalOrOffAuthz_isServedUnchanged_theClientCanRunIt() {
        for (GatewayGroup.ProxylessAuthz authz :
                List.of(GatewayGroup.ProxylessAuthz.OPTIONAL, GatewayGroup.ProxylessAuthz.OFF)) {
            GroupResources full = built(authz);
            assertThat(FailFastListeners.of(full)).as("%s", authz).isEqualTo(full);
        }
    }
}
