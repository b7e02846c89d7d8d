package io.meshguard.catalog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SnapshotJsonTest {
    private static final Instant NOW = Instant.parse("2026-11-23T06:00:00Z");

    @Test
    void snapshot_roundTrips_andDecidesTheSameAfterwards() {
        PlanLimits limits = new PlanLimits(List.of(new Limit(10, Duration.ofSeconds(1))), Optional.empty());
        SubscriptionSnapshot s = new SubscriptionSnapshot(
                42,
                List.of(new ProductPublish(
                        "pub",
                        "payments",
                        "local",
                        Environment.DEV,
                        AuthMode.APIKEY,
                        PublishState.PUBLISHED,
                        PublishHost.of("payments", Environment.DEV, "local", "x.test"))),
                List.of(new Plan(
                        "free",
                        "payments",
                        "free",
                        PlanState.PUBLISHED,
                        limits,
                        Map.of("charge", limits),
                        Plan.Approval.AUTO,
                        Set.of(AuthMode.APIKEY))),
                List.of(new Application("app", "initech", "App", ApplicationState.ACTIVE)),
                List.of(new Credential(
                        "k1",
                        AuthMode.APIKEY,
                        "app",
                        CredentialState.ROTATING,
                        Optional.empty(),
                        Optional.of(NOW.plusSeconds(60)),
                        Set.of("s1"))),
                List.of(new Subscription("s1", "app", "pub", "free", SubscriptionState.ACTIVE)));
        ObjectNode json = SnapshotJson.encode(s);
        assertThat(json.toString()).doesNotContain("secret").doesNotContain("sha256");
        SubscriptionSnapshot back = SnapshotJson.decode(json);
        assertThat(back.version()).isEqualTo(42);
        assertThat(back.decide("pub", AuthMode.APIKEY, "k1", NOW))
                .isEqualTo(s.decide("pub", AuthMode.APIKEY, "k1", NOW));
        assertThat(back.decide("pub", AuthMode.APIKEY, "k1", NOW.plusSeconds(60)))
                .isEqualTo(s.decide("pub", AuthMode.APIKEY, "k1", NOW.plusSeconds(60)));
        assertThat(SnapshotJson.encode(back)).isEqualTo(json);
    }

    @Test
    void brokenSnapshot_isRefused_namingTheField() {
        ObjectNode json = SnapshotJson.encode(SubscriptionSnapshot.empty(1));
        json.remove("credentials");
        assertThatThrownBy(() -> SnapshotJson.decode(json)).hasMessageContaining("credentials: required list");
        ObjectNode bad = SnapshotJson.encode(SubscriptionSnapshot.empty(1));
        bad.withArray("applications")
                .addObject()
                .put("id", "a")
                .put("tenant", "t")
                .put("name", "n")
                .put("state", "deleted");
        assertThatThrownBy(() -> SnapshotJson.decode(bad)).hasMessageContaining("unknown value 'deleted'");
    }

    @Test
    void resource_roundTripsThroughItsStruct_andMalformedBytesAreRefusedWithTheReason() {
        SubscriptionSnapshot empty = SubscriptionSnapshot.empty(5);
        assertThat(SnapshotJson.fromResource(SnapshotJson.resource(empty)).version())
                .isEqualTo(5L);

        com.google.protobuf.Any malformed = com.google.protobuf.Any.newBuilder()
                .setTypeUrl("type.googleapis.com/google.protobuf.Struct")
                .setValue(com.google.protobuf.ByteString.copyFrom(new byte[] {(byte) 0x0a, (byte) 0xff, 0x01}))
                .build();
        assertThatThrownBy(() -> SnapshotJson.fromResource(malformed))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("the resource is not a google.protobuf.Struct: ");
    }
}
