package io.meshguard.catalog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Struct;
import io.meshguard.catalogmodel.AccessDecision;
import io.meshguard.catalogmodel.Application;
import io.meshguard.catalogmodel.ApplicationState;
import io.meshguard.catalogmodel.AuthMode;
import io.meshguard.catalogmodel.CalendarQuota;
import io.meshguard.catalogmodel.Credential;
import io.meshguard.catalogmodel.CredentialState;
import io.meshguard.catalogmodel.DenyReason;
import io.meshguard.catalogmodel.Environment;
import io.meshguard.catalogmodel.Limit;
import io.meshguard.catalogmodel.Plan;
import io.meshguard.catalogmodel.PlanLimits;
import io.meshguard.catalogmodel.PlanState;
import io.meshguard.catalogmodel.ProductPublish;
import io.meshguard.catalogmodel.PublishHost;
import io.meshguard.catalogmodel.PublishState;
import io.meshguard.catalogmodel.Subscription;
import io.meshguard.catalogmodel.SubscriptionSnapshot;
import io.meshguard.catalogmodel.SubscriptionState;
import io.meshguard.contract.subscription.v1.SubscriptionStateProto;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SnapshotMessageTest {
    private static final Instant NOW = Instant.parse("2026-11-23T06:00:00Z");

    private static SubscriptionSnapshot sample() {
        PlanLimits limits = new PlanLimits(
                List.of(new Limit(10, Duration.ofSeconds(1)), new Limit(500, Duration.ofMinutes(1))),
                Optional.of(new CalendarQuota(CalendarQuota.Period.MONTH, 1000, ZoneId.of("Europe/Paris"), false)));
        return new SubscriptionSnapshot(
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
                        Map.of("charge", new PlanLimits(List.of(new Limit(1, Duration.ofHours(1))), Optional.empty())),
                        Plan.Approval.AUTO,
                        Set.of(AuthMode.APIKEY, AuthMode.OAUTH2))),
                List.of(
                        new Application("app", "initech", "App", ApplicationState.ACTIVE),
                        new Application("other", "globex", "Other", ApplicationState.SUSPENDED)),
                List.of(
                        new Credential(
                                "k1",
                                AuthMode.APIKEY,
                                "app",
                                CredentialState.ROTATING,
                                Optional.empty(),
                                Optional.of(NOW.plusSeconds(60)),
                                Set.of("s1")),
                        new Credential(
                                "k2",
                                AuthMode.APIKEY,
                                "other",
                                CredentialState.ACTIVE,
                                Optional.of(NOW.plusSeconds(3600)),
                                Optional.empty(),
                                Set.of())),
                List.of(
                        new Subscription("s1", "app", "pub", "free", SubscriptionState.ACTIVE),
                        new Subscription("s2", "other", "pub", "free", SubscriptionState.PENDING)));
    }

    @Test
    void snapshot_roundTrips_andDecidesTheSameAfterwards() {
        SubscriptionSnapshot s = sample();
        SubscriptionStateProto.SubscriptionState message = SnapshotMessage.write(s);
        SubscriptionSnapshot back = SnapshotMessage.read(message);
        assertThat(back.version()).isEqualTo(42);
        assertThat(back.sameContentAs(s)).isTrue();
        for (Instant at : List.of(NOW, NOW.plusSeconds(60), NOW.plusSeconds(7200))) {
            for (String key : List.of("k1", "k2", "unknown")) {
                assertThat(back.decide("pub", AuthMode.APIKEY, key, at))
                        .isEqualTo(s.decide("pub", AuthMode.APIKEY, key, at));
            }
        }
        assertThat(SnapshotMessage.write(back)).isEqualTo(message);
    }

    @Test
    void message_groupsWhatATenantHolds_underItsTenant_andCarriesNoSecret() {
        SubscriptionStateProto.SubscriptionState message = SnapshotMessage.write(sample());
        assertThat(message.getTenantsList())
                .extracting(SubscriptionStateProto.TenantState::getTenant)
                .containsExactly("globex", "initech");
        SubscriptionStateProto.TenantState initech = message.getTenants(1);
        assertThat(initech.getApplicationsList()).extracting(a -> a.getId()).containsExactly("app");
        assertThat(initech.getCredentialsList()).extracting(c -> c.getId()).containsExactly("k1");
        assertThat(initech.getSubscriptionsList()).extracting(x -> x.getId()).containsExactly("s1");
        assertThat(message.getPublishesList()).extracting(p -> p.getId()).containsExactly("pub");
        // a credential message has no field that could hold a hash or secret: only id, kind, application, state, times
        assertThat(SubscriptionStateProto.Credential.getDescriptor().getFields())
                .extracting(f -> f.getName())
                .containsExactly(
                        "id", "kind", "application_id", "state", "expires_at", "overlap_ends_at", "subscription_ids");
    }

    @Test
    void credentialOrSubscriptionOfAnApplicationNotHeld_roundTripsUnderTheEmptyTenant() {
        SubscriptionSnapshot orphan = new SubscriptionSnapshot(
                3,
                List.of(),
                List.of(new Plan(
                        "p",
                        "prod",
                        "p",
                        PlanState.PUBLISHED,
                        PlanLimits.NONE,
                        Map.of(),
                        Plan.Approval.MANUAL,
                        Set.of(AuthMode.APIKEY))),
                List.of(),
                List.of(new Credential(
                        "k",
                        AuthMode.APIKEY,
                        "gone",
                        CredentialState.ACTIVE,
                        Optional.empty(),
                        Optional.empty(),
                        Set.of())),
                List.of(new Subscription("s", "gone", "pub", "p", SubscriptionState.ACTIVE)));
        SubscriptionStateProto.SubscriptionState message = SnapshotMessage.write(orphan);
        assertThat(message.getTenantsList()).singleElement().satisfies(t -> assertThat(t.getTenant())
                .isEmpty());
        assertThat(SnapshotMessage.read(message).sameContentAs(orphan)).isTrue();
    }

    @Test
    void everyCatalogueEnumValue_hasItsMessageValue_andBack() {
        assertRoundTrip(AuthMode.class, SubscriptionStateProto.AuthMode.class, "AUTH_MODE_");
        assertRoundTrip(Environment.class, SubscriptionStateProto.Environment.class, "ENVIRONMENT_");
        assertRoundTrip(PublishState.class, SubscriptionStateProto.Publish.State.class, "STATE_");
        assertRoundTrip(PlanState.class, SubscriptionStateProto.Plan.State.class, "STATE_");
        assertRoundTrip(Plan.Approval.class, SubscriptionStateProto.Plan.Approval.class, "APPROVAL_");
        assertRoundTrip(CalendarQuota.Period.class, SubscriptionStateProto.CalendarQuota.Period.class, "PERIOD_");
        assertRoundTrip(ApplicationState.class, SubscriptionStateProto.Application.State.class, "STATE_");
        assertRoundTrip(CredentialState.class, SubscriptionStateProto.Credential.State.class, "STATE_");
        assertRoundTrip(SubscriptionState.class, SubscriptionStateProto.Subscription.State.class, "STATE_");
    }

    private static <E extends Enum<E>, P extends Enum<P>> void assertRoundTrip(
            Class<E> local, Class<P> wire, String prefix) {
        for (E value : local.getEnumConstants()) {
            assertThat(SnapshotMessage.local(local, prefix, SnapshotMessage.wire(wire, prefix, value), "x"))
                    .isEqualTo(value);
        }
        // the message enum has nothing the catalogue lacks, besides UNSPECIFIED and protobuf's UNRECOGNIZED
        assertThat(wire.getEnumConstants()).hasSize(local.getEnumConstants().length + 2);
    }

    @Test
    void unspecifiedOrUnknownState_makesItsTenantAloneUnreadable_namingTheField() {
        SubscriptionStateProto.SubscriptionState message = SnapshotMessage.write(sample());
        SubscriptionStateProto.SubscriptionState unspecified = message.toBuilder()
                .setTenants(
                        1,
                        message.getTenants(1).toBuilder()
                                .setApplications(
                                        0,
                                        message.getTenants(1).getApplications(0).toBuilder()
                                                .setState(SubscriptionStateProto.Application.State.STATE_UNSPECIFIED)))
                .build();
        SubscriptionSnapshot read = SnapshotMessage.read(unspecified);
        assertThat(read.unreadableTenants())
                .containsExactly(Map.entry("initech", "application app state: unknown value STATE_UNSPECIFIED"));
        assertUnavailable(read.decide("pub", AuthMode.APIKEY, "k1", NOW));
        assertThat(read.decide("pub", AuthMode.APIKEY, "k2", NOW))
                .as("the other tenant is decided from the new state")
                .isInstanceOfSatisfying(AccessDecision.Denied.class, d -> assertThat(d.reason())
                        .isEqualTo(DenyReason.APPLICATION_SUSPENDED));
        // a state a later release added arrives as a number this release cannot name
        SubscriptionStateProto.SubscriptionState later = message.toBuilder()
                .setTenants(
                        1,
                        message.getTenants(1).toBuilder()
                                .setSubscriptions(
                                        0,
                                        message.getTenants(1).getSubscriptions(0).toBuilder()
                                                .setStateValue(99)))
                .build();
        SubscriptionStateProto.SubscriptionState parsed = parse(later.toByteString());
        SubscriptionSnapshot laterRead = SnapshotMessage.read(parsed);
        assertThat(laterRead.unreadableTenants())
                .containsExactly(Map.entry("initech", "subscription s1 state: unknown value UNRECOGNIZED"));
        assertUnavailable(laterRead.decide("pub", AuthMode.APIKEY, "k1", NOW));
        // what the reader made of it travels on: a zone's replicas refuse the same tenant
        assertThat(SnapshotMessage.read(SnapshotMessage.write(laterRead)).unreadableTenants())
                .isEqualTo(laterRead.unreadableTenants());
    }

    private static void assertUnavailable(AccessDecision d) {
        assertThat(d).isInstanceOfSatisfying(AccessDecision.Denied.class, denied -> {
            assertThat(denied.reason()).isEqualTo(DenyReason.SUBSCRIPTION_STATE_UNAVAILABLE);
            assertThat(denied.detail()).contains("cannot be read");
        });
    }

    @Test
    void invalidLimitOrUnknownPublishValue_makesThatPlanOrPublishAloneUnreadable() {
        SubscriptionStateProto.SubscriptionState message = SnapshotMessage.write(sample());
        SubscriptionStateProto.SubscriptionState bad = message.toBuilder()
                .setPlans(
                        0,
                        message.getPlans(0).toBuilder()
                                .setLimits(message.getPlans(0).getLimits().toBuilder()
                                        .setRates(
                                                0,
                                                message.getPlans(0).getLimits().getRates(0).toBuilder()
                                                        .setRequests(0))))
                .build();
        SubscriptionSnapshot read = SnapshotMessage.read(bad);
        assertThat(read.shared().unreadablePlans()).containsExactly("free");
        assertUnavailable(read.decide("pub", AuthMode.APIKEY, "k1", NOW));

        SubscriptionStateProto.SubscriptionState laterPublish = message.toBuilder()
                .setPublishes(0, message.getPublishes(0).toBuilder().setEnvironmentValue(99))
                .build();
        SubscriptionSnapshot publishRead = SnapshotMessage.read(parse(laterPublish.toByteString()));
        assertThat(publishRead.shared().unreadablePublishes()).containsOnlyKeys("pub");
        assertThat(publishRead.shared().unreadablePublishes().get("pub"))
                .isEqualTo("publish pub environment: unknown value UNRECOGNIZED");
        assertUnavailable(publishRead.decide("pub", AuthMode.APIKEY, "k1", NOW));
    }

    @Test
    void resource_roundTrips_andAResourceOfAnotherType_orMalformedBytes_isRefusedWithTheReason() {
        Any resource = SnapshotMessage.resource(SubscriptionSnapshot.empty(5));
        assertThat(resource.getTypeUrl()).isEqualTo(SnapshotMessage.TYPE_URL);
        assertThat(SnapshotMessage.fromResource(resource).version()).isEqualTo(5L);

        // what a controller of the release before sent: the JSON snapshot in a Struct
        assertThatThrownBy(() -> SnapshotMessage.fromResource(Any.pack(Struct.getDefaultInstance())))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("resource type_url type.googleapis.com/google.protobuf.Struct, expected "
                        + SnapshotMessage.TYPE_URL);
        Any malformed = Any.newBuilder()
                .setTypeUrl(SnapshotMessage.TYPE_URL)
                .setValue(ByteString.copyFrom(new byte[] {(byte) 0x0a, (byte) 0xff, 0x01}))
                .build();
        assertThatThrownBy(() -> SnapshotMessage.fromResource(malformed))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("the resource is not a SubscriptionState message: ");
    }

    private static SubscriptionStateProto.SubscriptionState parse(ByteString bytes) {
        try {
            return SubscriptionStateProto.SubscriptionState.parseFrom(bytes);
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new AssertionError(e);
        }
    }
}
