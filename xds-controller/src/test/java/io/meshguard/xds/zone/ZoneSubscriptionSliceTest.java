package io.meshguard.xds.zone;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.catalogmodel.AccessDecision;
import io.meshguard.catalogmodel.Application;
import io.meshguard.catalogmodel.ApplicationState;
import io.meshguard.catalogmodel.AuthMode;
import io.meshguard.catalogmodel.Credential;
import io.meshguard.catalogmodel.CredentialState;
import io.meshguard.catalogmodel.DenyReason;
import io.meshguard.catalogmodel.Environment;
import io.meshguard.catalogmodel.Plan;
import io.meshguard.catalogmodel.PlanState;
import io.meshguard.catalogmodel.ProductPublish;
import io.meshguard.catalogmodel.PublishHost;
import io.meshguard.catalogmodel.PublishState;
import io.meshguard.catalogmodel.Subscription;
import io.meshguard.catalogmodel.SubscriptionSnapshot;
import io.meshguard.catalogmodel.SubscriptionState;
import io.meshguard.testing.CatalogSamples;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * A zone receives its own cluster's part of the subscription state only: another cluster's customers, subscriptions
 * and credential ids never reach it (nor its claim), and its cluster's routes decide as from the whole state.
 */
class ZoneSubscriptionSliceTest {
    private static final Instant NOW = Instant.parse("2026-11-25T12:00:00Z");

    private static ProductPublish publish(String id, String product, String cluster) {
        return new ProductPublish(
                id,
                product,
                cluster,
                Environment.DEV,
                AuthMode.APIKEY,
                PublishState.PUBLISHED,
                PublishHost.of(product, Environment.DEV, cluster, "bank.test"));
    }

    private static Plan plan(String id, String product) {
        return CatalogSamples.freePlan(id, product, PlanState.PUBLISHED);
    }

    private static Credential key(String id, String application) {
        return new Credential(
                id, AuthMode.APIKEY, application, CredentialState.ACTIVE, Optional.empty(), Optional.empty(), Set.of());
    }

    /** Payments on seoul (initech subscribed), FX on frankfurt (globex subscribed, initech too). */
    private static final SubscriptionSnapshot WHOLE = new SubscriptionSnapshot(
            7,
            List.of(publish("payments-dev-seoul", "payments", "seoul"), publish("fx-dev-frankfurt", "fx", "frankfurt")),
            List.of(plan("payments-free", "payments"), plan("fx-free", "fx")),
            List.of(
                    new Application("initech-app", "initech", "App", ApplicationState.ACTIVE),
                    new Application("globex-app", "globex", "App", ApplicationState.ACTIVE)),
            List.of(key("initech-key", "initech-app"), key("globex-key", "globex-app")),
            List.of(
                    new Subscription(
                            "s1", "initech-app", "payments-dev-seoul", "payments-free", SubscriptionState.ACTIVE),
                    new Subscription("s2", "globex-app", "fx-dev-frankfurt", "fx-free", SubscriptionState.ACTIVE),
                    new Subscription("s3", "initech-app", "fx-dev-frankfurt", "fx-free", SubscriptionState.SUSPENDED)));

    @Test
    void seoulsSlice_holdsSeoulsPublishAndItsCustomersOnly_underCentralsVersion() {
        SubscriptionSnapshot seoul = ZoneSubscriptionSlice.of(WHOLE, "seoul");

        assertThat(seoul.version()).isEqualTo(7);
        assertThat(seoul.publishes()).extracting(ProductPublish::id).containsExactly("payments-dev-seoul");
        assertThat(seoul.plans()).extracting(Plan::id).containsExactly("payments-free");
        assertThat(seoul.subscriptions()).extracting(Subscription::id).containsExactly("s1");
        assertThat(seoul.applications()).extracting(Application::id).containsExactly("initech-app");
        assertThat(seoul.credentials()).extracting(Credential::id).containsExactly("initech-key");
    }

    @Test
    void seoulsRoutes_decideAsFromTheWholeState_andFrankfurtsAreNotPublishedThere() {
        SubscriptionSnapshot seoul = ZoneSubscriptionSlice.of(WHOLE, "seoul");

        assertThat(seoul.decide("payments-dev-seoul", AuthMode.APIKEY, "initech-key", NOW))
                .isEqualTo(WHOLE.decide("payments-dev-seoul", AuthMode.APIKEY, "initech-key", NOW))
                .isInstanceOf(AccessDecision.Granted.class);
        // globex has no subscription on seoul: refused alike (the slice does not know globex's application at all)
        assertThat(((AccessDecision.Denied) seoul.decide("payments-dev-seoul", AuthMode.APIKEY, "globex-key", NOW))
                        .reason())
                .isEqualTo(
                        ((AccessDecision.Denied) WHOLE.decide("payments-dev-seoul", AuthMode.APIKEY, "globex-key", NOW))
                                .reason())
                .isEqualTo(DenyReason.NO_SUBSCRIPTION);
        assertThat(seoul.decide("fx-dev-frankfurt", AuthMode.APIKEY, "globex-key", NOW))
                .isEqualTo(new AccessDecision.Denied(DenyReason.NO_SUBSCRIPTION, "product is not published here"));
    }

    @Test
    void aPublishCentralCannotRead_isRefusedOnTheZoneAsUnreadable_withoutItsTenantOrRow() {
        SubscriptionSnapshot whole = WHOLE.with(
                8,
                Optional.of(new io.meshguard.catalogmodel.SharedCatalog(
                        List.of(publish("fx-dev-frankfurt", "fx", "frankfurt")),
                        List.of(plan("fx-free", "fx")),
                        Map.of("payments-dev-seoul", "tenant acme: plan payments-free: No enum constant ARCHIVED"),
                        Set.of("payments-free"))),
                Map.of());

        SubscriptionSnapshot seoul = ZoneSubscriptionSlice.of(whole, "seoul");

        assertThat(seoul.decide("payments-dev-seoul", AuthMode.APIKEY, "initech-key", NOW))
                .isInstanceOfSatisfying(AccessDecision.Denied.class, d -> assertThat(d.reason())
                        .isEqualTo(DenyReason.SUBSCRIPTION_STATE_UNAVAILABLE));
        assertThat(seoul.shared().unreadablePublishes())
                .containsExactly(Map.entry("payments-dev-seoul", "unreadable at central"));
        // and so it stays on the zone stream
        assertThat(io.meshguard.catalog.SnapshotMessage.read(
                                ZoneSubscriptionSlice.wire(whole, "seoul").getState())
                        .decide("payments-dev-seoul", AuthMode.APIKEY, "initech-key", NOW))
                .isInstanceOfSatisfying(AccessDecision.Denied.class, d -> assertThat(d.reason())
                        .isEqualTo(DenyReason.SUBSCRIPTION_STATE_UNAVAILABLE));
    }

    @Test
    void aClusterWithoutPublishes_getsAnEmptyState() {
        SubscriptionSnapshot tokyo = ZoneSubscriptionSlice.of(WHOLE, "tokyo");

        assertThat(tokyo.sameContentAs(SubscriptionSnapshot.empty(1))).isTrue();
    }
}
