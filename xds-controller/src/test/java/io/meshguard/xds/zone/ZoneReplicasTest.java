package io.meshguard.xds.zone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.xds.ZoneController;
import io.meshguard.xds.store.PgRevisionStore;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Central as more than one replica on one PostgreSQL: the fleet view answers the same from every replica,
 * and the outage of "Done means" at full length — the replica a zone follows stopped for 60 s while another replica
 * keeps answering {@code /v1/operator/fleet}.
 */
@IntegrationTest
class ZoneReplicasTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    private static final ZoneHubSettings FAST = ZoneTestbed.FAST;

    @RegisterExtension
    final ZoneTestbed bed = new ZoneTestbed(PG, "p");

    private <T extends AutoCloseable> T opened(T c) {
        return bed.opened(c);
    }

    private ZoneCentral replica(String name, int port, ZoneHubSettings settings) throws Exception {
        ZoneCentral central = opened(new ZoneCentral(
                PG.dataSource(),
                new PgRevisionStore(PG.dataSource()),
                new SimpleMeterRegistry(),
                new InetSocketAddress("127.0.0.1", port),
                settings,
                Duration.ofHours(1),
                bed.run() + "-" + name));
        central.start();
        return central;
    }

    private ZoneController zone(ZoneCentral central, String cluster, ZoneHubSettings settings) throws Exception {
        String token = central.hub()
                .registry()
                .issue(cluster, Duration.ofHours(1), "test")
                .secret();
        return bed.zone("127.0.0.1:" + central.port(), cluster, Optional.of(token), settings.echoInterval());
    }

    private String cluster(ZoneRegistry registry, String name, String group) {
        return bed.cluster(registry, name, group);
    }

    private static JsonNode zoneOf(ZoneCentral central, String cluster) {
        for (JsonNode c : central.fleet().render().path("clusters")) {
            if (c.path("id").asText().equals(cluster)) {
                return c;
            }
        }
        throw new AssertionError("no cluster " + cluster + " in the fleet");
    }

    /** The fleet as a replica answers it, without the fields that count seconds from when it was asked. */
    private static JsonNode withoutAges(JsonNode cluster) {
        ObjectNode copy = cluster.deepCopy();
        copy.path("replicas").forEach(r -> ((ObjectNode) r).remove("last_echo_seconds_ago"));
        copy.path("groups")
                .forEach(g -> g.path("nodes").forEach(n -> ((ObjectNode) n).remove("last_seen_seconds_ago")));
        return copy;
    }

    @Test
    void fleet_answersTheSameFromEveryCentralReplica() throws Exception {
        Central publisher = opened(new Central(PG.dataSource(), 0, Duration.ofHours(1), FAST));
        String seoul = bed.run() + "-seoul-gw";
        long first = publisher
                .publish(ZoneLoopbackTest.config(seoul, bed.run() + "-tokyo-gw", false), "first")
                .revisions()
                .get(seoul)
                .id();
        ZoneCentral a = replica("a", 0, FAST);
        ZoneCentral b = replica("b", 0, FAST);
        String cluster = cluster(a.hub().registry(), "kr-seoul-prod", seoul);
        ZoneController zone = zone(a, cluster, FAST);
        AdsNode node = opened(new AdsNode(zone.adsPort(), "envoy-1", seoul));
        await().ignoreExceptions().atMost(Duration.ofSeconds(10)).until(node::configured);

        // b holds no stream of this zone, yet answers what a heard: link, applied revision, the node and its ACK
        await().ignoreExceptions().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            JsonNode seen = zoneOf(b, cluster);
            assertThat(seen.path("zone").path("connected").asBoolean()).isTrue();
            assertThat(seen.path("zone").path("stale").asBoolean()).isFalse();
            assertThat(seen.path("replicas").get(0).path("central_replica").asText())
                    .isEqualTo(bed.run() + "-a");
            assertThat(seen.path("replicas").get(0).path("name").asText()).isEqualTo(ZoneSettings.LOOPBACK_REPLICA);
            JsonNode group = seen.path("groups").get(0);
            assertThat(group.path("applied_revision").asLong()).isEqualTo(first);
            assertThat(group.path("nodes").get(0).path("id").asText()).isEqualTo("envoy-1");
            assertThat(group.path("nodes").get(0).path("revision").asLong()).isEqualTo(first);
            assertThat(group.path("nodes").get(0).path("staleness").asText()).isEqualTo("live");
        });
        assertThat(a.hub().board().zone(cluster)).isPresent();
        assertThat(b.hub().board().zone(cluster))
                .as("b's own board holds no stream of it")
                .isEmpty();
        await().ignoreExceptions().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(
                        withoutAges(zoneOf(b, cluster)))
                .isEqualTo(withoutAges(zoneOf(a, cluster))));
    }

    /**
     * The zone outage at full length, with the shipped echo interval (5 s, stale after three missed): the
     * replica the zone follows is stopped for 60 s. Another replica shows the zone stale within 30 s (computed from
     * its last echo, no flag written); a node joining the zone near the end of the outage is fully configured within
     * 5 s; a revision published meanwhile reaches the zone within 10 s of the replica's return. About 80 s.
     */
    @Test
    @Tag("slow") // not excluded from `./mvnw verify`: the one test here that takes a minute and more
    void centralAwayForSixtySeconds_zoneServesNewNodes_isSeenStale_andResyncsWhenCentralReturns() throws Exception {
        ZoneHubSettings shipped = ZoneHubSettings.DEFAULTS;
        Central publisher = opened(new Central(PG.dataSource(), 0, Duration.ofHours(1), shipped));
        String seoul = bed.run() + "-seoul-gw";
        String tokyo = bed.run() + "-tokyo-gw";
        long first = publisher
                .publish(ZoneLoopbackTest.config(seoul, tokyo, false), "first")
                .revisions()
                .get(seoul)
                .id();
        ZoneCentral followed = replica("a", 0, shipped);
        int port = followed.port();
        ZoneCentral other = replica("b", 0, shipped);
        String cluster = cluster(followed.hub().registry(), "kr-seoul-prod", seoul);
        ZoneController zone = zone(followed, cluster, shipped);
        AdsNode early = opened(new AdsNode(zone.adsPort(), "envoy-early", seoul));
        await().ignoreExceptions().atMost(Duration.ofSeconds(10)).until(early::configured);
        await().ignoreExceptions().atMost(Duration.ofSeconds(15)).untilAsserted(() -> assertThat(zoneOf(other, cluster)
                        .path("groups")
                        .get(0)
                        .path("applied_revision")
                        .asLong())
                .isEqualTo(first));

        long stopped = System.nanoTime();
        bed.closeNow(followed);
        await().atMost(Duration.ofSeconds(5)).until(() -> !zone.link().connected());

        // the other replica sees the zone go stale: three echo intervals (15 s) without an echo, within 30 s
        await().ignoreExceptions()
                .atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(500))
                .untilAsserted(() -> {
                    JsonNode z = zoneOf(other, cluster).path("zone");
                    assertThat(z.path("stale").asBoolean()).isTrue();
                    assertThat(z.path("connected").asBoolean()).isFalse();
                });
        System.out.printf(
                "outage: stale on the other replica %d ms after the stop%n", (System.nanoTime() - stopped) / 1_000_000);
        JsonNode staleNode =
                zoneOf(other, cluster).path("groups").get(0).path("nodes").get(0);
        assertThat(staleNode.path("staleness").asText())
                .as("what a silent zone said is unverified")
                .isEqualTo("unverified");
        long second = publisher
                .publish(ZoneLoopbackTest.config(seoul, tokyo, true), "while the zone is cut off")
                .revisions()
                .get(seoul)
                .id();

        sleepUntil(stopped, Duration.ofSeconds(50));
        long join = System.nanoTime();
        AdsNode joined = opened(new AdsNode(zone.adsPort(), "envoy-joined-at-50s", seoul));
        await().ignoreExceptions().atMost(Duration.ofSeconds(5)).until(joined::configured);
        System.out.printf(
                "outage: node joined at %d s configured in %d ms%n",
                (join - stopped) / 1_000_000_000, (System.nanoTime() - join) / 1_000_000);
        assertThat(joined.versions).as("full config from the zone alone").isEqualTo(early.versions);
        assertThat(zone.core().publisher().servedRevision(seoul)).contains(first);
        assertThat(zone.link().refused()).isEmpty();

        sleepUntil(stopped, Duration.ofSeconds(60));
        long returned = System.nanoTime();
        ZoneCentral back = replica("a", port, shipped);
        await().ignoreExceptions().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(
                        zone.core().publisher().servedRevision(seoul))
                .contains(second));
        System.out.printf(
                "outage: central back after %d s, zone resynced in %d ms%n",
                (returned - stopped) / 1_000_000_000, (System.nanoTime() - returned) / 1_000_000);
        await().ignoreExceptions().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            assertThat(joined.names.get(AdsNode.CDS))
                    .anySatisfy(n -> assertThat(n).contains("backend-b"));
            assertThat(early.names.get(AdsNode.CDS))
                    .anySatisfy(n -> assertThat(n).contains("backend-b"));
        });
        // and every replica hears it again: connected, not stale, the new revision applied
        await().ignoreExceptions().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
            JsonNode z = zoneOf(other, cluster);
            assertThat(z.path("zone").path("connected").asBoolean()).isTrue();
            assertThat(z.path("zone").path("stale").asBoolean()).isFalse();
            assertThat(z.path("groups").get(0).path("applied_revision").asLong())
                    .isEqualTo(second);
        });
        assertThat(back.hub().board().zone(cluster).orElseThrow().connected()).isTrue();
    }

    private static void sleepUntil(long startNanos, Duration after) throws InterruptedException {
        long left = startNanos + after.toNanos() - System.nanoTime();
        if (left > 0) {
            Thread.sleep(Duration.ofNanos(left));
        }
    }
}
