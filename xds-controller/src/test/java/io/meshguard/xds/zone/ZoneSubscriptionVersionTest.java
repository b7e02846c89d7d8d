package io.meshguard.xds.zone;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.catalog.Application;
import io.meshguard.catalog.ApplicationState;
import io.meshguard.catalog.SnapshotJson;
import io.meshguard.catalog.SubscriptionSnapshot;
import io.meshguard.contract.zone.ZoneDown;
import io.meshguard.xds.subscription.SubscriptionStateService;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The version a zone serves its cluster's extauthz replicas moves only when the content does: central re-sends the
 * state on every new stream (after an outage) and numbers it afresh when it restarts, and a restarted zone serves
 * its kept state again; none of that is a change to what the replicas decide from. Found by the cluster in a box's
 * zone journey: the version moved during a central outage with unchanged content.
 */
class ZoneSubscriptionVersionTest {
    @TempDir
    Path state;

    private static ZoneDown.SubscriptionState fromCentral(long centralVersion, String... applications) {
        SubscriptionSnapshot s = new SubscriptionSnapshot(
                centralVersion,
                List.of(),
                List.of(),
                java.util.Arrays.stream(applications)
                        .map(a -> new Application(a, "initech", a, ApplicationState.ACTIVE))
                        .toList(),
                List.of(),
                List.of());
        return new ZoneDown.SubscriptionState(
                centralVersion, SnapshotJson.encode(s).toString());
    }

    @Test
    void centralResendingOrRenumberingTheSameState_keepsTheZonesVersion_aChangeMovesIt() {
        ZoneSubscriptionState zone = new ZoneSubscriptionState(state, new SubscriptionStateService());
        assertThat(zone.accept(fromCentral(100, "app"))).isEmpty();
        long first = zone.version().orElseThrow();

        assertThat(zone.accept(fromCentral(100, "app"))).isEmpty();
        assertThat(zone.accept(fromCentral(5_000, "app"))).isEmpty();
        assertThat(zone.version()).contains(first);

        assertThat(zone.accept(fromCentral(5_001, "app", "app2"))).isEmpty();
        assertThat(zone.version().orElseThrow()).isGreaterThan(first);
    }

    @Test
    void aRestartedZone_servesItsKeptStateUnderTheVersionItHad_andCentralsResendKeepsIt() {
        ZoneSubscriptionState before = new ZoneSubscriptionState(state, new SubscriptionStateService());
        before.accept(fromCentral(100, "app"));
        long served = before.version().orElseThrow();

        ZoneSubscriptionState restarted = new ZoneSubscriptionState(state, new SubscriptionStateService());
        restarted.restore();
        assertThat(restarted.version()).contains(served);
        restarted.accept(fromCentral(9_999, "app"));
        assertThat(restarted.version()).contains(served);
        restarted.accept(fromCentral(10_000, "other"));
        assertThat(restarted.version().orElseThrow()).isGreaterThan(served);
        assertThat(restarted.version()).isNotEqualTo(Optional.of(served));
    }
}
