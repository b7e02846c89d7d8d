package io.meshguard.xds.zone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariDataSource;
import io.meshguard.catalog.CatalogStore;
import io.meshguard.catalogmodel.Cluster;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.MovableClock;
import io.meshguard.testing.PostgresExtension;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Registration tokens and zone credentials against a real, migrated PostgreSQL (V49). */
@IntegrationTest
class ZoneRegistryTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    private static final AtomicInteger N = new AtomicInteger();
    private static HikariDataSource ds;

    /** Expiry is decided by the registry's clock, never by waiting. */
    private final MovableClock clock = new MovableClock(Instant.parse("2026-11-23T12:00:00Z"));

    private ZoneRegistry registry;
    private String cluster;

    @BeforeAll
    static void database() {
        ds = PG.dataSource();
    }

    @BeforeEach
    void cluster() {
        registry = new ZoneRegistry(ds, clock, Duration.ofHours(1));
        cluster = "kr-seoul-prod-" + N.incrementAndGet();
        new CatalogStore(ds).putCluster(new Cluster(cluster, "kr-seoul", Optional.of("aws"), Set.of()));
    }

    @Test
    void registrationToken_spentByTheFirstUseOfItsCredential_thenRefusedAsUsed() {
        String token = registry.issue(cluster, Duration.ofHours(24), "ops").secret();

        ZoneRegistry.Admission first = registry.exchange(cluster, "zone-0", token);
        ZoneRegistry.Admission retried = registry.exchange(cluster, "zone-0", token);
        String used = ((ZoneRegistry.Admitted) retried).credential().secret();
        ZoneRegistry.Settlement settled = registry.settle(cluster, "zone-0", used);
        ZoneRegistry.Admission again = registry.exchange(cluster, "zone-0", token);

        assertThat(first).isInstanceOfSatisfying(ZoneRegistry.Admitted.class, a -> {
            assertThat(a.credential().expiresAt()).isEqualTo(clock.instant().plus(Duration.ofHours(1)));
            assertThat(registry.verify(cluster, "zone-0", a.credential().secret()))
                    .as("ended by the other's use")
                    .isEqualTo(new ZoneRegistry.Refused(ZoneRegistry.Refusal.UNKNOWN));
        });
        assertThat(settled).isEqualTo(new ZoneRegistry.Settlement(Optional.empty(), 1));
        assertThat(registry.verify(cluster, "zone-0", used)).isInstanceOf(ZoneRegistry.Admitted.class);
        assertThat(again).isEqualTo(new ZoneRegistry.Refused(ZoneRegistry.Refusal.USED));
    }

    @Test
    void credentialsOfOneToken_bothVerified_onlyTheFirstSettles_theOtherIsGone() {
        String token = registry.issue(cluster, Duration.ofHours(1), "ops").secret();
        String mine = ((ZoneRegistry.Admitted) registry.exchange(cluster, "zone-0", token))
                .credential()
                .secret();
        String theirs = ((ZoneRegistry.Admitted) registry.exchange(cluster, "zone-1", token))
                .credential()
                .secret();
        // both verified before either settled (two central replicas at once): the settle decides
        assertThat(registry.verify(cluster, "zone-1", theirs)).isInstanceOf(ZoneRegistry.Admitted.class);

        assertThat(registry.settle(cluster, "zone-0", mine).refused()).isEmpty();
        assertThat(registry.settle(cluster, "zone-1", theirs).refused()).contains(ZoneRegistry.Refusal.UNKNOWN);
        assertThat(registry.verify(cluster, "zone-1", theirs))
                .isEqualTo(new ZoneRegistry.Refused(ZoneRegistry.Refusal.UNKNOWN));
    }

    @Test
    void replicasOfOneCluster_eachHaveALineage_aRotationEndsOnlyItsOwnPredecessors() {
        String a = settled("zone-a");
        String b = settled("zone-b");
        clock.advance(Duration.ofMinutes(30));
        String aNext = registry.rotate(cluster, "zone-a").secret();

        assertThat(registry.settle(cluster, "zone-a", aNext))
                .isEqualTo(new ZoneRegistry.Settlement(Optional.empty(), 1));
        assertThat(registry.verify(cluster, "zone-a", a))
                .isEqualTo(new ZoneRegistry.Refused(ZoneRegistry.Refusal.UNKNOWN));
        assertThat(registry.verify(cluster, "zone-b", b)).isInstanceOf(ZoneRegistry.Admitted.class);
        assertThat(registry.verify(cluster, "zone-c", b))
                .as("a replica's credential is its own")
                .isEqualTo(new ZoneRegistry.Refused(ZoneRegistry.Refusal.WRONG_REPLICA));
        long first = registry.takeStream(cluster, "zone-a");
        long other = registry.takeStream(cluster, "zone-b");
        assertThat(registry.holdsStream(cluster, "zone-a", first))
                .as("another replica's hello takes its own stream")
                .isTrue();
        assertThat(registry.holdsStream(cluster, "zone-b", other)).isTrue();
        registry.takeStream(cluster, "zone-a");
        assertThat(registry.holdsStream(cluster, "zone-a", first))
                .as("the same replica's second hello takes it")
                .isFalse();
    }

    @Test
    void replicaRegisteredAgain_endsItsOldLineageOnFirstUse() {
        String old = settled("zone-a");
        String fresh = settled("zone-a");

        assertThat(registry.verify(cluster, "zone-a", old))
                .isEqualTo(new ZoneRegistry.Refused(ZoneRegistry.Refusal.UNKNOWN));
        assertThat(registry.verify(cluster, "zone-a", fresh)).isInstanceOf(ZoneRegistry.Admitted.class);
    }

    @Test
    void credentialFromBeforeReplicas_isClaimedByTheFirstReplicaThatPresentsIt() throws Exception {
        String legacy = settled("");
        assertThat(registry.verify(cluster, "meshguard-xds-zone-0", legacy)).isInstanceOf(ZoneRegistry.Admitted.class);
        assertThat(registry.verify(cluster, "meshguard-xds-zone-1", legacy))
                .isEqualTo(new ZoneRegistry.Refused(ZoneRegistry.Refusal.WRONG_REPLICA));
    }

    /** A credential of {@code replica} from a new token, used once (the token spent). */
    private String settled(String replica) {
        String token = registry.issue(cluster, Duration.ofHours(1), "ops").secret();
        String credential = ((ZoneRegistry.Admitted) registry.exchange(cluster, replica, token))
                .credential()
                .secret();
        assertThat(registry.settle(cluster, replica, credential).refused()).isEmpty();
        return credential;
    }

    @Test
    void registrationToken_pastItsTtl_isRefusedAsExpired() {
        String token = registry.issue(cluster, Duration.ofMinutes(10), "ops").secret();
        clock.advance(Duration.ofMinutes(11));

        assertThat(registry.exchange(cluster, token)).isEqualTo(new ZoneRegistry.Refused(ZoneRegistry.Refusal.EXPIRED));
    }

    @Test
    void registrationToken_ofAnotherCluster_orMadeUp_isRefused() {
        String token = registry.issue(cluster, Duration.ofHours(1), "ops").secret();

        assertThat(registry.exchange("someone-else", token))
                .isEqualTo(new ZoneRegistry.Refused(ZoneRegistry.Refusal.WRONG_CLUSTER));
        assertThat(registry.exchange(cluster, token + "x"))
                .isEqualTo(new ZoneRegistry.Refused(ZoneRegistry.Refusal.UNKNOWN));
    }

    @Test
    void ttlLongerThanADay_orCredentialLongerThanAnHour_isRefusedUpFront() {
        assertThatThrownBy(() -> registry.issue(cluster, Duration.ofHours(25), "ops"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ZoneRegistry(ds, clock, Duration.ofMinutes(61)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void tokensAndCredentials_areStoredOnlyAsDigests() throws Exception {
        String token = registry.issue(cluster, Duration.ofHours(1), "ops").secret();
        String credential = ((ZoneRegistry.Admitted) registry.exchange(cluster, token))
                .credential()
                .secret();

        try (Connection c = ds.getConnection();
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("select r.token_sha256, z.credential_sha256 from zone_registration r"
                        + " join zone_credential z on z.cluster_id = r.cluster_id where r.cluster_id = '" + cluster
                        + "'")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo(ZoneSecrets.sha256(token)).doesNotContain(token);
            assertThat(rs.getString(2)).isEqualTo(ZoneSecrets.sha256(credential));
        }
    }

    @Test
    void credential_expiresAfterItsLifetime_andRotationGivesAFreshOne() {
        String token = registry.issue(cluster, Duration.ofHours(1), "ops").secret();
        String first = ((ZoneRegistry.Admitted) registry.exchange(cluster, token))
                .credential()
                .secret();
        clock.advance(Duration.ofMinutes(30));
        ZoneRegistry.Credential next = registry.rotate(cluster, "");
        clock.advance(Duration.ofMinutes(31));

        assertThat(registry.verify(cluster, first)).isEqualTo(new ZoneRegistry.Refused(ZoneRegistry.Refusal.EXPIRED));
        assertThat(registry.verify(cluster, next.secret())).isInstanceOf(ZoneRegistry.Admitted.class);
    }

    @Test
    void revokedCluster_refusesItsCredentials_untilRegisteredAgain_whichKeepsTheOldOnesDead() {
        String token = registry.issue(cluster, Duration.ofHours(1), "ops").secret();
        String unspent = registry.issue(cluster, Duration.ofHours(1), "ops").secret();
        String credential = ((ZoneRegistry.Admitted) registry.exchange(cluster, token))
                .credential()
                .secret();

        assertThat(registry.revoke(cluster)).isTrue();

        assertThat(registry.verify(cluster, credential))
                .isEqualTo(new ZoneRegistry.Refused(ZoneRegistry.Refusal.REVOKED));
        assertThat(registry.exchange(cluster, unspent))
                .isEqualTo(new ZoneRegistry.Refused(ZoneRegistry.Refusal.UNKNOWN));
        String fresh = registry.issue(cluster, Duration.ofHours(1), "ops").secret();
        assertThat(registry.verify(cluster, credential)).isInstanceOf(ZoneRegistry.Refused.class);
        assertThat(registry.exchange(cluster, fresh)).isInstanceOf(ZoneRegistry.Admitted.class);
    }

    @Test
    void clusterGroups_areAssignedOnes_andAWithdrawalIsKeptAsSuch() {
        registry.assign(cluster, "seoul-gw");
        registry.assign(cluster, "batch-gw");

        assertThat(registry.withdraw(cluster, "batch-gw")).isTrue();
        assertThat(registry.withdraw(cluster, "batch-gw")).as("once").isFalse();

        assertThat(registry.groups(cluster))
                .isEqualTo(new ZoneRegistry.ClusterGroups(Set.of("seoul-gw"), Set.of("batch-gw")));
    }

    /**
     * A zone serves what an operator assigned to its cluster only: a publish row naming another group (one written
     * before publishes were placed, or around the catalogue) does not hand the zone that group's routes.
     */
    @Test
    void clusterGroups_neverIncludeAGroupOnlyAPublishNames() throws Exception {
        registry.assign(cluster, "seoul-gw");
        try (var c = ds.getConnection();
                var s = c.createStatement()) {
            s.execute("insert into tenant (id) values ('acme') on conflict do nothing");
            s.execute("insert into product (id, tenant, name, state, updated_by) values ('" + cluster + "', 'acme',"
                    + " 'P', 'published', 'test')");
            s.execute("insert into product_publish (id, product_id, cluster_id, environment, auth_mode, state, host,"
                    + " gateway_group) values ('" + cluster + "-dev', '" + cluster + "', '" + cluster + "', 'dev',"
                    + " 'apikey', 'published', '" + cluster + ".dev.kr-seoul.api.example.test', 'tokyo-gw')");
        }
        assertThat(registry.groups(cluster)).isEqualTo(new ZoneRegistry.ClusterGroups(Set.of("seoul-gw"), Set.of()));
    }
}
