package io.meshguard.xds.snapshot;

import static io.meshguard.xds.TestConfigs.active;
import static io.meshguard.xds.TestConfigs.api;
import static io.meshguard.xds.TestConfigs.group;
import static io.meshguard.xds.TestConfigs.route;
import static io.meshguard.xds.TestConfigs.to;
import static io.meshguard.xds.TestConfigs.upstream;
import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayGroup;
import java.util.List;
import org.junit.jupiter.api.Test;

class TypeVersionsTest {
    private final SnapshotBuilder builder = new SnapshotBuilder(FilterTargets.DEFAULTS);

    private GatewayConfig config(String target, int port) {
        return new GatewayConfig(
                List.of(group("g", GatewayGroup.ProxylessAuthz.OFF)),
                List.of(upstream("one", port), upstream("two", 2000)),
                List.of(api("svc", "svc.g", "", "v1", active("v1"))),
                List.of(
                        route("g", "all", "svc", "v1", "/", to(target, 100)),
                        route("g", "other", "svc", "v1", "/x", to("two", 100)),
                        route("g", "third", "svc", "v1", "/y", to("one", 100))));
    }

    @Test
    void routeChange_changesOnlyTheRouteVersion() {
        TypeVersions one = TypeVersions.of(builder.build(config("one", 1000), "g"));
        TypeVersions two = TypeVersions.of(builder.build(config("two", 1000), "g"));

        assertThat(two.routes()).isNotEqualTo(one.routes());
        assertThat(two.listeners()).isEqualTo(one.listeners());
        assertThat(two.clusters()).isEqualTo(one.clusters());
        assertThat(two.endpoints()).isEqualTo(one.endpoints());
    }

    @Test
    void endpointChange_changesOnlyTheEndpointVersion() {
        TypeVersions before = TypeVersions.of(builder.build(config("one", 1000), "g"));
        TypeVersions after = TypeVersions.of(builder.build(config("one", 1001), "g"));

        assertThat(after.endpoints()).isNotEqualTo(before.endpoints());
        assertThat(after.routes()).isEqualTo(before.routes());
        assertThat(after.listeners()).isEqualTo(before.listeners());
        assertThat(after.clusters()).isEqualTo(before.clusters());
    }

    @Test
    void sameConfig_sameVersions() {
        assertThat(TypeVersions.of(builder.build(config("one", 1000), "g")))
                .isEqualTo(TypeVersions.of(builder.build(config("one", 1000), "g")));
    }

    /**
     * Digests are remembered per object (ResourceDigests): builds that share no object still agree, and a change deep
     * inside a virtual host moves the version even when the tables around it are new objects with equal fields.
     */
    @Test
    void buildsSharingNoObject_sameVersions_andARouteDeepInsideMovesThem() {
        GatewayConfig config = config("one", 1000);
        TypeVersions first =
                TypeVersions.of(SnapshotBuilder.fresh(FilterTargets.DEFAULTS).build(config, "g"));
        TypeVersions again =
                TypeVersions.of(SnapshotBuilder.fresh(FilterTargets.DEFAULTS).build(config, "g"));
        GatewayConfig prefixChanged = new GatewayConfig(
                config.groups(),
                config.upstreams(),
                config.apis(),
                List.of(
                        config.routes().get(0),
                        route("g", "other", "svc", "v1", "/x2", to("two", 100)),
                        config.routes().get(2)));

        assertThat(again).isEqualTo(first);
        assertThat(TypeVersions.of(builder.build(prefixChanged, "g")).routes()).isNotEqualTo(first.routes());
        assertThat(TypeVersions.hash(List.of(io.envoyproxy.envoy.config.route.v3.VirtualHost.newBuilder()
                        .setName("a")
                        .build())))
                .isNotEqualTo(TypeVersions.hash(List.of(io.envoyproxy.envoy.config.route.v3.VirtualHost.newBuilder()
                        .setName("b")
                        .build())));
    }
}
