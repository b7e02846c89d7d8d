package io.meshguard.xds.zone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A zone credential that would multiply, over real gRPC on loopback and a real PostgreSQL: one live stream
 * per zone replica, on one central replica or two, while two legitimate replicas of a cluster each keep their own
 *; a rotated credential, once the zone uses it, ends its predecessor, so a copy of the older one stops
 * working; and a registration token is spent only when the zone presents the credential it bought.
 */
@IntegrationTest
class ZoneCredentialTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @RegisterExtension
    final ZoneTestbed bed = new ZoneTestbed(PG, "c");

    @Test
    void secondHello_withTheSameCredential_closesTheFirstStream() throws Exception {
        Central central = bed.opened(new Central(PG.dataSource(), 0, Duration.ofMinutes(10), ZoneTestbed.FAST));
        String cluster = bed.cluster(central.registry, "solo", "solo-group");
        String token =
                central.registry.issue(cluster, Duration.ofHours(1), "test").secret();
        RawZone zone = bed.opened(RawZone.registered(central.address(), cluster, token));
        await().atMost(Duration.ofSeconds(5)).until(zone::answered);

        RawZone copy = bed.opened(RawZone.presenting(
                central.address(), cluster, zone.credentials().get(0)));
        await().atMost(Duration.ofSeconds(5)).until(() -> zone.closedWith().isPresent());
        assertThat(zone.closedWith().get()).contains("ABORTED").contains("took over");
        assertThat(copy.answered()).isTrue();
        Thread.sleep(500);
        assertThat(copy.closedWith())
                .as("the newer stream is the one live stream")
                .isEmpty();
    }

    @Test
    void secondHello_onAnotherCentralReplica_closesTheFirstStreamAtItsTick() throws Exception {
        Central a = bed.opened(new Central(PG.dataSource(), 0, Duration.ofMinutes(10), ZoneTestbed.FAST));
        Central b = bed.opened(new Central(PG.dataSource(), 0, Duration.ofMinutes(10), ZoneTestbed.FAST));
        String cluster = bed.cluster(a.registry, "pair", "pair-group");
        String token = a.registry.issue(cluster, Duration.ofHours(1), "test").secret();
        RawZone zone = bed.opened(RawZone.registered(a.address(), cluster, token));
        await().atMost(Duration.ofSeconds(5)).until(zone::answered);

        RawZone copy = bed.opened(
                RawZone.presenting(b.address(), cluster, zone.credentials().get(0)));
        await().atMost(Duration.ofSeconds(5)).until(() -> zone.closedWith().isPresent());
        assertThat(zone.closedWith().get()).contains("took over");
        assertThat(copy.closedWith()).isEmpty();
    }

    @Test
    void rotatedCredential_onceUsed_endsItsPredecessor_soACopyOfTheOlderOneIsRefused() throws Exception {
        // rotated at half its lifetime: after 3 s, while the first credential would live 6 s
        Central central = bed.opened(new Central(PG.dataSource(), 0, Duration.ofSeconds(6), ZoneTestbed.FAST));
        String cluster = bed.cluster(central.registry, "rot", "rot-group");
        String token =
                central.registry.issue(cluster, Duration.ofHours(1), "test").secret();
        RawZone zone = bed.opened(RawZone.registered(central.address(), cluster, token));
        await().atMost(Duration.ofSeconds(6)).until(() -> zone.credentials().size() >= 2);
        String first = zone.credentials().get(0);
        String successor = zone.credentials().get(1);
        bed.closeNow(zone);

        // the zone redials with its successor; the copied first credential ends with that use
        RawZone redialed = bed.opened(RawZone.presenting(central.address(), cluster, successor));
        await().atMost(Duration.ofSeconds(5)).until(redialed::answered);
        assertThat(central.registry.verify(cluster, ZoneSettings.LOOPBACK_REPLICA, first))
                .isEqualTo(new ZoneRegistry.Refused(ZoneRegistry.Refusal.UNKNOWN));
        RawZone copy = bed.opened(RawZone.presenting(central.address(), cluster, first));
        await().atMost(Duration.ofSeconds(5)).until(() -> copy.closedWith().isPresent());
        assertThat(copy.closedWith().get()).contains("UNAUTHENTICATED").contains("unknown");
        assertThat(redialed.closedWith())
                .as("the zone's own stream keeps following")
                .isEmpty();
    }

    /**
     * Two legitimate replicas of one cluster (a token each) follow central side by side, each on its own stream; a
     * copy of replica A's credential presented as A takes A's stream only (logged, counted), and presented as a
     * replica of its own it is refused: a copy never adds a stream.
     */
    @Test
    void twoReplicasOfACluster_eachKeepsItsStream_andACopyTakesOverOnlyTheReplicaItWasCopiedFrom() throws Exception {
        Central central = bed.opened(new Central(PG.dataSource(), 0, Duration.ofMinutes(10), ZoneTestbed.FAST));
        String cluster = bed.cluster(central.registry, "pair", "pair-group");
        RawZone a = bed.opened(RawZone.registered(
                central.address(),
                cluster,
                "zone-a",
                central.registry.issue(cluster, Duration.ofHours(1), "test").secret()));
        RawZone b = bed.opened(RawZone.registered(
                central.address(),
                cluster,
                "zone-b",
                central.registry.issue(cluster, Duration.ofHours(1), "test").secret()));
        await().atMost(Duration.ofSeconds(5)).until(() -> a.answered() && b.answered());
        Thread.sleep(3 * ZoneTestbed.FAST.tick().toMillis());
        assertThat(a.closedWith())
                .as("a second replica's hello does not close the first replica")
                .isEmpty();
        assertThat(b.closedWith()).isEmpty();
        assertThat(central.board.replicas(cluster))
                .extracting(ZoneBoard.Zone::replica)
                .containsExactly("zone-a", "zone-b");

        RawZone elsewhere = bed.opened(RawZone.presenting(
                central.address(), cluster, "zone-c", a.credentials().get(0)));
        await().atMost(Duration.ofSeconds(5)).until(() -> elsewhere.closedWith().isPresent());
        assertThat(elsewhere.closedWith().get()).contains("UNAUTHENTICATED").contains("wrong_replica");
        assertThat(central.meters
                        .get("meshguard_xds_zone_registration_failures_total")
                        .tag("reason", "wrong_replica")
                        .counter()
                        .count())
                .isEqualTo(1.0);

        RawZone copy = bed.opened(RawZone.presenting(
                central.address(), cluster, "zone-a", a.credentials().get(0)));
        await().atMost(Duration.ofSeconds(5)).until(() -> a.closedWith().isPresent());
        assertThat(a.closedWith().get()).contains("ABORTED").contains("took over");
        assertThat(central.meters
                        .get("meshguard_xds_zone_stream_takeovers_total")
                        .counter()
                        .count())
                .isEqualTo(1.0);
        Thread.sleep(3 * ZoneTestbed.FAST.tick().toMillis());
        assertThat(copy.closedWith()).isEmpty();
        assertThat(b.closedWith())
                .as("the other replica's stream is not the copy's business")
                .isEmpty();
    }

    /**
     * Under load a slow first answer spent a registration token on a stream the zone had already cancelled,
     * and its retry was refused "used" for good. Central's exchange is held up here by a real row lock on the token
     * (what a busy database does) while the zone cancels; the exchange then completes on the dead stream. The zone's
     * retry with the same token registers, the token is spent by that use, and once spent it buys nothing more.
     */
    @Test
    void zoneThatCancelsRightAfterSendingItsToken_retriesWithTheSameToken_andRegisters() throws Exception {
        Central central = bed.opened(new Central(PG.dataSource(), 0, Duration.ofMinutes(10), ZoneTestbed.FAST));
        String cluster = bed.cluster(central.registry, "slow", "slow-group");
        String token =
                central.registry.issue(cluster, Duration.ofHours(1), "test").secret();
        RawZone gaveUp;
        try (java.sql.Connection lock = PG.dataSource().getConnection()) {
            lock.setAutoCommit(false);
            try (var ps = lock.prepareStatement("select 1 from zone_registration where token_sha256 = ? for update")) {
                ps.setString(1, ZoneSecrets.sha256(token));
                ps.executeQuery().close();
            }
            gaveUp = bed.opened(RawZone.registering(central.address(), cluster, token));
            awaitWaitingOnTheLock(token);
            gaveUp.cancel();
            Thread.sleep(100);
            lock.commit(); // central's exchange goes on, on a stream the zone cancelled
        }
        Thread.sleep(300);
        assertThat(gaveUp.credentials())
                .as("the cancelled stream carried nothing to the zone")
                .isEmpty();

        RawZone retry = bed.opened(RawZone.registered(central.address(), cluster, token));
        await().atMost(Duration.ofSeconds(5)).until(retry::answered);
        assertThat(retry.closedWith()).isEmpty();

        RawZone late = bed.opened(RawZone.registering(central.address(), cluster, token));
        await().atMost(Duration.ofSeconds(5)).until(() -> late.closedWith().isPresent());
        assertThat(late.closedWith().get())
                .as("spent by the zone's use")
                .contains("UNAUTHENTICATED")
                .contains("used");
        assertThat(late.credentials()).isEmpty();
    }

    /**
     * A token exchanged twice before it is used (a thief and the zone, or a retry) buys two credentials, but only the
     * first presented starts a lineage: that use ends the other, which is refused when presented, so one token is
     * still one replica.
     */
    @Test
    void tokenExchangedTwiceBeforeUse_onlyTheFirstCredentialPresentedFollows_theOtherIsRefused() throws Exception {
        Central central = bed.opened(new Central(PG.dataSource(), 0, Duration.ofMinutes(10), ZoneTestbed.FAST));
        String cluster = bed.cluster(central.registry, "race", "race-group");
        String token =
                central.registry.issue(cluster, Duration.ofHours(1), "test").secret();
        RawZone zoneExchange = bed.opened(RawZone.registering(central.address(), cluster, "zone-0", token));
        RawZone thiefExchange = bed.opened(RawZone.registering(central.address(), cluster, "zone-9", token));
        await().atMost(Duration.ofSeconds(5))
                .until(() -> !zoneExchange.credentials().isEmpty()
                        && !thiefExchange.credentials().isEmpty());

        RawZone zone = bed.opened(RawZone.presenting(
                central.address(), cluster, "zone-0", zoneExchange.credentials().get(0)));
        await().atMost(Duration.ofSeconds(5)).until(zone::answered);
        RawZone thief = bed.opened(RawZone.presenting(
                central.address(),
                cluster,
                "zone-9",
                thiefExchange.credentials().get(0)));
        await().atMost(Duration.ofSeconds(5)).until(() -> thief.closedWith().isPresent());
        assertThat(thief.closedWith().get()).contains("UNAUTHENTICATED");
        assertThat(central.registry.verify(
                        cluster, "zone-9", thiefExchange.credentials().get(0)))
                .isEqualTo(new ZoneRegistry.Refused(ZoneRegistry.Refusal.UNKNOWN));
        assertThat(zone.closedWith()).isEmpty();
    }

    /** Central's exchange waits on the test's row lock (pg_stat_activity shows it blocked). */
    private static void awaitWaitingOnTheLock(String token) {
        await().atMost(Duration.ofSeconds(5)).until(() -> {
            try (var c = PG.dataSource().getConnection();
                    var st = c.createStatement();
                    var rs = st.executeQuery("select count(*) from pg_stat_activity where wait_event_type = 'Lock'"
                            + " and query like '%zone_registration%'")) {
                return rs.next() && rs.getInt(1) > 0;
            }
        });
    }
}
