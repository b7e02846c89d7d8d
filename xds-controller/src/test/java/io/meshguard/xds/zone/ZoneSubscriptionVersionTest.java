package io.meshguard.xds.zone;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.catalog.SnapshotMessage;
import io.meshguard.catalogmodel.Application;
import io.meshguard.catalogmodel.ApplicationState;
import io.meshguard.catalogmodel.SubscriptionSnapshot;
import io.meshguard.contract.subscription.v1.SubscriptionStateProto;
import io.meshguard.contract.zone.v1.ZoneProto;
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

    private static ZoneProto.SubscriptionState fromCentral(long centralVersion, String... applications) {
        SubscriptionSnapshot s = new SubscriptionSnapshot(
                centralVersion,
                List.of(),
                List.of(),
                java.util.Arrays.stream(applications)
                        .map(a -> new Application(a, "initech", a, ApplicationState.ACTIVE))
                        .toList(),
                List.of(),
                List.of());
        return ZoneProto.SubscriptionState.newBuilder()
                .setVersion(centralVersion)
                .setState(SnapshotMessage.write(s))
                .build();
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

    @Test
    void stateWithoutItsMessage_isRefused_andTheKeptOneStillServed() {
        ZoneSubscriptionState zone = new ZoneSubscriptionState(state, new SubscriptionStateService());
        zone.accept(fromCentral(100, "app"));
        long served = zone.version().orElseThrow();

        // what a central of the release that sent JSON text looks like to this zone: field 2 unknown, no state
        ZoneProto.SubscriptionState older = ZoneProto.SubscriptionState.newBuilder()
                .setVersion(101)
                .setUnknownFields(com.google.protobuf.UnknownFieldSet.newBuilder()
                        .addField(
                                2,
                                com.google.protobuf.UnknownFieldSet.Field.newBuilder()
                                        .addLengthDelimited(
                                                com.google.protobuf.ByteString.copyFromUtf8("{\"version\":101}"))
                                        .build())
                        .build())
                .build();

        assertThat(zone.accept(older)).contains("subscription state 101 carries no state message");
        assertThat(zone.version()).contains(served);
    }

    @Test
    void keptStateIsTheMessage_andTheOldJsonFileIsRemovedOnceReplaced() throws Exception {
        java.nio.file.Files.writeString(state.resolve("subscription-state.json"), "{\"served_version\":1}");
        ZoneSubscriptionState zone = new ZoneSubscriptionState(state, new SubscriptionStateService());
        zone.restore();
        assertThat(zone.version()).as("the old JSON file is not read").isEmpty();

        zone.accept(fromCentral(100, "app"));

        SubscriptionSnapshot kept = SnapshotMessage.read(SubscriptionStateProto.SubscriptionState.parseFrom(
                java.nio.file.Files.readAllBytes(state.resolve("subscription-state.binpb"))));
        assertThat(kept.version()).isEqualTo(zone.version().orElseThrow());
        assertThat(kept.applications()).extracting(Application::id).containsExactly("app");
        assertThat(state.resolve("subscription-state.json")).doesNotExist();
    }
}
