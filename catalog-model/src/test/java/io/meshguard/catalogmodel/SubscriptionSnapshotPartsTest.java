package io.meshguard.catalogmodel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** {@link SubscriptionSnapshot#with}: a change swaps whole tenants' parts in, shares the rest, and refuses whole. */
class SubscriptionSnapshotPartsTest {
    private static final Instant NOW = Instant.parse("2026-11-26T06:00:00Z");

    private final SharedCatalog offer = new SharedCatalog(
            List.of(new ProductPublish(
                    "pub-1",
                    "prod",
                    "local",
                    Environment.DEV,
                    AuthMode.APIKEY,
                    PublishState.PUBLISHED,
                    new PublishHost("example.test"))),
            List.of(new Plan(
                    "free",
                    "prod",
                    "free",
                    PlanState.PUBLISHED,
                    PlanLimits.NONE,
                    Map.of(),
                    Plan.Approval.AUTO,
                    Set.of(AuthMode.APIKEY))));

    @Test
    void with_replacesOneTenant_andSharesEveryOtherTenantsPart() {
        SubscriptionSnapshot before = new SubscriptionSnapshot(
                1,
                offer,
                List.of(
                        tenant("acme", "k-acme", SubscriptionState.ACTIVE),
                        tenant("globex", "k-globex", SubscriptionState.ACTIVE)));
        SubscriptionSnapshot after = before.with(
                2,
                Optional.empty(),
                Map.of("acme", Optional.of(tenant("acme", "k-acme", SubscriptionState.SUSPENDED))));

        assertThat(after.version()).isEqualTo(2);
        assertThat(after.tenants().get("globex")).isSameAs(before.tenants().get("globex"));
        assertThat(after.shared()).isSameAs(before.shared());
        assertThat(reason(after, "k-acme")).contains(DenyReason.SUBSCRIPTION_SUSPENDED);
        assertThat(reason(after, "k-globex")).isEmpty();
        assertThat(reason(before, "k-acme"))
                .as("the previous snapshot is unchanged")
                .isEmpty();
    }

    @Test
    void with_removingATenant_deniesItsCredentials() {
        SubscriptionSnapshot before =
                new SubscriptionSnapshot(1, offer, List.of(tenant("acme", "k-acme", SubscriptionState.ACTIVE)));
        SubscriptionSnapshot after = before.with(2, Optional.empty(), Map.of("acme", Optional.empty()));

        assertThat(after.tenants()).isEmpty();
        assertThat(reason(after, "k-acme")).contains(DenyReason.NO_SUBSCRIPTION);
    }

    @Test
    void with_aCredentialMovingBetweenTwoChangedTenants_isNoDuplicate_butOneHeldTwiceIsRefused() {
        SubscriptionSnapshot before = new SubscriptionSnapshot(
                1,
                offer,
                List.of(
                        tenant("acme", "k-1", SubscriptionState.ACTIVE),
                        tenant("globex", "k-2", SubscriptionState.ACTIVE)));
        SubscriptionSnapshot swapped = before.with(
                2,
                Optional.empty(),
                Map.of(
                        "acme", Optional.of(tenant("acme", "k-2", SubscriptionState.ACTIVE)),
                        "globex", Optional.of(tenant("globex", "k-1", SubscriptionState.SUSPENDED))));
        assertThat(reason(swapped, "k-1")).contains(DenyReason.SUBSCRIPTION_SUSPENDED);
        assertThat(reason(swapped, "k-2")).isEmpty();

        assertThatThrownBy(() -> before.with(
                        3,
                        Optional.empty(),
                        Map.of("acme", Optional.of(tenant("acme", "k-2", SubscriptionState.ACTIVE)))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("duplicate credential APIKEY/k-2 in tenants globex and acme");
    }

    @Test
    void with_sharedWithoutAPlanATenantNames_isRefused() {
        SubscriptionSnapshot before =
                new SubscriptionSnapshot(1, offer, List.of(tenant("acme", "k-acme", SubscriptionState.ACTIVE)));
        assertThatThrownBy(() -> before.with(2, Optional.of(new SharedCatalog(offer.publishes(), List.of())), Map.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("subscription acme-sub names unknown plan free");
    }

    private static Optional<DenyReason> reason(SubscriptionSnapshot s, String key) {
        AccessDecision d = s.decide("pub-1", AuthMode.APIKEY, key, NOW);
        return d instanceof AccessDecision.Denied denied ? Optional.of(denied.reason()) : Optional.empty();
    }

    private static TenantHoldings tenant(String tenant, String key, SubscriptionState state) {
        String app = tenant + "-app";
        return new TenantHoldings(
                tenant,
                List.of(new Application(app, tenant, "App", ApplicationState.ACTIVE)),
                List.of(new Credential(
                        key,
                        AuthMode.APIKEY,
                        app,
                        CredentialState.ACTIVE,
                        Optional.empty(),
                        Optional.empty(),
                        Set.of())),
                List.of(new Subscription(tenant + "-sub", app, "pub-1", "free", state)));
    }
}
