package io.meshguard.xds.zone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.meshguard.contract.zone.v1.ZoneProto;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.xds.ZoneController;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayYaml;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Central and zone controllers on loopback: central with its revisions in a real PostgreSQL, zones as
 * real xDS controllers in zone mode, emulated Envoy nodes on the zones' ADS ports, all over real gRPC.
 */
@IntegrationTest
public class ZoneLoopbackTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    private static final ZoneHubSettings FAST = ZoneTestbed.FAST;

    @RegisterExtension
    final ZoneTestbed bed = new ZoneTestbed(PG, "r");

    private <T extends AutoCloseable> T opened(T c) {
        return bed.opened(c);
    }

    /**
     * Two gateway groups, one route each; {@code extraRoute} adds a second route to the first group, to an upstream
     * of its own (so the group's clusters change, which the emulated nodes see on CDS).
     */
    public static GatewayConfig config(String seoul, String tokyo, boolean extraRoute) {
        String route = "  - {name: %s, group: %s, api: status, version: v1, match: {path_prefix: %s},"
                + " destinations: [{upstream: %s, weight: 100}], authz_profile: gateway-status,"
                + " dlp_profile: default}\n";
        return GatewayYaml.read(
                "zones.yaml",
                """
                groups:
                  - {name: %s, environment: prod, region: kr-seoul, domain: example.com}
                  - {name: %s, environment: prod, region: jp-tokyo, domain: example.com}
                upstreams:
                  - name: backend
                    protocol: http1
                    endpoints: [{address: 127.0.0.1, port: 18081}]
                    address_exceptions: [{address: 127.0.0.1, port: 18081, reason: "test backend"}]
                  - name: backend-b
                    protocol: http1
                    endpoints: [{address: 127.0.0.1, port: 18082}]
                    address_exceptions: [{address: 127.0.0.1, port: 18082, reason: "test backend"}]
                apis:
                  - {name: status, base_path: /status, default_version: v1, versions: [{version: v1, status: active}]}
                routes:
                """.formatted(seoul, tokyo)
                        + route.formatted("seoul-a", seoul, "/a", "backend")
                        + route.formatted("tokyo-a", tokyo, "/a", "backend")
                        + (extraRoute ? route.formatted("seoul-b", seoul, "/b", "backend-b") : ""));
    }

    private Central central(int port) throws Exception {
        return opened(new Central(PG.dataSource(), port, Duration.ofHours(1), FAST));
    }

    private String cluster(Central central, String name, String group) {
        return bed.cluster(central.registry, name, group);
    }

    private ZoneController zone(String central, String cluster, Optional<String> token, Path dir) throws Exception {
        return bed.zone(central, cluster, token, dir, FAST.echoInterval());
    }

    private ZoneController registeredZone(Central central, String cluster) throws Exception {
        String token =
                central.registry.issue(cluster, Duration.ofHours(1), "test").secret();
        return zone(central.address(), cluster, Optional.of(token), bed.dir().resolve(cluster));
    }

    @Test
    void publishToOneCluster_reachesOnlyThatZonesNodes() throws Exception {
        Central central = central(0);
        String seoul = bed.run() + "-seoul-gw";
        String tokyo = bed.run() + "-tokyo-gw";
        central.publish(config(seoul, tokyo, false), "first");
        String a = cluster(central, "kr-seoul-prod", seoul);
        String b = cluster(central, "jp-tokyo-prod", tokyo);
        ZoneController zoneA = registeredZone(central, a);
        ZoneController zoneB = registeredZone(central, b);
        AdsNode inA = opened(new AdsNode(zoneA.adsPort(), "envoy-a1", seoul));
        AdsNode inB = opened(new AdsNode(zoneB.adsPort(), "envoy-b1", tokyo));
        AdsNode seoulNodeInB = opened(new AdsNode(zoneB.adsPort(), "envoy-b2", seoul));
        await().ignoreExceptions().atMost(Duration.ofSeconds(10)).until(() -> inA.configured() && inB.configured());
        String tokyoClusters = inB.versions.get(AdsNode.CDS);

        long next = central.publish(config(seoul, tokyo, true), "second route for seoul")
                .revisions()
                .get(seoul)
                .id();

        await().ignoreExceptions().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(
                        zoneA.core().publisher().servedRevision(seoul))
                .contains(next));
        await().ignoreExceptions().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(
                        inA.names.get(AdsNode.CDS))
                .anySatisfy(name -> assertThat(name).contains("backend-b")));
        assertThat(zoneB.core().publisher().servedRevision(seoul))
                .as("zone B never serves seoul's group")
                .isEmpty();
        assertThat(seoulNodeInB.versions)
                .as("a seoul node in the tokyo cluster gets nothing")
                .isEmpty();
        assertThat(inB.versions.get(AdsNode.CDS)).isEqualTo(tokyoClusters);
        assertThat(inB.names.get(AdsNode.CDS))
                .noneSatisfy(name -> assertThat(name).contains("backend-b"));
        assertThat(zoneB.core().snapshots().groups()).containsExactly(tokyo);
        // central hears what each zone applied and what its nodes run
        await().ignoreExceptions().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            ZoneBoard.Zone za = central.board.zone(a).orElseThrow();
            assertThat(za.applied()).containsEntry(seoul, next);
            assertThat(za.nodes())
                    .filteredOn(n -> n.getNodeId().equals("envoy-a1"))
                    .singleElement()
                    .satisfies(n -> {
                        assertThat(n.getRevision()).isEqualTo(next);
                        assertThat(NodeReports.drifted(n)).isFalse();
                        assertThat(n.getClient()).contains("envoy");
                    });
        });
    }

    @Test
    void revisionAlteredBehindItsTrigger_isNotSentToTheZone_theClustersOtherGroupStillIs() throws Exception {
        Central central = central(0);
        String seoul = bed.run() + "-seoul-gw";
        String tokyo = bed.run() + "-tokyo-gw";
        Map<String, io.meshguard.xds.store.Revision> first =
                central.publish(config(seoul, tokyo, false), "first").revisions();
        // an operator with the owner's rights rewrites who published seoul's revision; groups are sent in name order,
        // seoul first
        String alter = "update config_revision set created_by = 'mallory' where id = "
                + first.get(seoul).id();
        try (java.sql.Connection c = PG.dataSource().getConnection();
                java.sql.Statement st = c.createStatement()) {
            st.execute("alter table config_revision disable trigger config_revision_immutable");
            st.execute(alter);
            st.execute("alter table config_revision enable trigger config_revision_immutable");
        }
        String both = cluster(central, "kr-seoul-prod", seoul);
        central.registry.assign(both, tokyo);

        ZoneController zone = registeredZone(central, both);

        await().ignoreExceptions().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(
                        zone.core().publisher().servedRevision(tokyo))
                .contains(first.get(tokyo).id()));
        assertThat(zone.core().publisher().servedRevision(seoul))
                .as("the altered revision is not served in the zone")
                .isEmpty();
    }

    @Test
    void publishOnAnotherReplica_isPushedToTheZoneStream_notLeftForTheTick() throws Exception {
        // ticks and echoes every ten minutes: within the test, only the push can carry the second revision
        ZoneHubSettings slow = new ZoneHubSettings(Duration.ofMinutes(10), Duration.ofMinutes(10));
        Central publisher = central(0);
        String seoul = bed.run() + "-seoul-gw";
        String tokyo = bed.run() + "-tokyo-gw";
        long first = publisher
                .publish(config(seoul, tokyo, false), "first")
                .revisions()
                .get(seoul)
                .id();
        String a = cluster(publisher, "kr-seoul-prod", seoul);
        ZoneCentral hub = opened(new ZoneCentral(
                PG.dataSource(),
                new io.meshguard.xds.store.PgRevisionStore(PG.dataSource()),
                new SimpleMeterRegistry(),
                new InetSocketAddress("127.0.0.1", 0),
                slow,
                Duration.ofHours(1)));
        hub.start();
        String token = publisher.registry.issue(a, Duration.ofHours(1), "test").secret();
        ZoneController zone = bed.zone("127.0.0.1:" + hub.port(), a, Optional.of(token), slow.echoInterval());
        await().ignoreExceptions().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(
                        zone.core().publisher().servedRevision(seoul))
                .contains(first));

        long second = publisher
                .publish(config(seoul, tokyo, true), "pushed")
                .revisions()
                .get(seoul)
                .id();

        await().ignoreExceptions().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(
                        zone.core().publisher().servedRevision(seoul))
                .contains(second));
        assertThat(zone.link().streamsOpened())
                .as("on the stream it had (after the registration stream), not a" + " redial")
                .isEqualTo(2);
    }

    @Test
    void centralStopped_newNodeGetsFullConfigFromZone_thenZoneResyncsWhenCentralReturns() throws Exception {
        Central central = central(0);
        int port = central.server.port();
        String seoul = bed.run() + "-seoul-gw";
        String tokyo = bed.run() + "-tokyo-gw";
        long first = central.publish(config(seoul, tokyo, false), "first")
                .revisions()
                .get(seoul)
                .id();
        String a = cluster(central, "kr-seoul-prod", seoul);
        ZoneController zone = registeredZone(central, a);
        AdsNode early = opened(new AdsNode(zone.adsPort(), "envoy-early", seoul));
        await().ignoreExceptions().atMost(Duration.ofSeconds(10)).until(early::configured);
        List<String> listeners = early.names.get(AdsNode.LDS);

        bed.closeNow(central);
        await().ignoreExceptions().atMost(Duration.ofSeconds(5)).until(() -> !zone.link()
                .connected());

        AdsNode joined = opened(new AdsNode(zone.adsPort(), "envoy-joined", seoul));
        await().ignoreExceptions().atMost(Duration.ofSeconds(5)).until(joined::configured);
        assertThat(joined.versions).isEqualTo(early.versions);
        assertThat(early.names.get(AdsNode.LDS))
                .as("a disconnect deletes nothing")
                .isEqualTo(listeners);
        assertThat(zone.core().publisher().servedRevision(seoul)).contains(first);

        // a zone restarted while central is away serves from its state directory
        bed.closeNow(zone);
        ZoneController restarted =
                zone("127.0.0.1:" + port, a, Optional.empty(), bed.dir().resolve(a));
        AdsNode afterRestart = opened(new AdsNode(restarted.adsPort(), "envoy-after-restart", seoul));
        await().ignoreExceptions().atMost(Duration.ofSeconds(5)).until(afterRestart::configured);
        assertThat(afterRestart.versions).isEqualTo(early.versions);

        Central back = central(port);
        long second = back.publish(config(seoul, tokyo, true), "while the zone was away")
                .revisions()
                .get(seoul)
                .id();
        await().ignoreExceptions().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(
                        restarted.core().publisher().servedRevision(seoul))
                .contains(second));
        await().ignoreExceptions().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(
                        afterRestart.versions.get(AdsNode.CDS))
                .isNotEqualTo(early.versions.get(AdsNode.CDS)));
        assertThat(restarted.link().refused()).isEmpty();
    }

    @Test
    void spentRegistrationToken_isRefused_andTheZoneStopsDialling() throws Exception {
        Central central = central(0);
        String seoul = bed.run() + "-seoul-gw";
        central.publish(config(seoul, bed.run() + "-tokyo-gw", false), "first");
        String a = cluster(central, "kr-seoul-prod", seoul);
        String token = central.registry.issue(a, Duration.ofHours(1), "test").secret();
        ZoneController first =
                zone(central.address(), a, Optional.of(token), bed.dir().resolve("first"));
        await().ignoreExceptions()
                .atMost(Duration.ofSeconds(10))
                .until(() -> first.core().publisher().servedRevision(seoul).isPresent());

        ZoneController second =
                zone(central.address(), a, Optional.of(token), bed.dir().resolve("second"));
        await().ignoreExceptions()
                .atMost(Duration.ofSeconds(10))
                .until(() -> second.link().refused().isPresent());
        assertThat(second.link().refused().get()).contains("used");
        assertThat(second.core().publisher().servedRevision(seoul)).isEmpty();
        assertThat(central.meters
                        .get("meshguard_xds_zone_registration_failures_total")
                        .tag("reason", "used")
                        .counter()
                        .count())
                .isEqualTo(1.0);
    }

    @Test
    void revokedCluster_isCutOffWithinFiveSeconds_evenWhenRevokedByAnotherReplica() throws Exception {
        Central central = central(0);
        String seoul = bed.run() + "-seoul-gw";
        central.publish(config(seoul, bed.run() + "-tokyo-gw", false), "first");
        String a = cluster(central, "kr-seoul-prod", seoul);
        ZoneController zone = registeredZone(central, a);
        await().ignoreExceptions()
                .atMost(Duration.ofSeconds(10))
                .until(() ->
                        central.board.zone(a).map(ZoneBoard.Zone::connected).orElse(false));

        // straight in the database, as another central replica's revoke would: this replica's tick sees it
        assertThat(new ZoneRegistry(PG.dataSource(), java.time.Clock.systemUTC(), Duration.ofHours(1)).revoke(a))
                .isTrue();

        await().ignoreExceptions()
                .atMost(Duration.ofSeconds(5))
                .until(() -> zone.link().refused().isPresent());
        assertThat(zone.link().refused().get()).contains("revoked");
        assertThat(central.board.zone(a).orElseThrow().connected()).isFalse();
        // the zone keeps serving what it holds: a revocation cuts the link, not the cluster's traffic
        assertThat(zone.core().publisher().servedRevision(seoul)).isPresent();
    }

    @Test
    void credential_isRotatedOverTheStream_andTheRotatedOneIsAcceptedOnReconnect() throws Exception {
        Central central = opened(new Central(PG.dataSource(), 0, Duration.ofSeconds(2), FAST));
        String seoul = bed.run() + "-seoul-gw";
        central.publish(config(seoul, bed.run() + "-tokyo-gw", false), "first");
        String a = cluster(central, "kr-seoul-prod", seoul);
        ZoneController zone = registeredZone(central, a);
        ZoneCredentialFile file = new ZoneCredentialFile(bed.dir().resolve(a));
        await().ignoreExceptions().atMost(Duration.ofSeconds(10)).until(() -> file.read()
                .isPresent());
        String firstCredential = file.read().orElseThrow().secret();

        await().ignoreExceptions()
                .atMost(Duration.ofSeconds(10))
                .until(() -> !file.read().orElseThrow().secret().equals(firstCredential));
        assertThat(zone.link().streamsOpened())
                .as("rotated on the open stream (after the registration stream)")
                .isEqualTo(2);
        assertThat(zone.link().connected()).isTrue();
        // long after the first credential expired, the stream still stands on the rotated ones
        Thread.sleep(2_500);
        assertThat(zone.link().connected()).isTrue();
        assertThat(zone.link().refused()).isEmpty();
        // expired, or ended already if the zone redialled with its successor
        assertThat(central.registry.verify(a, ZoneSettings.LOOPBACK_REPLICA, firstCredential))
                .isInstanceOf(ZoneRegistry.Refused.class);
    }

    @Test
    void streamThatStopsEchoing_isMarkedStale_whileTheTransportStaysUp() throws Exception {
        Central central = central(0);
        String a = cluster(central, "kr-seoul-prod", bed.run() + "-seoul-gw");
        String token = central.registry.issue(a, Duration.ofHours(1), "test").secret();
        String credential;
        try (RawZone registration = RawZone.registering(central.address(), a, token)) {
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> !registration.credentials().isEmpty());
            credential = registration.credentials().get(0);
        }
        try (SilentZone silent = new SilentZone(central.address(), a, credential)) {
            await().ignoreExceptions()
                    .atMost(Duration.ofSeconds(5))
                    .until(() ->
                            central.board.zone(a).map(ZoneBoard.Zone::connected).orElse(false));
            assertThat(central.board.zone(a).orElseThrow().stale()).isFalse();
            await().ignoreExceptions()
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> central.board.zone(a).orElseThrow().stale());
            assertThat(silent.closedWith())
                    .hasValueSatisfying(s -> assertThat(s).contains("stale"));
            assertThat(central.meters.get("meshguard_xds_zones_stale").gauge().value())
                    .isEqualTo(1.0);
        }
    }

    @Test
    void nodeThatKeepsAnOldRevision_isReportedAsDrift() throws Exception {
        Central central = central(0);
        String seoul = bed.run() + "-seoul-gw";
        String tokyo = bed.run() + "-tokyo-gw";
        central.publish(config(seoul, tokyo, false), "first");
        String a = cluster(central, "kr-seoul-prod", seoul);
        ZoneController zone = registeredZone(central, a);
        AdsNode stuck = opened(new AdsNode(zone.adsPort(), "envoy-stuck", seoul));
        await().ignoreExceptions().atMost(Duration.ofSeconds(10)).until(stuck::configured);
        stuck.close(); // gone: it keeps the revision it ACKed last

        long next = central.publish(config(seoul, tokyo, true), "second")
                .revisions()
                .get(seoul)
                .id();
        await().ignoreExceptions().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            ZoneProto.NodeReport n = central.board.zone(a).orElseThrow().nodes().stream()
                    .filter(x -> x.getNodeId().equals("envoy-stuck"))
                    .findFirst()
                    .orElseThrow();
            assertThat(n.getExpected()).isEqualTo(next);
            assertThat(NodeReports.drifted(n)).isTrue();
        });
        assertThat(central.meters
                        .get("meshguard_xds_zone_drifted_nodes")
                        .gauge()
                        .value())
                .isEqualTo(1.0);
    }

    @Test
    void explicitWithdrawal_isTheOneThingThatEmptiesAZonesGroup() throws Exception {
        Central central = central(0);
        String seoul = bed.run() + "-seoul-gw";
        central.publish(config(seoul, bed.run() + "-tokyo-gw", false), "first");
        String a = cluster(central, "kr-seoul-prod", seoul);
        ZoneController zone = registeredZone(central, a);
        AdsNode node = opened(new AdsNode(zone.adsPort(), "envoy-w", seoul));
        await().ignoreExceptions().atMost(Duration.ofSeconds(10)).until(node::configured);
        assertThat(node.names.get(AdsNode.LDS)).isNotEmpty();

        assertThat(central.registry.withdraw(a, seoul)).isTrue();

        await().ignoreExceptions().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            assertThat(node.names.get(AdsNode.LDS)).isEmpty();
            assertThat(node.names.get(AdsNode.CDS)).isEmpty();
        });
        assertThat(zone.held()).doesNotContainKey(seoul);
        await().ignoreExceptions().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(
                        central.board.zone(a).orElseThrow().applied())
                .doesNotContainKey(seoul));
        // and it stays withdrawn across a restart of the zone: its state directory no longer holds the group
        bed.closeNow(zone);
        ZoneController restarted =
                zone(central.address(), a, Optional.empty(), bed.dir().resolve(a));
        assertThat(restarted.core().publisher().servedRevision(seoul)).isEmpty();
    }
}
