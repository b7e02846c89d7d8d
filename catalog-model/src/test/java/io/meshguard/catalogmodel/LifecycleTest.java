package io.meshguard.catalogmodel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class LifecycleTest {

    @Test
    void subscription_movesExactlyAsDocumented() {
        Map<SubscriptionState, Set<SubscriptionState>> expected = Map.of(
                SubscriptionState.PENDING,
                        EnumSet.of(SubscriptionState.ACTIVE, SubscriptionState.REJECTED, SubscriptionState.CLOSED),
                SubscriptionState.ACTIVE, EnumSet.of(SubscriptionState.SUSPENDED, SubscriptionState.CLOSED),
                SubscriptionState.SUSPENDED, EnumSet.of(SubscriptionState.ACTIVE, SubscriptionState.CLOSED),
                SubscriptionState.CLOSED, EnumSet.noneOf(SubscriptionState.class),
                SubscriptionState.REJECTED, EnumSet.noneOf(SubscriptionState.class));
        for (SubscriptionState from : SubscriptionState.values()) {
            for (SubscriptionState to : SubscriptionState.values()) {
                assertThat(SubscriptionState.LIFECYCLE.allows(from, to))
                        .as("%s -> %s", from, to)
                        .isEqualTo(expected.get(from).contains(to));
            }
        }
    }

    @Test
    void finalStates_refuseEveryMove_namingTheEntity() {
        assertThatThrownBy(() -> PlanState.LIFECYCLE.move(PlanState.CLOSED, PlanState.PUBLISHED))
                .isInstanceOf(TransitionRefused.class)
                .hasMessage("plan cannot move from closed to published (closed is final)");
        assertThatThrownBy(() -> ProductState.LIFECYCLE.move(ProductState.RETIRED, ProductState.PUBLISHED))
                .isInstanceOf(TransitionRefused.class);
        assertThat(CredentialState.LIFECYCLE.movesFrom(CredentialState.REVOKED)).isEmpty();
        assertThat(CredentialState.LIFECYCLE.movesFrom(CredentialState.EXPIRED)).isEmpty();
    }

    @Test
    void refusedMove_listsWhatIsAllowedInstead() {
        assertThatThrownBy(() -> SubscriptionState.LIFECYCLE.move(SubscriptionState.ACTIVE, SubscriptionState.PENDING))
                .hasMessage("subscription cannot move from active to pending; from active it may move to"
                        + " [closed, suspended]");
    }

    @Test
    void rotatedCredential_cannotBecomeActiveAgain() {
        assertThat(CredentialState.LIFECYCLE.allows(CredentialState.ROTATING, CredentialState.ACTIVE))
                .isFalse();
        assertThat(CredentialState.LIFECYCLE.allows(CredentialState.ACTIVE, CredentialState.ROTATING))
                .isTrue();
    }

    @Test
    void deprecatedPlan_takesNoNewSubscriptions_butMayBePublishedAgain() {
        assertThat(PlanState.DEPRECATED.acceptsSubscriptions()).isFalse();
        assertThat(PlanState.STAGING.acceptsSubscriptions()).isFalse();
        assertThat(PlanState.PUBLISHED.acceptsSubscriptions()).isTrue();
        assertThat(PlanState.LIFECYCLE.move(PlanState.DEPRECATED, PlanState.PUBLISHED))
                .isEqualTo(PlanState.PUBLISHED);
    }

    @Test
    void subscription_changesPlan_onlyWhileLive() {
        Subscription active = new Subscription("s1", "app", "pub", "free", SubscriptionState.ACTIVE);
        assertThat(active.onPlan("premium").planId()).isEqualTo("premium");
        assertThat(active.onPlan("premium").id()).isEqualTo("s1");
        Subscription closed = active.moveTo(SubscriptionState.CLOSED);
        assertThatThrownBy(() -> closed.onPlan("premium")).isInstanceOf(TransitionRefused.class);
    }
}
