package io.meshguard.xds.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.meshguard.xds.XdsCore;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayYaml;
import io.meshguard.xds.model.Route;
import io.meshguard.xds.snapshot.FilterTargets;
import io.meshguard.xds.snapshot.GroupResources;
import io.meshguard.xds.snapshot.SnapshotBuilder;
import io.meshguard.xds.snapshot.TypeVersions;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What a group's nodes are served after a one-route publish: the unchanged types are the indexes and versions served
 * before, and every type equals what a snapshot made from scratch holds.
 */
class XdsSnapshotsTest {
    @Test
    void serve_oneRouteChanged_keepsTheUnchangedTypesIndexes_andServesWhatAFreshSnapshotHolds() throws Exception {
        GatewayConfig sample;
        try (InputStream in = XdsCore.class.getResourceAsStream("sample-gateway.yaml")) {
            sample = GatewayYaml.read("sample-gateway.yaml", new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
        Route changed = sample.routes().stream()
                .filter(r -> r.destinations().size() == 2)
                .findFirst()
                .orElseThrow();
        String group = changed.group();
        GatewayConfig after = new GatewayConfig(
                sample.groups(),
                sample.upstreams(),
                sample.apis(),
                sample.routes().stream()
                        .map(r -> r != changed
                                ? r
                                : r.withDestinations(List.of(
                                        new Route.Destination(
                                                r.destinations().get(0).upstream(), 1),
                                        new Route.Destination(
                                                r.destinations().get(1).upstream(), 99))))
                        .toList());
        SnapshotBuilder builder = new SnapshotBuilder(FilterTargets.DEFAULTS);
        SimpleCache<String> cache = new SimpleCache<>(node -> group);
        XdsSnapshots snapshots = new XdsSnapshots(cache);

        snapshots.serve(1, builder.build(sample, group));
        Snapshot first = cache.getSnapshot(group);
        GroupResources second = builder.build(after, group);
        snapshots.serve(2, second);
        Snapshot served = cache.getSnapshot(group);

        assertThat(served.clusters()).isSameAs(first.clusters());
        assertThat(served.endpoints()).isSameAs(first.endpoints());
        assertThat(served.routes()).isNotSameAs(first.routes());
        TypeVersions fresh = TypeVersions.of(second);
        assertThat(snapshots.served(group).orElseThrow().versions()).isEqualTo(fresh);
        Snapshot scratch = Snapshot.create(
                second.clusters(), fresh.clusters(),
                second.endpoints(), fresh.endpoints(),
                second.listeners(), fresh.listeners(),
                second.routes(), fresh.routes(),
                List.of(), "");
        for (Resources.ResourceType type : List.of(
                Resources.ResourceType.CLUSTER,
                Resources.ResourceType.ENDPOINT,
                Resources.ResourceType.LISTENER,
                Resources.ResourceType.ROUTE)) {
            assertThat(served.resources(type)).as("%s", type).isEqualTo(scratch.resources(type));
            assertThat(served.version(type)).as("%s", type).isEqualTo(scratch.version(type));
        }
        assertThat(served.routes().resources().values().stream()
                        .flatMap(rc -> rc.getVirtualHostsList().stream())
                        .flatMap(vh -> vh.getRoutesList().stream())
                        .filter(r -> r.getName().endsWith("." + changed.name()))
                        .map(r -> r.getRoute()
                                .getWeightedClusters()
                                .getClusters(1)
                                .getWeight()
                                .getValue()))
                .isNotEmpty()
                .containsOnly(99);
    }
}
