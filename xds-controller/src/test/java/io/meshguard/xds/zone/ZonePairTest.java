package io.meshguard.xds.zone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.xds.ZoneController;
import io.meshguard.xds.store.PgRevisionStore;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A cluster runs a pair of zone controllers (the zone manifests' StatefulSet), and the fleet kept one row per
 * cluster, so at most one replica's nodes showed (11 of 21). Two zone replicas of one cluster here, each registered with
 * its own token over the real zone stream, each serving its own Envoys over real ADS; every central replica's fleet
 * view shows both replicas and all 21 nodes.
 */
@IntegrationTest
class ZonePairTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @RegisterExtension
    final ZoneTestbed bed = new ZoneTestbed(PG, "pair");

    private ZoneCentral central(String name) throws Exception {
        ZoneCentral central = bed.opened(new ZoneCentral(
                PG.dataSource(),
                new PgRevisionStore(PG.dataSource()),
                new SimpleMeterRegistry(),
                new InetSocketAddress("127.0.0.1", 0),
                ZoneTestbed.FAST,
                Duration.ofHours(1),
                bed.run() + "-" + name));
        central.start();
        return central;
    }

    @Test
    void twoZoneReplicasOfOneCluster_fleetShowsBothReplicasAndEveryNodeOfEach() throws Exception {
        Central publisher = bed.opened(new Central(PG.dataSource(), 0, Duration.ofHours(1), ZoneTestbed.FAST));
        String group = bed.run() + "-seoul-gw";
        long revision = publisher
                .publish(ZoneLoopbackTest.config(group, bed.run() + "-tokyo-gw", false), "first")
                .revisions()
                .get(group)
                .id();
        ZoneCentral a = central("a");
        ZoneCentral b = central("b");
        String cluster = bed.cluster(a.hub().registry(), "kr-seoul-prod", group);
        String central = "127.0.0.1:" + a.port();
        ZoneController zone0 = bed.replica(
                central,
                cluster,
                "meshguard-xds-zone-0",
                Optional.of(a.hub()
                        .registry()
                        .issue(cluster, Duration.ofHours(1), "test")
                        .secret()),
                ZoneTestbed.FAST.echoInterval());
        ZoneController zone1 = bed.replica(
                "127.0.0.1:" + b.port(),
                cluster,
                "meshguard-xds-zone-1",
                Optional.of(b.hub()
                        .registry()
                        .issue(cluster, Duration.ofHours(1), "test")
                        .secret()),
                ZoneTestbed.FAST.echoInterval());
        List<AdsNode> nodes = new ArrayList<>();
        for (int i = 0; i < 11; i++) {
            nodes.add(bed.opened(new AdsNode(zone0.adsPort(), "envoy-0-" + i, group)));
        }
        for (int i = 0; i < 10; i++) {
            nodes.add(bed.opened(new AdsNode(zone1.adsPort(), "envoy-1-" + i, group)));
        }
        await().ignoreExceptions().atMost(Duration.ofSeconds(20)).until(() -> nodes.stream()
                .allMatch(AdsNode::configured));

        for (ZoneCentral view : List.of(a, b)) {
            await().ignoreExceptions().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                JsonNode c = clusterOf(view, cluster);
                assertThat(c.path("zone").path("connected").asBoolean()).isTrue();
                assertThat(c.path("zone").path("replicas_connected").asInt()).isEqualTo(2);
                assertThat(names(c.path("replicas"), "name"))
                        .containsExactly("meshguard-xds-zone-0", "meshguard-xds-zone-1");
                assertThat(names(c.path("replicas"), "central_replica"))
                        .containsExactly(bed.run() + "-a", bed.run() + "-b");
                JsonNode g = c.path("groups").get(0);
                assertThat(g.path("applied_revision").asLong()).isEqualTo(revision);
                JsonNode shown = g.path("nodes");
                assertThat(shown).hasSize(21);
                assertThat(StreamSupport.stream(shown.spliterator(), false)
                                .filter(n -> n.path("replica").asText().equals("meshguard-xds-zone-0")))
                        .hasSize(11);
                assertThat(shown).allSatisfy(n -> {
                    assertThat(n.path("staleness").asText()).isEqualTo("live");
                    assertThat(n.path("revision").asLong()).isEqualTo(revision);
                    assertThat(n.path("id").asText())
                            .startsWith(
                                    n.path("replica").asText().equals("meshguard-xds-zone-0")
                                            ? "envoy-0-"
                                            : "envoy-1-");
                });
            });
            assertThat(view.fleet()
                            .render()
                            .path("summary")
                            .path("zones_connected")
                            .asInt())
                    .isGreaterThanOrEqualTo(2);
        }
        assertThat(zone0.link().refused()).isEmpty();
        assertThat(zone1.link().refused()).isEmpty();

        // one replica stopping leaves the cluster connected through the other, and that replica's row says so
        bed.closeNow(zone1);
        await().ignoreExceptions().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            JsonNode c = clusterOf(a, cluster);
            assertThat(c.path("zone").path("connected").asBoolean()).isTrue();
            assertThat(c.path("zone").path("replicas_connected").asInt()).isEqualTo(1);
            assertThat(c.path("replicas").get(1).path("connected").asBoolean()).isFalse();
            assertThat(c.path("groups").get(0).path("nodes"))
                    .filteredOn(n -> n.path("replica").asText().equals("meshguard-xds-zone-1"))
                    .allSatisfy(n -> assertThat(n.path("staleness").asText()).isEqualTo("unverified"));
        });
    }

    private static JsonNode clusterOf(ZoneCentral central, String cluster) {
        for (JsonNode c : central.fleet().render().path("clusters")) {
            if (c.path("id").asText().equals(cluster)) {
                return c;
            }
        }
        throw new AssertionError("no cluster " + cluster + " in the fleet");
    }

    private static List<String> names(JsonNode list, String field) {
        return StreamSupport.stream(list.spliterator(), false)
                .map(n -> n.path(field).asText())
                .toList();
    }
}
