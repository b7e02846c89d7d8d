package io.meshguard.catalogmodel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SubscriptionSnapshotTest {

    private static final Instant NOW = Instant.parse("2026-11-23T06:00:00Z");

    private final ProductPublish payments = publish("pub-1", AuthMode.APIKEY, PublishState.PUBLISHED);
    private final Plan free = plan("free", PlanState.PUBLISHED, Set.of(AuthMode.APIKEY));
    private final Application app = new Application("app-1", "acme", "Acme mobile", ApplicationState.ACTIVE);
    private final Credential key = apiKey("k1", CredentialState.ACTIVE, Optional.empty(), Optional.empty());

    @Test
    void activeSubscription_grants_withItsPlan() {
        AccessDecision d = snapshot(List.of(sub("s1", SubscriptionState.ACTIVE, "free")), List.of(key), List.of(free))
                .decide("pub-1", AuthMode.APIKEY, "k1", NOW);
        assertThat(d).isInstanceOfSatisfying(AccessDecision.Granted.class, g -> {
            assertThat(g.subscription().id()).isEqualTo("s1");
            assertThat(g.plan().name()).isEqualTo("free");
            assertThat(g.predecessor()).isFalse();
        });
    }

    @Test
    void eachRefusal_hasItsOwnReason() {
        assertDenied(snapshot(List.of(), List.of(key), List.of(free)), "k1", DenyReason.NO_SUBSCRIPTION);
        assertDenied(
                snapshot(List.of(sub("s1", SubscriptionState.PENDING, "free")), List.of(key), List.of(free)),
                "k1",
                DenyReason.SUBSCRIPTION_PENDING);
        assertDenied(
                snapshot(List.of(sub("s1", SubscriptionState.SUSPENDED, "free")), List.of(key), List.of(free)),
                "k1",
                DenyReason.SUBSCRIPTION_SUSPENDED);
        assertDenied(
                snapshot(List.of(sub("s1", SubscriptionState.CLOSED, "free")), List.of(key), List.of(free)),
                "k1",
                DenyReason.NO_SUBSCRIPTION);
        assertDenied(
                snapshot(List.of(sub("s1", SubscriptionState.REJECTED, "free")), List.of(key), List.of(free)),
                "k1",
                DenyReason.NO_SUBSCRIPTION);
        assertDenied(
                snapshot(
                        List.of(sub("s1", SubscriptionState.ACTIVE, "free")),
                        List.of(apiKey("k1", CredentialState.REVOKED, Optional.empty(), Optional.empty())),
                        List.of(free)),
                "k1",
                DenyReason.CREDENTIAL_REVOKED);
        assertDenied(
                snapshot(
                        List.of(sub("s1", SubscriptionState.ACTIVE, "free")),
                        List.of(apiKey("k1", CredentialState.ACTIVE, Optional.of(NOW), Optional.empty())),
                        List.of(free)),
                "k1",
                DenyReason.CREDENTIAL_EXPIRED);
        assertDenied(
                snapshot(
                        List.of(sub("s1", SubscriptionState.ACTIVE, "free")),
                        List.of(apiKey("k1", CredentialState.ROTATING, Optional.empty(), Optional.of(NOW))),
                        List.of(free)),
                "k1",
                DenyReason.CREDENTIAL_ROTATED_OUT);
        Plan closed = plan("free", PlanState.CLOSED, Set.of(AuthMode.APIKEY));
        assertDenied(
                snapshot(List.of(sub("s1", SubscriptionState.ACTIVE, "free")), List.of(key), List.of(closed)),
                "k1",
                DenyReason.PLAN_CLOSED);
        assertDenied(
                snapshot(List.of(sub("s1", SubscriptionState.ACTIVE, "free")), List.of(key), List.of(free)),
                "unknown-key",
                DenyReason.NO_SUBSCRIPTION);
    }

    @Test
    void subscriptionClosedWithItsPlan_answersPlanClosed_butOneTheCustomerClosedIsNoSubscription() {
        Plan closed = plan("free", PlanState.CLOSED, Set.of(AuthMode.APIKEY));
        assertDenied(
                snapshot(List.of(sub("s1", SubscriptionState.CLOSED, "free")), List.of(key), List.of(closed)),
                "k1",
                DenyReason.PLAN_CLOSED);
        assertDenied(
                snapshot(List.of(sub("s1", SubscriptionState.CLOSED, "free")), List.of(key), List.of(free)),
                "k1",
                DenyReason.NO_SUBSCRIPTION);
    }

    @Test
    void predecessorInsideItsOverlapWindow_stillGrants_andSaysSo() {
        Credential old =
                apiKey("k1", CredentialState.ROTATING, Optional.empty(), Optional.of(NOW.plus(Duration.ofHours(24))));
        AccessDecision d = snapshot(List.of(sub("s1", SubscriptionState.ACTIVE, "free")), List.of(old), List.of(free))
                .decide("pub-1", AuthMode.APIKEY, "k1", NOW);
        assertThat(d).isInstanceOfSatisfying(AccessDecision.Granted.class, g -> assertThat(g.predecessor())
                .isTrue());
    }

    @Test
    void suspendedApplication_deniesEvenWithActiveSubscription() {
        SubscriptionSnapshot s = new SubscriptionSnapshot(
                1,
                List.of(payments),
                List.of(free),
                List.of(new Application("app-1", "acme", "Acme", ApplicationState.SUSPENDED)),
                List.of(key),
                List.of(sub("s1", SubscriptionState.ACTIVE, "free")));
        assertDenied(s, "k1", DenyReason.APPLICATION_SUSPENDED);
    }

    @Test
    void oauthToken_onApiKeyPublish_isRefused_andTheSameIdAsApiKeyIsNotConfused() {
        SubscriptionSnapshot s =
                snapshot(List.of(sub("s1", SubscriptionState.ACTIVE, "free")), List.of(key), List.of(free));
        assertThat(s.decide("pub-1", AuthMode.OAUTH2, "k1", NOW))
                .isEqualTo(new AccessDecision.Denied(
                        DenyReason.AUTH_MODE_NOT_ALLOWED, "this product accepts apikey credentials"));
    }

    @Test
    void credentialScopedToOneSubscription_isNotUsableOnAnother() {
        ProductPublish other = publish("pub-2", AuthMode.APIKEY, PublishState.PUBLISHED);
        Credential scoped = new Credential(
                "k1",
                AuthMode.APIKEY,
                "app-1",
                CredentialState.ACTIVE,
                Optional.empty(),
                Optional.empty(),
                Set.of("s1"));
        SubscriptionSnapshot s = new SubscriptionSnapshot(
                1,
                List.of(payments, other),
                List.of(free),
                List.of(app),
                List.of(scoped),
                List.of(
                        sub("s1", SubscriptionState.ACTIVE, "free"),
                        new Subscription("s2", "app-1", "pub-2", "free", SubscriptionState.ACTIVE)));
        assertThat(s.decide("pub-1", AuthMode.APIKEY, "k1", NOW)).isInstanceOf(AccessDecision.Granted.class);
        assertThat(s.decide("pub-2", AuthMode.APIKEY, "k1", NOW))
                .isInstanceOfSatisfying(
                        AccessDecision.Denied.class, d -> assertThat(d.reason()).isEqualTo(DenyReason.NO_SUBSCRIPTION));
    }

    @Test
    void withdrawnPublish_deniesEveryone_andOpenPublishNeedsNoCredential() {
        SubscriptionSnapshot withdrawn = new SubscriptionSnapshot(
                1,
                List.of(publish("pub-1", AuthMode.APIKEY, PublishState.WITHDRAWN)),
                List.of(free),
                List.of(app),
                List.of(key),
                List.of(sub("s1", SubscriptionState.ACTIVE, "free")));
        assertDenied(withdrawn, "k1", DenyReason.NO_SUBSCRIPTION);
        SubscriptionSnapshot open = new SubscriptionSnapshot(
                1,
                List.of(publish("pub-1", AuthMode.NONE, PublishState.PUBLISHED)),
                List.of(),
                List.of(),
                List.of(),
                List.of());
        assertThat(open.decide("pub-1", AuthMode.APIKEY, "whatever", NOW)).isInstanceOf(AccessDecision.Open.class);
    }

    @Test
    void liveSubscription_winsOverAnOldSuspendedOne() {
        SubscriptionSnapshot s = snapshot(
                List.of(sub("old", SubscriptionState.SUSPENDED, "free"), sub("new", SubscriptionState.ACTIVE, "free")),
                List.of(key),
                List.of(free));
        assertThat(s.decide("pub-1", AuthMode.APIKEY, "k1", NOW))
                .isInstanceOfSatisfying(
                        AccessDecision.Granted.class,
                        g -> assertThat(g.subscription().id()).isEqualTo("new"));
    }

    @Test
    void snapshot_refusesDanglingOrDuplicateRows() {
        assertThatThrownBy(() ->
                        snapshot(List.of(sub("s1", SubscriptionState.ACTIVE, "gone")), List.of(key), List.of(free)))
                .hasMessageContaining("unknown plan gone");
        assertThatThrownBy(() -> snapshot(List.of(), List.of(key, key), List.of(free)))
                .hasMessageContaining("duplicate credential");
    }

    @Test
    void oneSnapshot_answersByTheTimeOfEachCheck_thoughItsAnswersAreWorkedOutWhenItIsMade() {
        Credential rotating =
                apiKey("k1", CredentialState.ROTATING, Optional.empty(), Optional.of(NOW.plus(Duration.ofHours(1))));
        Credential expiring = new Credential(
                "k2",
                AuthMode.APIKEY,
                "app-1",
                CredentialState.ACTIVE,
                Optional.of(NOW.plus(Duration.ofMinutes(5))),
                Optional.empty(),
                Set.of());
        SubscriptionSnapshot s = snapshot(
                List.of(sub("s1", SubscriptionState.ACTIVE, "free")), List.of(rotating, expiring), List.of(free));

        assertThat(s.decide("pub-1", AuthMode.APIKEY, "k1", NOW)).isInstanceOf(AccessDecision.Granted.class);
        assertThat(s.decide("pub-1", AuthMode.APIKEY, "k2", NOW)).isInstanceOf(AccessDecision.Granted.class);
        assertThat(s.decide("pub-1", AuthMode.APIKEY, "k1", NOW.plus(Duration.ofHours(1))))
                .isInstanceOfSatisfying(AccessDecision.Denied.class, d -> assertThat(d.reason())
                        .isEqualTo(DenyReason.CREDENTIAL_ROTATED_OUT));
        assertThat(s.decide("pub-1", AuthMode.APIKEY, "k2", NOW.plus(Duration.ofMinutes(5))))
                .isInstanceOfSatisfying(AccessDecision.Denied.class, d -> assertThat(d.reason())
                        .isEqualTo(DenyReason.CREDENTIAL_EXPIRED));
    }

    @Test
    void credentialOfAnApplicationSubscribedElsewhere_hasNoSubscriptionOnThisPublish() {
        ProductPublish other = publish("pub-2", AuthMode.APIKEY, PublishState.PUBLISHED);
        SubscriptionSnapshot s = new SubscriptionSnapshot(
                1,
                List.of(payments, other),
                List.of(free),
                List.of(app),
                List.of(key),
                List.of(sub("s1", SubscriptionState.ACTIVE, "free")));

        assertThat(s.decide("pub-1", AuthMode.APIKEY, "k1", NOW)).isInstanceOf(AccessDecision.Granted.class);
        assertThat(s.decide("pub-2", AuthMode.APIKEY, "k1", NOW))
                .isInstanceOfSatisfying(
                        AccessDecision.Denied.class, d -> assertThat(d.reason()).isEqualTo(DenyReason.NO_SUBSCRIPTION));
    }

    private void assertDenied(SubscriptionSnapshot s, String credential, DenyReason reason) {
        assertThat(s.decide("pub-1", AuthMode.APIKEY, credential, NOW))
                .isInstanceOfSatisfying(
                        AccessDecision.Denied.class, d -> assertThat(d.reason()).isEqualTo(reason));
    }

    private SubscriptionSnapshot snapshot(List<Subscription> subs, List<Credential> creds, List<Plan> plans) {
        return new SubscriptionSnapshot(7, List.of(payments), new ArrayList<>(plans), List.of(app), creds, subs);
    }

    private static Subscription sub(String id, SubscriptionState state, String plan) {
        return new Subscription(id, "app-1", "pub-1", plan, state);
    }

    private static Credential apiKey(
            String id, CredentialState state, Optional<Instant> expires, Optional<Instant> overlapEnds) {
        return new Credential(id, AuthMode.APIKEY, "app-1", state, expires, overlapEnds, Set.of());
    }

    private static Plan plan(String name, PlanState state, Set<AuthMode> modes) {
        return new Plan(name, "payments", name, state, PlanLimits.NONE, Map.of(), Plan.Approval.AUTO, modes);
    }

    private static ProductPublish publish(String id, AuthMode mode, PublishState state) {
        return new ProductPublish(
                id,
                "payments",
                "local",
                Environment.DEV,
                mode,
                state,
                PublishHost.of("payments", Environment.DEV, "local", "example.test"));
    }
}
